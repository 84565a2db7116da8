"""The normalisation heuristic: warn when S looks normalised across the query set of a scored
direction (softmax, dual/inverted softmax, QB-Norm, z-scoring over the queries)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from var_bench.tasks.retrieval.matrix import MatrixSource
from var_bench.tasks.retrieval.submission.assemble import Submission

#: Normalisation heuristic (see :func:`axis_mean_spread`): means along an axis count as "all
#: equal" when their range is at most EQUAL_SPREAD * std(S), and as "not equal" from
#: UNEQUAL_SPREAD * std(S) on. A raw N x N matrix has a range of about 5/sqrt(N) std(S) >= 0.08
#: for N <= 4096, far above both; softmax or z-scoring over an axis gives ~1e-7.
EQUAL_SPREAD = 1e-3
UNEQUAL_SPREAD = 1e-2
#: ... and only when the queries' own scores vary (share of var(S) inside them >= this): a
#: matrix of constant rows has equal column means without any normalisation.
VARYING_SHARE = 1e-6
#: The heuristic reads S once more; only for matrices up to this size (all benchmark sizes), so
#: the kernel's speed targets on large matrices are untouched.
NORMALISATION_CHECK_MAX_N = 4096
_STATS_BLOCK_BYTES = 1 << 20


class AxisSpread(NamedTuple):
    """How S's means vary along each axis, in units of std(S).

    ``rows``/``cols``: range (max - min) of the row / column means divided by std(S).
    ``within_rows``/``within_cols``: the share of S's variance found inside rows / columns
    (1 - between-row share; 0 when every row / column is constant).
    """

    rows: float
    cols: float
    within_rows: float
    within_cols: float


#: A matrix with one value everywhere: nothing varies, nothing to normalise.
CONSTANT = AxisSpread(math.inf, math.inf, 0.0, 0.0)


def axis_mean_spread(source: MatrixSource) -> AxisSpread:
    """:class:`AxisSpread` of S, reading S once in row blocks (memory: one block).

    Sums run in float64; block variances are merged with Chan et al.'s parallel formula, and the
    variance decomposes as total = between + within for each axis, e.g. between-row sum of
    squares = C * sum_i (rowmean_i - mean)^2 for an R x C matrix.
    """
    rows_m, cols_m = source.shape
    row_means = np.empty(rows_m, np.float64)
    col_sums = np.zeros(cols_m, np.float64)
    count, mean, m2 = 0, 0.0, 0.0
    step = max(1, _STATS_BLOCK_BYTES // max(1, cols_m * source.dtype.itemsize))
    for i0 in range(0, rows_m, step):
        block = source.read_rows(i0, min(i0 + step, rows_m))
        row_means[i0 : i0 + len(block)] = block.mean(axis=1, dtype=np.float64)
        col_sums += block.sum(axis=0, dtype=np.float64)
        b_n = block.size
        b_mean = float(row_means[i0 : i0 + len(block)].mean())
        b_m2 = float(block.var(dtype=np.float64)) * b_n
        delta = b_mean - mean
        total = count + b_n
        mean += delta * b_n / total
        m2 += b_m2 + delta * delta * count * b_n / total
        count = total
    if m2 <= 0.0 or count == 0:
        return CONSTANT
    std = math.sqrt(m2 / count)
    col_means = col_sums / rows_m
    between_rows = cols_m * float(np.square(row_means - mean).sum())
    between_cols = rows_m * float(np.square(col_means - mean).sum())
    spread = AxisSpread(
        rows=float(np.ptp(row_means)) / std,
        cols=float(np.ptp(col_means)) / std,
        within_rows=max(0.0, 1.0 - between_rows / m2),
        within_cols=max(0.0, 1.0 - between_cols / m2),
    )
    if source.transposed:  # the source holds S.T: swap the axes back
        spread = AxisSpread(spread.cols, spread.rows, spread.within_cols, spread.within_rows)
    return spread


def normalised_over_rows(s: AxisSpread) -> bool:
    """True when S looks normalised across its rows (the queries of an over-rows direction):
    every column has the same mean (range <= EQUAL_SPREAD std), the row means differ (range >=
    UNEQUAL_SPREAD std), and the rows are not constant (a matrix of constant rows has equal
    column means without any normalisation)."""
    return s.cols <= EQUAL_SPREAD and s.rows >= UNEQUAL_SPREAD and s.within_rows >= VARYING_SHARE


def normalisation_warnings(sub: Submission) -> list[str]:
    """Warnings for matrices that look normalised across the query set of a scored direction.

    Heuristic (:func:`normalised_over_rows`): softmax, dual/inverted softmax, centring or
    z-scoring over the query axis gives every gallery item the same mean score over the queries
    (equal column means for t2v/a2v, equal row means for v2t/v2a), which raw scores never show.
    Only for N <= NORMALISATION_CHECK_MAX_N (one more read of S).
    """
    if max(sub.shape) > NORMALISATION_CHECK_MAX_N:
        return []
    found: list[str] = []
    if sub.joint is not None:
        spread = axis_mean_spread(sub.joint)
        flipped = AxisSpread(spread.cols, spread.rows, spread.within_cols, spread.within_rows)
        for d in sub.task.directions:
            # v2t queries are S's columns: look at S.T, whose rows they are.
            if d.name in sub.directions and normalised_over_rows(
                spread if d.over_rows else flipped
            ):
                found.append(_normalised_message(sub.label, d))
    for name, src in sub.by_direction.items():
        if normalised_over_rows(axis_mean_spread(src)):  # one query per row
            found.append(_normalised_message(f"{sub.label}[{name!r}]", sub.task.direction(name)))
    return found


def _normalised_message(label: str, d: Any) -> str:
    return (
        f"{label}: every {d.gallery} has the same mean score over the {d.query} queries: the "
        f"matrix looks normalised across the query set (softmax, dual/inverted softmax, QB-Norm, "
        f"z-scoring), which inflates {d.name} on a one-positive benchmark; disclose it "
        f"(--disclose test_time_normalisation=...)"
    )
