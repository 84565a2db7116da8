"""The benchmarks: each one a unit (spec, pinned sources, split rule and checksums, column schema,
raw feature layouts, published table), reached through its :class:`BenchmarkSpec`.

Generic code never keys on a benchmark's name: the public entry points resolve a name once with
:func:`get_benchmark` and pass the spec on. A third benchmark is one new unit plus one line in
:data:`registry.BUILTIN` (or a :func:`register_benchmark` call).
"""

from var_bench.benchmarks.registry import (  # noqa: F401
    BENCHMARKS,
    UCFCRIME_AR,
    XDVIOLENCE_AR,
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
    Layout,
    VideoCollection,
)

__all__ = [
    "BENCHMARKS",
    "DEFAULT_SNIPPET_FRAMES",
    "SPLITS",
    "UCFCRIME_AR",
    "XDVIOLENCE_AR",
    "BenchmarkSpec",
    "ColumnSpec",
    "Layout",
    "VideoCollection",
    "all_sources",
    "get_benchmark",
    "list_benchmarks",
    "register_benchmark",
    "source",
    "unregister_benchmark",
]
