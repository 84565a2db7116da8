"""Where data lives: the data home and its layout.

``<home>/raw/<owner>-<repo>/<file>``: verified upstream files (the download cache).
``<home>/built/<benchmark>/<version>/``: built Parquet files and dataset card.
``<home>/features/<benchmark>/<version>/``: the feature store (``var-bench build``), kept apart so
rebuilding the metadata never deletes hours of feature conversion.
The home is ``--home``, else ``$VAR_BENCH_HOME``, else the per-user cache folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from var_bench.benchmarks import BenchmarkSpec

HOME_ENV = "VAR_BENCH_HOME"


def data_home(home: str | os.PathLike | None = None) -> Path:
    """The data home: ``home``, else ``$VAR_BENCH_HOME``, else e.g. ``~/.cache/var-bench``."""
    chosen = home or os.environ.get(HOME_ENV) or platformdirs.user_cache_dir("var-bench")
    return Path(chosen).expanduser()


def raw_dir(home: str | os.PathLike | None = None) -> Path:
    """Folder of verified upstream files, laid out like a mirror."""
    return data_home(home) / "raw"


def built_dir(spec: BenchmarkSpec, home: str | os.PathLike | None = None) -> Path:
    """Folder of one benchmark's built dataset (Parquet + README.md card + manifest)."""
    return data_home(home) / "built" / spec.name / spec.version


def features_dir(spec: BenchmarkSpec, home: str | os.PathLike | None = None) -> Path:
    """Folder of one benchmark's feature store (Parquet shards + card + manifest)."""
    return data_home(home) / "features" / spec.name / spec.version
