"""``var-bench verify-videos``: which of a benchmark's videos are missing, unreadable or truncated.

Each video is opened with the extractor's decoder (PyAV, :mod:`.video`) and checked cheaply:

* **missing**: no file under the folder has the id as its stem (:func:`~.video.index_videos`);
* **unreadable**: FFmpeg cannot open it, it has no video stream, or its first ``frames`` frames
  do not decode;
* **truncated**: the header states a duration D, but after seeking to ``D - TAIL_S`` decoding fails
  or the last frame decoded starts before ``D - TAIL_S`` (the data ends early: an interrupted
  download or copy).

A check decodes the first frames and about the last ``TAIL_S`` seconds, never the whole video.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from var_bench.extract.video import index_videos

#: Seconds before the stated end that the last decoded frame must reach.
TAIL_S = 1.0
OK, MISSING, UNREADABLE, TRUNCATED = "ok", "missing", "unreadable", "truncated"


@dataclass(frozen=True)
class VideoCheck:
    """One video's verdict: ``status`` (ok, missing, unreadable, truncated) and why."""

    video_id: str
    split: str
    status: str
    path: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "video_id": self.video_id,
            "split": self.split,
            "status": self.status,
            "path": self.path,
            "detail": self.detail,
        }


def _first_line(e: BaseException) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:200]


def check_video(path: str | os.PathLike, frames: int = 8) -> tuple[str, str]:
    """``(status, detail)`` of one file: :data:`OK`, :data:`UNREADABLE` or :data:`TRUNCATED`
    (the module docstring states the rules)."""
    import av

    try:
        container = av.open(str(path))
    except Exception as e:
        return UNREADABLE, f"cannot open: {_first_line(e)}"
    try:
        if not container.streams.video:
            return UNREADABLE, "no video stream"
        stream = container.streams.video[0]
        got = 0
        try:
            for _ in container.decode(stream):
                got += 1
                if got >= frames:
                    break
        except Exception as e:
            return UNREADABLE, f"decoding failed at frame {got}: {_first_line(e)}"
        if got == 0:
            return UNREADABLE, "no frame decodes"
        duration = container.duration / 1e6 if container.duration else None
        if duration is None or duration <= TAIL_S:
            return OK, f"{got} frames decoded (duration not stated or short: tail not checked)"
        last = None
        try:
            container.seek(int((duration - TAIL_S) * 1e6))
            for fr in container.decode(stream):
                last = fr.time
        except Exception as e:
            return TRUNCATED, f"decoding near the end ({duration:.1f} s) failed: {_first_line(e)}"
        if last is None or last < duration - TAIL_S:
            shown = "nothing" if last is None else f"{last:.1f} s"
            return TRUNCATED, f"stated {duration:.1f} s, data ends at {shown}"
        return OK, f"{duration:.1f} s"
    finally:
        container.close()


def verify_videos(
    root: str | os.PathLike,
    ids: dict[str, Sequence[str]],
    *,
    frames: int = 8,
) -> list[VideoCheck]:
    """Check every id (per split, in order) against the videos under ``root``.

    Args:
        root: the folder of videos (any depth; a file's stem is its id).
        ids: split -> the benchmark's ids of that split.
        frames: how many leading frames must decode.

    Returns:
        One :class:`VideoCheck` per id, in split and id order.

    Raises:
        InputError: ``root`` is not a folder, or two files share a stem.
    """
    index = index_videos(root)
    out = []
    for split, split_ids in ids.items():
        for vid in split_ids:
            path = index.get(vid)
            if path is None:
                out.append(VideoCheck(vid, split, MISSING, None, "no file with this stem"))
                continue
            status, detail = check_video(path, frames)
            out.append(VideoCheck(vid, split, status, str(path), detail))
    return out


def benchmark_ids(
    benchmark: str,
    splits: Sequence[str],
    *,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
) -> dict[str, list[str]]:
    """split -> the benchmark's video ids (the gallery's, for a benchmark whose queries are not
    its videos), from the built dataset."""
    from var_bench.data.prepare import ids

    return {s: ids(benchmark, s, home=home, mirror=mirror, gallery=True) for s in splits}


def render_checks(checks: Sequence[VideoCheck], root: str | os.PathLike) -> str:
    """Counts per status and split, then one line per video that is not ok."""
    lines = [f"Videos under {Path(root)}: {len(checks)} checked"]
    for status in (OK, MISSING, UNREADABLE, TRUNCATED):
        found = [c for c in checks if c.status == status]
        per_split: dict[str, int] = {}
        for c in found:
            per_split[c.split] = per_split.get(c.split, 0) + 1
        split_text = ", ".join(f"{s} {n}" for s, n in per_split.items())
        lines.append(f"  {status}: {len(found)}" + (f" ({split_text})" if found else ""))
    for c in checks:
        if c.status != OK:
            lines.append(f"{c.status}\t{c.split}\t{c.video_id}\t{c.detail}")
    return "\n".join(lines) + "\n"
