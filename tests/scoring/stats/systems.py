"""Synthetic per-query counts of plausible retrieval systems, for the resampling tests."""

from __future__ import annotations

import numpy as np

from var_bench.tasks.retrieval.counts import RankCounts


def system(
    n: int, r1: float, seed: int, ties: bool = True, spread: int | None = None
) -> RankCounts:
    """Counts of a plausible system: a fraction r1 of true items first, the rest spread out over
    ranks 2..spread (default N/3)."""
    rng = np.random.default_rng(seed)
    spread = max(2, n // 3) if spread is None else spread
    b = np.where(rng.random(n) < r1, 0, rng.integers(1, spread, n))
    e = rng.integers(0, 3, n) * (rng.random(n) < 0.2) if ties else np.zeros(n, np.int64)
    return RankCounts(b, np.minimum(e, n - 1 - b))
