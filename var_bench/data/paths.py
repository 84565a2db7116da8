"""Where data lives: the data home and its layout.

``<home>/raw/<owner>-<repo>/<file>``: verified upstream files (the download cache).
``<home>/built/<benchmark>/<version>/``: built Parquet files and dataset card.
``<home>/features/<collection>/``: the feature store (``var-bench build``) of one video collection
(``ucf-crime``, ``xd-violence``), kept apart so rebuilding the metadata never deletes hours of
feature conversion, and keyed by the videos, not the benchmark, so every benchmark over the same
videos reads the one store.
The home is ``--home``, else ``$VAR_BENCH_HOME``, else the per-user cache folder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

from var_bench.benchmarks import BENCHMARKS, BenchmarkSpec

log = logging.getLogger(__name__)

HOME_ENV = "VAR_BENCH_HOME"
#: Old feature-store places already reported in this process (each is said once).
_SAID: set[Path] = set()


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
    """Folder of the feature store ``spec`` reads: its video collection's,
    ``<home>/features/<collection>/`` (no version: a benchmark finds its rows by video id, and the
    manifest's build format says whether a store can be read).

    Every reader and writer of a store asks here, so this is where a data home written before
    stores were kept per collection is brought up to date, once: a store at the old place
    ``<home>/features/<benchmark>/<version>/`` of ``spec`` or of another registered benchmark
    over the same videos is moved here with one atomic rename and one log line. When a store is
    here already, the old one is left alone (one line). When the move cannot be made (a
    read-only home, another file system; or the old place lies inside the new one: a benchmark
    declared without ``videos`` has a collection of its own name), the old place is returned,
    with one line, so the store keeps working where it is.
    """
    features = data_home(home) / "features"
    new = features / spec.videos.name
    same_videos = [b for b in BENCHMARKS.values() if b.videos.name == spec.videos.name]
    olds = dict.fromkeys(features / b.name / b.version for b in (spec, *same_videos))
    for old in (p for p in olds if p.is_dir()):
        if old.parent == new:
            _say_once(
                old,
                "feature store of %s kept at its old place %s: the store place of its "
                "video collection, %s, holds it",
                spec.name,
                old,
                new,
            )
            return old
        if new.exists():
            _say_once(
                old,
                "feature store at the old place %s left alone: %s (the store of the %s "
                "videos) is used; delete the old one when it is no longer needed",
                old,
                new,
                spec.videos.name,
            )
            continue
        try:
            new.parent.mkdir(parents=True, exist_ok=True)
            os.rename(old, new)  # atomic: the store is at one place or the other, never split
        except OSError as e:
            if new.exists():  # another process moved it first
                continue
            _say_once(
                old,
                "feature store of %s read at its old place %s: could not move it to %s (%s)",
                spec.name,
                old,
                new,
                e.strerror or e,
            )
            return old
        log.warning(
            "feature store moved from %s to %s: stores are now kept per video collection "
            "(%s), shared by every benchmark over its videos",
            old,
            new,
            spec.videos.name,
        )
        try:
            old.parent.rmdir()  # the benchmark's folder, when nothing else is left in it
        except OSError:
            pass
    return new


def _say_once(key: Path, message: str, *args: object) -> None:
    """Log ``message`` (a warning) the first time ``key`` is reported in this process."""
    if key not in _SAID:
        _SAID.add(key)
        log.warning(message, *args)
