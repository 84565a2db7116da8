"""The ``var-bench`` command line: a thin layer over the library (one module per command group)."""

from . import data  # noqa: F401  (registers download, ids, info)
from . import scoring  # noqa: F401  (registers score, compare)
from . import leaderboard  # noqa: F401  (registers leaderboard, export)
from .base import cli, main

__all__ = ["cli", "main"]
