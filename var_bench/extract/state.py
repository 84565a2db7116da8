"""An extraction folder's state: per-video markers (resume), its identity, its lock, its summary.

Under ``<out>/.extraction/``: ``identity.json`` (one feature identity per folder), ``lock`` (a POSIX
file lock) and ``videos/<stem>.json``, one marker per finished video. A video counts as done only
when its marker exists, and the marker is written last, after the video's files, so a killed run
redoes at most the videos it was working on and a finished video is never redone. Temporary files
a killed run left behind are removed when their video is redone. ``extraction.json`` (identity +
every marker) is rebuilt under the lock by every process at its end, so with sharding the last
one to finish writes the full file.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.features.extraction import EXTRACTION_FILE
from var_bench.fsutil import atomic_write_text, atomic_writer

STATE_DIR = ".extraction"


def is_done(state: Path, stem: str) -> bool:
    """True when video ``stem`` has its marker in the ``state`` folder."""
    return (state / "videos" / f"{stem}.json").is_file()


def write_video(
    state: Path, out: Path, stem: str, files: list[Path], feats: np.ndarray, counts: dict[str, int]
) -> dict:
    """Each crop's file (``feats[:, k]`` to ``files[k]``), then the video's marker (atomic writes;
    the marker last): ``{"shape": [T, D], "crops": C, **counts, "files": [paths below out]}``."""
    for k, path in enumerate(files):
        with atomic_writer(path) as f:
            np.save(f, np.ascontiguousarray(feats[:, k]))
    record = {
        "shape": [int(feats.shape[0]), int(feats.shape[2])],
        "crops": len(files),
        **counts,
        "files": [p.relative_to(out).as_posix() for p in files],
    }
    atomic_write_text(state / "videos" / f"{stem}.json", json.dumps(record) + "\n")
    return record


def clean_stale(files: list[Path]) -> None:
    """Remove temporary files a killed run left for these files (atomic_writer's
    ``.<name>.*.tmp``)."""
    for path in files:
        for tmp in path.parent.glob(f".{path.name}.*.tmp") if path.parent.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive advisory lock on ``path`` (POSIX flock; a no-op where unavailable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX)
        except (ImportError, OSError):
            pass
        yield


def _read_object(path: Path) -> dict[str, Any]:
    """A state file read back: a JSON object (:mod:`var_bench.readback`; one line naming the
    file when it is not one)."""
    from var_bench.readback import read_json, validate

    return validate(dict[str, Any], read_json(path, "extract state"), path)


def check_identity(state: Path, identity: dict) -> None:
    """Write the folder's identity, or check it equals the one already there."""
    path = state / "identity.json"
    with _locked(state / "lock"):
        if path.is_file():
            old = _read_object(path)
            if old != identity:
                diff = sorted(k for k in set(old) | set(identity) if old.get(k) != identity.get(k))
                raise InputError(
                    f"{state.parent}: expected features of one identity per folder, it holds "
                    f"another ({', '.join(diff)} differ); use another --out"
                )
        else:
            atomic_write_text(path, json.dumps(identity, indent=1, sort_keys=True) + "\n")


def write_summary(out: Path) -> dict:
    """Rebuild ``extraction.json`` (identity + every finished video's record) under the lock."""
    state = out / STATE_DIR
    with _locked(state / "lock"):
        identity = _read_object(state / "identity.json")
        videos = {}
        for p in sorted((state / "videos").glob("*.json")):
            videos[p.stem] = _read_object(p)
        data = {"identity": identity, "videos": videos}
        atomic_write_text(out / EXTRACTION_FILE, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data
