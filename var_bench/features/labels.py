"""Per-snippet anomaly labels from frame-level temporal annotations (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from var_bench.benchmarks import DEFAULT_SNIPPET_FRAMES as SNIPPET_FRAMES


def snippet_labels(
    segments: Iterable[Sequence[int]], T: int, snippet_frames: int = SNIPPET_FRAMES
) -> np.ndarray:
    """Labels ``int8 [T]``: snippet i covers frames ``[i*F, (i+1)*F)`` (F = ``snippet_frames``);
    its label is 1 iff at least half of its F frames lie inside the union of the annotated
    half-open segments ``[start, end)``, i.e. ``2 * covered >= F``.

    ``[]`` (a normal test video) gives all zeros. Overlapping segments count each frame once.
    """
    if snippet_frames < 1:
        raise ValueError(f"snippet_frames must be >= 1, got {snippet_frames}")
    starts = np.arange(T, dtype=np.int64) * snippet_frames
    ends = starts + snippet_frames
    covered = np.zeros(T, dtype=np.int64)
    for s, e in _union(segments):
        covered += np.maximum(np.minimum(ends, e) - np.maximum(starts, s), 0)
    return (2 * covered >= snippet_frames).astype(np.int8)


def _union(segments: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """Sorted, merged, non-empty ``[start, end)`` intervals."""
    out: list[tuple[int, int]] = []
    for s, e in sorted((int(s), int(e)) for s, e in segments if int(e) > int(s)):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
