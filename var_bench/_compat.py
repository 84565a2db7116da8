"""Old import paths of the 0.1 layout, kept working for one release with a DeprecationWarning.

``import var_bench.alan_ref`` (or any module below an old path) gives the module at its new path;
the same module object, so classes and registries are shared. Installed by ``var_bench/__init__``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings

#: Old module path prefix -> new one (longest prefix wins).
MOVED: dict[str, str] = {
    "var_bench.alan_ref": "var_bench.models.alan",
    "var_bench.baselines": "var_bench.models.baselines",
    "var_bench.torchdata.arrowview": "var_bench.features.arrowview",
    "var_bench.torchdata.collate": "var_bench.loaders.batching",
    "var_bench.torchdata": "var_bench.loaders",
    "var_bench.sources": "var_bench.benchmarks.sources",
    "var_bench.build": "var_bench.data.assembly",
    "var_bench.splitinfo": "var_bench.data.splits",
    "var_bench.paths": "var_bench.data.paths",
    "var_bench.info": "var_bench.data.info",
    "var_bench.matrix": "var_bench.tasks.retrieval.matrix",
    "var_bench.metrics": "var_bench.scoring.metrics",
    "var_bench.breakdown": "var_bench.scoring.stats.breakdown",
    "var_bench.records": "var_bench.scoring.record",
    "var_bench.submission": "var_bench.tasks.retrieval.submission",
    "var_bench.adapters": "var_bench.leaderboard.adapters",
    "var_bench.training.base": "var_bench.models.base",
    "var_bench.training.registry": "var_bench.models.registry",
    "var_bench.training.modules": "var_bench.models.modules",
    "var_bench.training.losses": "var_bench.models.losses",
    "var_bench.training.text": "var_bench.models.text",
}
_ORDER = sorted(MOVED, key=len, reverse=True)


def new_name(old: str) -> str | None:
    """The current path of module ``old``, or None if it did not move."""
    for prefix in _ORDER:
        if old == prefix or old.startswith(prefix + "."):
            return MOVED[prefix] + old[len(prefix):]
    return None


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        # The import system set the alias spec on the real module: give it back its own.
        module.__spec__ = self.real_spec


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = new_name(fullname)
        if new is None:
            return None
        warnings.warn(f"{fullname} moved to {new}; the old path goes away in the next release",
                      DeprecationWarning, stacklevel=3)
        real = importlib.util.find_spec(new)
        spec = importlib.machinery.ModuleSpec(fullname, _Alias(new),
                                              is_package=bool(real and real.submodule_search_locations))
        return spec


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())


class _CallableBenchmarks(types.ModuleType):
    """``var_bench.benchmarks()`` (0.1's listing function) keeps working for one release."""

    def __call__(self) -> list[str]:
        warnings.warn("var_bench.benchmarks() is deprecated: use var_bench.list_benchmarks()",
                      DeprecationWarning, stacklevel=2)
        return self.list_benchmarks()


def make_benchmarks_callable(module_name: str) -> None:
    """Let the package ``module_name`` (``var_bench.benchmarks``) be called as 0.1's function."""
    sys.modules[module_name].__class__ = _CallableBenchmarks
