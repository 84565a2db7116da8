"""XD-Violence's temporal anomaly annotations (test split, violent videos only; frames at 24 fps).

Segments follow the kit's convention (:mod:`var_bench.benchmarks.kit.segments`); 14 names carry a
stray ``.mp4``, stripped and counted so the build can note the repair.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from var_bench.benchmarks.kit import Segments, line_fields, parse_segments, video_stem
from var_bench.errors import DataError


@dataclass(frozen=True)
class XdAnnotations:
    """XD-Violence's ``annotations.txt``: segments per video id, and how many names carried a
    stray ``.mp4`` (stripped)."""

    segments: dict[str, Segments]
    stripped_mp4: int


def read_xd_annotations(path: str | Path) -> XdAnnotations:
    """``name s1 e1 [s2 e2 ...]`` lines -> segments per video id; a stray ``.mp4`` is stripped."""
    out: dict[str, Segments] = {}
    stripped = 0
    for where, f in line_fields(path):
        vid = video_stem(f[0])
        stripped += vid != f[0]
        if vid in out:
            raise DataError(f"{where}: expected each video once, got {vid!r} again")
        out[vid] = parse_segments(f[1:], where)
        if not out[vid]:
            raise DataError(f"{where}: expected at least one segment for {vid!r}, got none")
    return XdAnnotations(out, stripped)
