"""The ``var-bench`` command line: a thin layer over the library (one module per command group)."""

from var_bench.cli import data  # noqa: F401  (registers download, ids, info)
from var_bench.cli import scoring  # noqa: F401  (registers score, compare)
from var_bench.cli import leaderboard  # noqa: F401  (registers leaderboard, export)
from var_bench.cli import models  # noqa: F401  (registers train, evaluate)
from var_bench.cli import synth  # noqa: F401  (registers synth)
from var_bench.cli import h5  # noqa: F401  (registers export-h5, import-h5)
from var_bench.cli import report  # noqa: F401  (registers report)
from var_bench.cli import features  # noqa: F401  (registers build)
from var_bench.cli import reproduce  # noqa: F401  (registers reproduce, sweep)
from var_bench.cli import extract  # noqa: F401  (registers extract)
from var_bench.cli import weights  # noqa: F401  (registers the weights group: list, fetch)
from var_bench.cli import search  # noqa: F401  (registers index, search)
from var_bench.cli.base import cli, main

__all__ = ["cli", "main"]
