"""Every metric of one retrieval direction, as pure functions of the per-query counts (b, e).

For query i, b_i gallery items score strictly higher than its true item and e_i others tie with
it. Under a tie rule the true item's 1-based rank and its top-K credit are:

============  ====================  =====================================
rule          rank r_i              credit for R@K
============  ====================  =====================================
expected      b_i + 1 + e_i / 2     clip((K - b_i) / (e_i + 1), 0, 1)
optimistic    b_i + 1               [b_i < K]
pessimistic   b_i + e_i + 1         [b_i + e_i < K]
============  ====================  =====================================

``expected`` (the official rule) is the expectation over a uniformly random order of the tied
items: the true item is equally likely to take each of the ranks b+1 .. b+e+1. One rank definition
serves R@K, MdR and MnR alike. R@K = 100 * mean(credit) in percent; MdR and MnR are the median and
mean of r_i (ranks, 1 = first).

Every function accepts a :class:`~var_bench.tasks.retrieval.counts.RankCounts` or a
``(higher, tied)`` pair of integer arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import (
    DEFAULT_TIES,
    MEAN_RANK,
    MEDIAN_RANK,
    METRICS,
    RECALL_KS,
    RECALLS,
    TIE_RULES,
)

Counts = RankCounts | tuple[np.ndarray, np.ndarray]


def as_query_ranks(q: Counts) -> RankCounts:
    """``q`` as :class:`RankCounts`, checking it holds at least one query with b, e >= 0."""
    if not isinstance(q, RankCounts):
        try:
            higher, tied = q
        except (TypeError, ValueError):
            raise InputError(
                f"expected RankCounts or a (higher, tied) pair of arrays, got {type(q).__name__}"
            ) from None
        q = RankCounts(np.asarray(higher), np.asarray(tied))
    if len(q) == 0:
        raise InputError("expected counts for at least one query, got none")
    if q.higher.min() < 0 or q.tied.min() < 0:
        raise InputError("expected non-negative counts b (higher) and e (tied), got a negative one")
    return q


def _check_ties(ties: str) -> str:
    if ties not in TIE_RULES:
        raise InputError(f"unknown tie rule: expected one of {', '.join(TIE_RULES)}, got {ties!r}")
    return ties


def _check_k(k: int) -> int:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise InputError(f"R@K: expected a positive integer K, got {k!r}")
    return int(k)


def rank(q: Counts, ties: str = DEFAULT_TIES) -> np.ndarray:
    """1-based rank of each query's true item (float64): expected b + 1 + e/2, optimistic b + 1,
    pessimistic b + e + 1.

    >>> rank(([0, 3, 2], [0, 3, 1])).tolist()
    [1.0, 5.5, 3.5]
    >>> rank(([0, 3, 2], [0, 3, 1]), "pessimistic").tolist()
    [1.0, 7.0, 4.0]
    """
    q = as_query_ranks(q)
    b, e = q.higher.astype(np.float64), q.tied
    if _check_ties(ties) == "optimistic":
        return b + 1.0
    if ties == "pessimistic":
        return b + e + 1.0
    return b + 1.0 + e / 2.0


def recall_credit(q: Counts, k: int, ties: str = DEFAULT_TIES) -> np.ndarray:
    """Per-query top-K credit in [0, 1]: expected clip((K - b) / (e + 1), 0, 1) (the chance that
    a uniformly random order of the e + 1 tied items puts the true item in the top K), optimistic
    [b < K], pessimistic [b + e < K].

    True item tied with 3 others at ranks 4..7: R@5 credit = (5 - 3) / 4.

    >>> recall_credit(([3], [3]), 5).tolist()
    [0.5]
    """
    q = as_query_ranks(q)
    k = _check_k(k)
    b, e = q.higher, q.tied
    if _check_ties(ties) == "optimistic":
        return (b < k).astype(np.float64)
    if ties == "pessimistic":
        return (b + e < k).astype(np.float64)
    return np.clip((k - b) / (e + 1.0), 0.0, 1.0)


def recall_at_k(q: Counts, k: int, ties: str = DEFAULT_TIES) -> float:
    """R@K in percent: 100 * mean over queries of :func:`recall_credit`.

    >>> recall_at_k(([0, 1, 7, 0], [0, 0, 0, 1]), 1)
    37.5
    """
    return float(100.0 * recall_credit(q, k, ties).mean())


def median_rank(q: Counts, ties: str = DEFAULT_TIES) -> float:
    """MdR: median of :func:`rank` (the mean of the two middle ranks for an even count)."""
    return float(np.median(rank(q, ties)))


def mean_rank(q: Counts, ties: str = DEFAULT_TIES) -> float:
    """MnR: mean of :func:`rank`."""
    return float(rank(q, ties).mean())


def summarise(q: Counts, ties: str = DEFAULT_TIES) -> dict[str, float]:
    """All metrics of one direction, keys exactly :data:`~var_bench.tasks.retrieval.names.METRICS`
    in order: R@1, R@5, R@10 (percent), MdR, MnR (ranks).

    >>> summarise(([0, 0, 20, 4], [0, 0, 0, 0]))
    {'R@1': 50.0, 'R@5': 75.0, 'R@10': 75.0, 'MdR': 3.0, 'MnR': 7.0}
    """
    q = as_query_ranks(q)
    r = rank(q, ties)
    out = {name: recall_at_k(q, k, ties) for name, k in zip(RECALLS, RECALL_KS)}
    out[MEDIAN_RANK] = float(np.median(r))
    out[MEAN_RANK] = float(r.mean())
    return {name: out[name] for name in METRICS}


def sum_recall(per_direction: Mapping[str, Mapping[str, float]]) -> float:
    """SumR: R@1 + R@5 + R@10 summed over every direction given (both directions: six numbers).

    >>> sum_recall({"t2v": {"R@1": 1.0, "R@5": 2.0, "R@10": 3.0, "MdR": 9.0},
    ...             "v2t": {"R@1": 0.5, "R@5": 1.0, "R@10": 2.5}})
    10.0
    """
    total = 0.0
    for direction, metrics in per_direction.items():
        missing = [m for m in RECALLS if m not in metrics]
        if missing:
            raise InputError(
                f"SumR: expected {', '.join(RECALLS)} for {direction}, got no {', '.join(missing)}"
            )
        total += sum(float(metrics[m]) for m in RECALLS)
    return total


def recall_curve(
    q: Counts, ks: Sequence[int] | None = None, ties: str = DEFAULT_TIES
) -> np.ndarray:
    """R@K in percent for K = 1..N (N = number of queries) or for the given ``ks``.

    O(N + max K) with cumulative counts, no sort: a query's expected credit rises by
    1 / (e + 1) per unit of K for b < K <= b + e + 1, so the sum of credits has a second
    difference made of +slope at K = b + 1 and -slope at K = b + e + 2; two cumulative sums give
    every K at once. Optimistic and pessimistic curves are the cumulative counts of b and b + e.

    >>> recall_curve(([0, 3], [0, 3])).tolist()
    [50.0, 50.0]
    >>> recall_curve(([0, 3], [0, 3]), ks=[1, 4, 5, 7]).tolist()
    [50.0, 62.5, 75.0, 100.0]
    """
    q = as_query_ranks(q)
    _check_ties(ties)
    n = len(q)
    if ks is None:
        ks_arr = np.arange(1, n + 1)
    else:
        ks_arr = np.asarray([_check_k(k) for k in ks], dtype=np.int64)
        if ks_arr.size == 0:
            return np.zeros(0)
    top = int(ks_arr.max())
    b, e = q.higher, q.tied
    if ties == "expected":
        slope = 1.0 / (e + 1.0)
        # Indices past `top` cannot affect K <= top: clip them into one spill bin.
        delta = np.bincount(np.minimum(b + 1, top + 1), slope, minlength=top + 2)
        delta -= np.bincount(np.minimum(b + e + 2, top + 1), slope, minlength=top + 2)
        hits = np.cumsum(np.cumsum(delta))
        # Cumulative float sums drift by ~1e-16 per step: keep them inside [0, n].
        hits = np.clip(hits, 0.0, n)
    else:
        last_miss = b if ties == "optimistic" else b + e  # credit 1 iff last_miss < K
        hits = np.cumsum(np.bincount(np.minimum(last_miss + 1, top + 1), minlength=top + 2))
        hits = hits.astype(np.float64)
    return 100.0 * hits[ks_arr] / n


def tied_query_count(q: Counts) -> int:
    """Number of queries whose true item ties with at least one other item (e > 0)."""
    return int(np.count_nonzero(as_query_ranks(q).tied))
