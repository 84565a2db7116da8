"""Where in a video a match lies: snippet windows, their spans in seconds, and hit tests (pure).

A video of T snippets is cut into overlapping windows of ``w`` snippets with stride ``s``:
``[0, w), [s, s + w), ...``, the last window ending at T. With F frames per snippet and a frame
rate of ``fps``, window ``[a, b)`` covers seconds ``[a * F / fps, b * F / fps)``.

>>> windows(10, width=4)
[(0, 4), (2, 6), (4, 8), (6, 10)]
>>> to_seconds((2, 6), snippet_frames=16, fps=32.0)
(1.0, 3.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

#: A window covers about this fraction of the video by default (ceil(T / 6) snippets).
DEFAULT_WINDOWS_PER_VIDEO = 6
#: Windows never grow beyond this many snippets (long videos get many windows instead).
MAX_WINDOW = 32


def default_width(T: int) -> int:
    """``clip(ceil(T / 6), 1, 32)`` snippets."""
    return max(1, min(MAX_WINDOW, math.ceil(T / DEFAULT_WINDOWS_PER_VIDEO)))


def windows(T: int, width: int | None = None, stride: int | None = None) -> list[tuple[int, int]]:
    """Snippet windows ``(start, end)`` covering ``[0, T)``: width ``w`` (default
    :func:`default_width`), stride ``max(1, w // 2)``, the last window ending at T."""
    if T < 1:
        return []
    w = min(T, width or default_width(T))
    s = stride or max(1, w // 2)
    out = [(a, a + w) for a in range(0, T - w + 1, s)]
    if out[-1][1] != T:
        out.append((T - w, T))
    return out


def to_seconds(span: tuple[int, int], *, snippet_frames: int, fps: float) -> tuple[float, float]:
    """Snippet span ``[a, b)`` -> seconds ``[a * F / fps, b * F / fps)``."""
    a, b = span
    return (a * snippet_frames / fps, b * snippet_frames / fps)


def to_frames(span: tuple[int, int], *, snippet_frames: int) -> tuple[int, int]:
    """Snippet span ``[a, b)`` -> frames ``[a * F, b * F)``."""
    return (span[0] * snippet_frames, span[1] * snippet_frames)


def overlaps(span: tuple[int, int], segments: Iterable[Sequence[int]]) -> bool:
    """Whether the half-open frame span intersects any half-open ``[start, end)`` segment.

    >>> overlaps((32, 64), [[60, 90]]), overlaps((32, 64), [[64, 90]])
    (True, False)
    """
    a, b = span
    return any(min(b, int(e)) > max(a, int(s)) for s, e in segments)
