"""The benchmark registry: name -> :class:`BenchmarkSpec`.

Adding a benchmark = one new unit (a folder declaring ``SPEC``) plus one line in :data:`BUILTIN`,
or, from another package, one :func:`register_benchmark` call in a module named by the
:data:`ENTRY_POINT_GROUP` entry-point group.
"""

from __future__ import annotations

from var_bench.benchmarks import uca, ucfcrime_ar, xdviolence_ar
from var_bench.benchmarks.sources import SourceFile
from var_bench.benchmarks.spec import BenchmarkSpec
from var_bench.errors import InputError
from var_bench.registry import Registry

#: The built-in benchmarks, in display order.
BUILTIN: tuple[BenchmarkSpec, ...] = (ucfcrime_ar.SPEC, xdviolence_ar.SPEC, uca.SPEC)
UCFCRIME_AR: BenchmarkSpec = ucfcrime_ar.SPEC
XDVIOLENCE_AR: BenchmarkSpec = xdviolence_ar.SPEC

#: Entry-point group through which other packages add benchmarks (a module calling
#: :func:`register_benchmark`).
ENTRY_POINT_GROUP = "var_bench.benchmarks"
#: The registered benchmarks (a read-only mapping that follows :func:`register_benchmark`).
BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark", ENTRY_POINT_GROUP)
for _spec in BUILTIN:
    BENCHMARKS.register(_spec.name, _spec, builtin=True)


def register_benchmark(spec: BenchmarkSpec, *, replace: bool = False) -> BenchmarkSpec:
    """Make ``spec`` known by its name (every command and function then takes it).

    Args:
        spec: the benchmark (its name lowercase with ``-``).
        replace: allow replacing another spec of that name.

    Returns:
        ``spec``.

    Raises:
        InputError: a name in another spelling, or taken by a different spec.

    Example:
        >>> from dataclasses import replace as copy
        >>> spec = register_benchmark(copy(UCFCRIME_AR, name="ucfcrime-ar-copy"))
        >>> "ucfcrime-ar-copy" in list_benchmarks()
        True
        >>> unregister_benchmark("ucfcrime-ar-copy")
    """
    return BENCHMARKS.register(spec.name, spec, replace=replace)


def unregister_benchmark(name: str) -> None:
    """Forget a registered benchmark (tests; a built-in cannot be removed)."""
    BENCHMARKS.unregister(name)


def list_benchmarks() -> list[str]:
    """Names of the registered benchmarks (built-ins first, then plug-ins and registrations).

    Example:
        >>> list_benchmarks()[:2]
        ['ucfcrime-ar', 'xdviolence-ar']
    """
    return BENCHMARKS.names()


def get_benchmark(name: str | BenchmarkSpec) -> BenchmarkSpec:
    """The spec of a benchmark.

    Args:
        name: its name (case-insensitive; ``_`` and ``-`` are interchangeable), or a spec
            (returned as it is).

    Returns:
        The :class:`BenchmarkSpec`.

    Raises:
        InputError: no such benchmark (the message lists the registered ones).

    Example:
        >>> spec = get_benchmark("UCFCrime_AR")
        >>> spec.name, spec.task().main_score
        ('ucfcrime-ar', 'SumR')
    """
    if isinstance(name, BenchmarkSpec):
        return name
    return BENCHMARKS.lookup(name)


def all_sources() -> tuple[SourceFile, ...]:
    """Every pinned upstream file of the registered benchmarks (each once)."""
    return tuple(dict.fromkeys(s for b in BENCHMARKS.values() for s in b.sources.values()))


def source(key: str | SourceFile) -> SourceFile:
    """The pinned file with this ``<owner>-<repo>/<file name>`` key (a file is returned as is)."""
    if isinstance(key, SourceFile):
        return key
    for s in all_sources():
        if s.key == key:
            return s
    raise InputError(
        f"unknown source file: expected one of {sorted(s.key for s in all_sources())}, got {key!r}"
    )
