"""Temporal anomaly segments, as frame numbers.

Convention (documented in docs/data.md): a segment is ``[start, end]`` in frame numbers, read as
the half-open interval start <= frame < end -- the reading most consumer code uses
(``gt[start:end] = 1``). ``-1 -1`` pairs mean "no segment".
"""

from __future__ import annotations

from var_bench.errors import DataError

Segments = list[list[int]]


def parse_segments(fields: list[str], where: str) -> Segments:
    """Pairs ``s e`` -> ``[[s, e], ...]``, skipping ``-1 -1``; each must satisfy 0 <= s < e."""
    if len(fields) % 2:
        raise DataError(
            f"{where}: expected start/end frame pairs, got an odd number of fields {fields}"
        )
    try:
        nums = [int(x) for x in fields]
    except ValueError:
        raise DataError(f"{where}: expected integer frame numbers, got {fields}") from None
    out = []
    for s, e in zip(nums[::2], nums[1::2]):
        if (s, e) == (-1, -1):
            continue
        if not 0 <= s < e:
            raise DataError(f"{where}: expected 0 <= start < end, got segment ({s}, {e})")
        out.append([s, e])
    return out
