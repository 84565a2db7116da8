"""The benchmark registry: name -> :class:`BenchmarkSpec`.

Adding a benchmark = one new unit (a package declaring ``SPEC``) plus one line in
:data:`BUILTIN` - or, from outside, one :func:`register_benchmark` call.
"""

from __future__ import annotations

from typing import Mapping

from var_bench.benchmarks import ucfcrime_ar, xdviolence_ar
from var_bench.benchmarks.sources import SourceFile
from var_bench.benchmarks.spec import BenchmarkSpec
from var_bench.errors import InputError

#: The built-in benchmarks, in display order.
BUILTIN: tuple[BenchmarkSpec, ...] = (ucfcrime_ar.SPEC, xdviolence_ar.SPEC)
UCFCRIME_AR: BenchmarkSpec = ucfcrime_ar.SPEC
XDVIOLENCE_AR: BenchmarkSpec = xdviolence_ar.SPEC

_REGISTRY: dict[str, BenchmarkSpec] = {b.name: b for b in BUILTIN}
#: Read-only view of the registered benchmarks (it follows :func:`register_benchmark`).


class _View(Mapping[str, BenchmarkSpec]):
    def __getitem__(self, key: str) -> BenchmarkSpec:
        return _REGISTRY[key]

    def __iter__(self):
        return iter(_REGISTRY)

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return f"BENCHMARKS({list(_REGISTRY)})"


#: Read-only view of the registered benchmarks (it follows :func:`register_benchmark`).
BENCHMARKS: Mapping[str, BenchmarkSpec] = _View()


def _key(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def register_benchmark(spec: BenchmarkSpec, *, replace: bool = False) -> BenchmarkSpec:
    """Make ``spec`` known by its name; a second, different spec under one name is refused."""
    key = _key(spec.name)
    if key != spec.name:
        raise InputError(f"benchmark name: expected lowercase with '-' (e.g. {key!r}), got {spec.name!r}")
    old = _REGISTRY.get(key)
    if old is not None and old is not spec and not replace:
        raise InputError(f"benchmark {key!r} is already registered")
    _REGISTRY[key] = spec
    return spec


def unregister_benchmark(name: str) -> None:
    """Forget a registered benchmark (tests; a built-in cannot be removed)."""
    key = _key(name)
    if any(b.name == key for b in BUILTIN):
        raise InputError(f"benchmark {key!r} is built in and cannot be unregistered")
    _REGISTRY.pop(key, None)


def list_benchmarks() -> list[str]:
    """Names of the available benchmarks."""
    return list(_REGISTRY)


def get_benchmark(name: str | BenchmarkSpec) -> BenchmarkSpec:
    """The spec for ``name`` (case-insensitive; ``_`` and ``-`` are interchangeable)."""
    if isinstance(name, BenchmarkSpec):
        return name
    try:
        return _REGISTRY[_key(name)]
    except KeyError:
        raise InputError(
            f"unknown benchmark: expected one of {', '.join(_REGISTRY)}, got {name!r}"
        ) from None


def all_sources() -> tuple[SourceFile, ...]:
    """Every pinned upstream file of the registered benchmarks (each once)."""
    return tuple(dict.fromkeys(s for b in _REGISTRY.values() for s in b.sources.values()))


def source(key: str | SourceFile) -> SourceFile:
    """The pinned file with this ``<owner>-<repo>/<file name>`` key (a file is returned as is)."""
    if isinstance(key, SourceFile):
        return key
    for s in all_sources():
        if s.key == key:
            return s
    raise InputError(f"unknown source file: expected one of {sorted(s.key for s in all_sources())}, "
                     f"got {key!r}")
