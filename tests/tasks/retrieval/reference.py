"""Independent reference implementations the tests check the counting kernel against.

They sort (the kernel never does), so they share no code path with it: ``sorted_counts`` finds b
and e with binary searches in each sorted row, ``argsort_ranks`` is the classic double-argsort
rank of the true item (valid only without ties).
"""

from __future__ import annotations

import numpy as np


def sorted_counts(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(b, e) per row of S (true item = diagonal), via searchsorted in each sorted row, float64."""
    S = np.asarray(S, dtype=np.float64)  # exact for every dtype the tests use
    n = S.shape[0]
    b = np.empty(n, np.int64)
    e = np.empty(n, np.int64)
    for i in range(n):
        row = np.sort(S[i])
        lo = np.searchsorted(row, S[i, i], side="left")
        hi = np.searchsorted(row, S[i, i], side="right")
        b[i] = n - hi
        e[i] = hi - lo - 1
    return b, e


def argsort_ranks(S: np.ndarray) -> np.ndarray:
    """0-based position of the true item when each row is sorted by descending score (no ties)."""
    order = np.argsort(-np.asarray(S, dtype=np.float64), axis=1, kind="stable")
    pos = np.argsort(order, axis=1, kind="stable")
    return pos[np.arange(S.shape[0]), np.arange(S.shape[0])]


def clip4clip_ranks(x: np.ndarray) -> np.ndarray:
    """CLIP4Clip's ``compute_metrics`` rank extraction (the peer bug #80 reproduces with ties)."""
    sx = np.sort(-x, axis=1)
    d = np.diag(-x)[:, None]
    ind = sx - d
    return np.where(ind == 0)[1]
