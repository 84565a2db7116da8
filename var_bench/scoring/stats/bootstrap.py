"""Percentile bootstrap confidence intervals over query pairs.

Query i of the first direction (t2v, a2v) and query i of the second (v2t, v2a) belong to the same
test pair i, so a replicate resamples PAIRS: one index vector (N draws with replacement) is applied
to every direction, and SumR, which adds both directions, gets an interval too.

A replicate is represented by its weights w (w_i = how often pair i was drawn, sum w = N): every
mean-type metric is then w @ x / N for a per-query value x (R@K: 100 * credit; MnR: rank), one
matrix product for all metrics and replicates, and MdR is the weighted median of the ranks. The
interval is [q_(1-level)/2, q_(1+level)/2] of the replicate values (linear interpolation between
order statistics, NumPy's default percentile).
"""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks.retrieval.counts import QueryRanks
from var_bench.tasks.retrieval.names import DEFAULT_TIES, MEAN_RANK, MEDIAN_RANK, METRICS, RECALL_KS, RECALLS, SUMR
from var_bench.tasks.retrieval.ranks import as_query_ranks, rank, recall_credit

METHOD = "percentile bootstrap"
#: Columns of :func:`mean_table`: every metric that is a mean over queries.
MEAN_METRICS: tuple[str, ...] = (*RECALLS, MEAN_RANK)
#: Replicates x queries per chunk of work (int64 weights: 16 MiB), so memory stays bounded.
_CHUNK_ELEMENTS = 1 << 21


def check_paired(per_direction: Mapping[str, QueryRanks]) -> tuple[list[str], int]:
    """Direction names and N, after checking every direction has counts for the same N pairs."""
    if not per_direction:
        raise InputError("expected per-query counts for at least one direction, got none")
    sizes = {d: len(as_query_ranks(q)) for d, q in per_direction.items()}
    if len(set(sizes.values())) != 1:
        got = ", ".join(f"{d}: {n}" for d, n in sizes.items())
        raise InputError(
            f"expected the same number of queries (pairs) in every direction, got {got}"
        )
    return list(sizes), next(iter(sizes.values()))


def check_resampling(replicates: int, level: float) -> None:
    """Refuse a non-positive replicate count or a level outside (0, 1)."""
    if isinstance(replicates, bool) or int(replicates) != replicates or replicates < 1:
        raise InputError(f"replicates: expected a positive integer, got {replicates!r}")
    if not 0.0 < float(level) < 1.0:
        raise InputError(
            f"level: expected a confidence level strictly between 0 and 1, got {level!r}"
        )


def mean_table(q: QueryRanks, ties: str = DEFAULT_TIES) -> np.ndarray:
    """(N, len(MEAN_METRICS)) per-query values whose means are R@1, R@5, R@10 (percent) and MnR."""
    cols = [100.0 * recall_credit(q, k, ties) for k in RECALL_KS]
    cols.append(rank(q, ties))
    return np.stack(cols, axis=1)


def chunk_sizes(replicates: int, n: int) -> Iterator[int]:
    """Replicates per chunk so that a chunk holds about ``_CHUNK_ELEMENTS`` weights."""
    step = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, replicates, step):
        yield min(step, replicates - start)


def bootstrap_weights(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """(size, n) int64 counts: row r holds how often each of n pairs was drawn in replicate r
    (n draws with replacement, so every row sums to n)."""
    draws = rng.integers(0, n, size=(size, n))
    draws += np.arange(size)[:, None] * n  # one bincount for all rows: offset row r by r * n
    return np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Median of each row's weighted sample: row r holds ``values[i]`` ``weights[r, i]`` times.

    Equals ``np.median`` of the expanded sample: the k-th smallest (1-based) is the first value
    in sorted order whose cumulative weight reaches k; for an even total m the median is the mean
    of the (m/2)-th and (m/2 + 1)-th."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    cw = np.cumsum(weights[:, order], axis=1)
    m = cw[:, -1]
    lo = (cw < ((m + 1) // 2)[:, None]).sum(axis=1)
    hi = (cw < (m // 2 + 1)[:, None]).sum(axis=1)
    return (v[lo] + v[hi]) / 2.0


def percentile_interval(samples: np.ndarray, level: float) -> np.ndarray:
    """[lo, hi] along axis 0: the (1 - level)/2 and (1 + level)/2 quantiles of ``samples``."""
    tail = 100.0 * (1.0 - float(level)) / 2.0
    return np.percentile(samples, [tail, 100.0 - tail], axis=0)


def bootstrap_ci(per_direction: Mapping[str, QueryRanks], ties: str = DEFAULT_TIES, *,
                 replicates: int = 10_000, level: float = 0.95, seed: int = 0) -> dict:
    """Percentile bootstrap intervals of every metric of every direction, and of SumR.

    Returns ``{"method": "percentile bootstrap", "level", "replicates", "seed",
    "intervals": {direction: {metric: [lo, hi]}, "SumR": [lo, hi]}}``; metrics in
    :data:`~var_bench.tasks.retrieval.names.METRICS` order. The same ``seed``, counts and
    ``replicates`` always give the same intervals.

    >>> q = QueryRanks([0] * 9 + [5] * 91, [0] * 100)
    >>> ci = bootstrap_ci({"t2v": q, "v2t": q}, replicates=2000)
    >>> lo, hi = ci["intervals"]["t2v"]["R@1"]
    >>> bool(lo < 9.0 < hi), bool(hi - lo < 15.0)
    (True, True)
    """
    directions, n = check_paired(per_direction)
    check_resampling(replicates, level)
    tables = {d: mean_table(as_query_ranks(per_direction[d]), ties) for d in directions}
    ranks = {d: rank(per_direction[d], ties) for d in directions}
    # All mean-type metrics of all directions: one (n, directions x metrics) matrix.
    stacked = np.concatenate([tables[d] for d in directions], axis=1)
    width = len(MEAN_METRICS)
    means_parts, medians_parts = [], []
    rng = np.random.default_rng(seed)
    for size in chunk_sizes(int(replicates), n):
        w = bootstrap_weights(rng, size, n)
        means_parts.append(w @ stacked / n)
        medians_parts.append(np.stack([weighted_median(ranks[d], w) for d in directions], axis=1))
    means = np.concatenate(means_parts)      # (replicates, directions x width)
    medians = np.concatenate(medians_parts)  # (replicates, directions)

    intervals: dict[str, object] = {}
    recall_cols = [MEAN_METRICS.index(m) for m in RECALLS]
    sumr = np.zeros(means.shape[0])
    for j, d in enumerate(directions):
        block = means[:, j * width : (j + 1) * width]
        samples = {m: block[:, MEAN_METRICS.index(m)] for m in MEAN_METRICS}
        samples[MEDIAN_RANK] = medians[:, j]
        intervals[d] = {m: _pair(percentile_interval(samples[m], level)) for m in METRICS}
        sumr += block[:, recall_cols].sum(axis=1)
    intervals[SUMR] = _pair(percentile_interval(sumr, level))
    return {"method": METHOD, "level": float(level), "replicates": int(replicates),
            "seed": int(seed), "intervals": intervals}


def _pair(interval: np.ndarray) -> list[float]:
    return [float(interval[0]), float(interval[1])]
