"""The ``var-bench`` command line: a thin layer over the library (one module per command group)."""

from var_bench.cli import (
    data,  # noqa: F401  (registers download, ids, info)
    extract,  # noqa: F401  (registers extract)
    features,  # noqa: F401  (registers build)
    h5,  # noqa: F401  (registers export-h5, import-h5)
    integrity,  # noqa: F401  (registers audit, contamination, verify-videos)
    leaderboard,  # noqa: F401  (registers leaderboard, export)
    models,  # noqa: F401  (registers train, evaluate)
    moments,  # noqa: F401  (registers the moments group: train, predict)
    report,  # noqa: F401  (registers report)
    reproduce,  # noqa: F401  (registers reproduce, sweep)
    scoring,  # noqa: F401  (registers score, compare)
    search,  # noqa: F401  (registers index, search)
    synth,  # noqa: F401  (registers synth)
    weights,  # noqa: F401  (registers the weights group: list, fetch)
    zeroshot,  # noqa: F401  (registers zeroshot)
)
from var_bench.cli.base import cli, main

__all__ = ["cli", "main"]
