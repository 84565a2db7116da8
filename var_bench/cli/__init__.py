"""The ``var-bench`` command line: a thin layer over the library (one module per command group)."""

from . import data  # noqa: F401  (registers download, ids, info)
from . import scoring  # noqa: F401  (registers score, compare)
from . import leaderboard  # noqa: F401  (registers leaderboard, export)
from . import models  # noqa: F401  (registers train, evaluate)
from . import synth  # noqa: F401  (registers synth)
from . import h5  # noqa: F401  (registers export-h5, import-h5)
from . import features  # noqa: F401  (registers build)
from .base import cli, main

__all__ = ["cli", "main"]
