"""The benchmarks: each one a unit (spec, pinned sources, split rule and checksums, column schema,
raw feature layouts, published table), reached through its :class:`BenchmarkSpec`.

Generic code never keys on a benchmark's name: the public entry points resolve a name once with
:func:`get_benchmark` and pass the spec on. A third benchmark is one new unit plus one line in
:data:`registry.BUILTIN` (or a :func:`register_benchmark` call).
"""

from var_bench.benchmarks.registry import (  # noqa: F401
    BENCHMARKS,
    all_sources,
    get_benchmark,
    list_benchmarks,
    register_benchmark,
    source,
    unregister_benchmark,
)
from var_bench.benchmarks.spec import (  # noqa: F401
    DEFAULT_SNIPPET_FRAMES,
    SPLITS,
    BenchmarkSpec,
    ColumnSpec,
    Direction,
    Layout,
)

UCFCRIME_AR = get_benchmark("ucfcrime-ar")
XDVIOLENCE_AR = get_benchmark("xdviolence-ar")

__all__ = ["BENCHMARKS", "DEFAULT_SNIPPET_FRAMES", "SPLITS", "UCFCRIME_AR", "XDVIOLENCE_AR",
           "BenchmarkSpec", "ColumnSpec", "Direction", "Layout", "all_sources", "get_benchmark",
           "list_benchmarks", "register_benchmark", "source", "unregister_benchmark"]


class _CallablePackage(__import__("types").ModuleType):
    """``var_bench.benchmarks()`` (0.1's listing function) keeps working for one release."""

    def __call__(self) -> list[str]:
        import warnings

        warnings.warn("var_bench.benchmarks() is deprecated: use var_bench.list_benchmarks()",
                      DeprecationWarning, stacklevel=2)
        return list_benchmarks()


__import__("sys").modules[__name__].__class__ = _CallablePackage
