"""UCF-Crime's temporal anomaly annotations (test split only): Sultani et al.'s list and UR-DMU's
copy with frame counts.

Segments follow the kit's convention (:mod:`var_bench.benchmarks.kit.segments`). UR-DMU's list
gives each test video's frame count, and an end past it is clipped to it: 5 UCF test videos
overshoot by 1-2 frames, a sign that some ends were written 1-based inclusive; clipping makes every
segment index a real frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from var_bench.benchmarks.kit import Segments, line_fields, parse_segments, video_stem
from var_bench.errors import DataError


@dataclass(frozen=True)
class UcfTemporal:
    """One line of Sultani et al.'s ``Temporal_Anomaly_Annotation.txt``."""

    label: str
    segments: Segments


def read_ucf_temporal(path: str | Path) -> dict[str, UcfTemporal]:
    """``Name.mp4  Class  s1  e1  s2  e2`` lines -> {video_id: UcfTemporal}, in file order."""
    out: dict[str, UcfTemporal] = {}
    for where, f in line_fields(path):
        if len(f) != 6:
            raise DataError(f"{where}: expected 6 fields (name class s1 e1 s2 e2), got {len(f)}")
        out[video_stem(f[0])] = UcfTemporal(f[1], parse_segments(f[2:], where))
    return out


@dataclass(frozen=True)
class UcfFrames:
    """One line of UR-DMU's ``UCF_Annotation.txt``: frame count and the same segments."""

    num_frames: int
    label: str
    segments: Segments


def read_ucf_frames(path: str | Path) -> dict[str, UcfFrames]:
    """``Class/Name.mp4 NFRAMES Class s1 e1 s2 e2`` lines -> {video_id: UcfFrames}."""
    out: dict[str, UcfFrames] = {}
    for where, f in line_fields(path):
        if len(f) != 7 or not f[1].isdigit():
            raise DataError(f"{where}: expected 7 fields (path nframes class s1 e1 s2 e2), got {f}")
        out[video_stem(f[0])] = UcfFrames(int(f[1]), f[2], parse_segments(f[3:], where))
    return out


def clip_segments(segments: Segments, num_frames: int) -> tuple[Segments, bool]:
    """Clip every end to ``num_frames``; returns the segments and whether anything changed."""
    clipped = [[s, min(e, num_frames)] for s, e in segments]
    if any(s >= e for s, e in clipped):
        raise DataError(f"segment starts at or past the frame count {num_frames}: {segments}")
    return clipped, clipped != segments
