"""Paired comparison of two systems scored on the same queries: differences, intervals, p-values.

Both systems answer the same N test pairs, so every statistic is paired: pair i of system a is
compared with pair i of system b, all directions together (query i of t2v and of v2t are pair i).
For every direction x metric (R@1, R@5, R@10, MdR, MnR) and for SumR:

* ``diff`` = metric(a) - metric(b);
* ``[ci_low, ci_high]``: percentile interval of the difference over paired bootstrap replicates
  (the same resampled pairs for a and b and for every direction);
* ``p_value``, two-sided, with add-one smoothing (count + 1) / (R + 1) so it is never 0:

  - ``permutation`` (paired randomisation test, Fisher's randomisation test as in ranx): under
    H0 the labels a/b are exchangeable within a pair, so each replicate swaps a and b in each pair
    with probability 1/2 (in every direction at once) and counts |diff*| >= |diff|;
  - ``bootstrap`` (shift method): centre the bootstrap differences on 0 and count
    |diff* - diff| >= |diff|.

``better`` names the system whose value is better given the metric's direction (R@K and SumR:
higher; MdR, MnR: lower) when p < 1 - level, else None.

Multiple comparisons: one comparison tests 2 x 5 + 1 = 11 hypotheses, and a leaderboard tests
every pair of entries. ``p_adjusted`` is the Holm (1979) step-down adjustment over the rows of one
comparison (:func:`holm_adjust`): sort the m p-values p_(1) <= .. <= p_(m), adjusted
p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)); rejecting where p_adjusted < 1 - level controls the
family-wise error rate at 1 - level under any dependence. ``better`` stays the per-metric decision
on the raw ``p_value`` (one pre-chosen metric, e.g. SumR, needs no correction); use
``p_adjusted`` when reading several rows at once. :func:`bonferroni_adjust` is the simpler,
more conservative m * p.

The median is a coarse statistic: when most relabellings leave both medians where they were
(e.g. nearly constant ranks), the randomisation test for MdR has little power; the bootstrap
interval of the difference still shows the gap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from var_bench.errors import InputError
from var_bench.scoring.stats.bootstrap import (
    MEAN_METRICS,
    bootstrap_weights,
    check_paired,
    check_resampling,
    chunk_sizes,
    mean_table,
    percentile_interval,
    weighted_median,
)
from var_bench.tasks.retrieval.counts import QueryRanks
from var_bench.tasks.retrieval.names import DEFAULT_TIES, MEDIAN_RANK, METRICS, RECALLS, SUMR, higher_is_better
from var_bench.tasks.retrieval.ranks import as_query_ranks, rank, summarise, sum_recall

METHODS: tuple[str, ...] = ("permutation", "bootstrap")
#: Relative slack when comparing a replicate's |statistic| with the observed one: both are sums
#: of the same per-query values in a different order, so equal values may differ by rounding.
_RTOL = 1e-9


@dataclass
class ComparisonRow:
    """One metric of one direction (``metric`` "t2v R@1", ``direction`` "t2v"), or SumR
    (``metric`` "SumR", ``direction`` None). ``diff`` = ``a`` - ``b``."""

    metric: str
    direction: str | None
    a: float
    b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    better: str | None
    #: Holm-adjusted p-value over every row of the comparison (see the module docstring).
    p_adjusted: float | None = None


@dataclass
class Comparison:
    """All rows of a paired comparison and how they were computed."""

    rows: list[ComparisonRow] = field(default_factory=list)
    method: str = "permutation"
    replicates: int = 10_000
    seed: int = 0
    level: float = 0.95
    ties: str = DEFAULT_TIES
    #: How ``p_adjusted`` was computed.
    correction: str = "holm"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (rows as dicts, in order)."""
        return asdict(self)


class _Stats:
    """Every compared statistic of one resampling as one column: for each direction the
    mean-type metrics (MEAN_METRICS) then MdR, and finally SumR."""

    def __init__(self, a: Mapping[str, QueryRanks], b: Mapping[str, QueryRanks],
                 directions: list[str], ties: str) -> None:
        self.directions = directions
        self.n = len(as_query_ranks(a[directions[0]]))
        self.ta = np.concatenate([mean_table(a[d], ties) for d in directions], axis=1)
        self.tb = np.concatenate([mean_table(b[d], ties) for d in directions], axis=1)
        self.ra = [rank(a[d], ties) for d in directions]
        self.rb = [rank(b[d], ties) for d in directions]
        width = len(MEAN_METRICS)
        self._recall_cols = [j * width + MEAN_METRICS.index(m)
                             for j in range(len(directions)) for m in RECALLS]

    def _assemble(self, means: np.ndarray, medians: list[np.ndarray]) -> np.ndarray:
        width = len(MEAN_METRICS)
        cols = []
        for j, med in enumerate(medians):
            cols.append(means[:, j * width : (j + 1) * width])
            cols.append(med[:, None])
        cols.append(means[:, self._recall_cols].sum(axis=1, keepdims=True))
        return np.concatenate(cols, axis=1)

    def bootstrap_diffs(self, w: np.ndarray) -> np.ndarray:
        """(replicates, stats) a - b for bootstrap weights ``w``."""
        means = w @ (self.ta - self.tb) / self.n
        meds = [weighted_median(ra, w) - weighted_median(rb, w) for ra, rb in zip(self.ra, self.rb)]
        return self._assemble(means, meds)

    def permutation_diffs(self, swap: np.ndarray) -> np.ndarray:
        """(replicates, stats) a* - b* where pair i's labels are exchanged where ``swap``."""
        sign = np.where(swap, -1.0, 1.0)
        means = sign @ (self.ta - self.tb) / self.n
        meds = [np.median(np.where(swap, rb, ra), axis=1)
                - np.median(np.where(swap, ra, rb), axis=1)
                for ra, rb in zip(self.ra, self.rb)]
        return self._assemble(means, meds)


def _as_direction_map(x: Mapping[str, QueryRanks], name: str) -> dict[str, QueryRanks]:
    if not isinstance(x, Mapping):
        raise InputError(f"system {name}: expected a mapping direction -> QueryRanks, "
                         f"got {type(x).__name__}")
    return {d: as_query_ranks(q) for d, q in x.items()}


def paired_compare(a: Mapping[str, QueryRanks], b: Mapping[str, QueryRanks],
                   ties: str = DEFAULT_TIES, *, method: str = "permutation",
                   replicates: int = 10_000, level: float = 0.95, seed: int = 0) -> Comparison:
    """Compare system ``a`` with system ``b`` on the same queries (see the module docstring).

    Rows come per direction in ``a``'s order, metrics in METRICS order, then SumR. Refuses
    (InputError) different direction sets or query counts, an unknown method, a non-positive
    replicate count or a level outside (0, 1).

    >>> good = QueryRanks([0] * 60 + [9] * 40, [0] * 100)
    >>> poor = QueryRanks([0] * 20 + [9] * 80, [0] * 100)
    >>> c = paired_compare({"t2v": good}, {"t2v": poor}, replicates=2000)
    >>> row = c.rows[0]
    >>> row.metric, row.diff, row.better, row.p_value < 0.01
    ('t2v R@1', 40.0, 'a', True)
    """
    a, b = _as_direction_map(a, "a"), _as_direction_map(b, "b")
    if set(a) != set(b):
        raise InputError(f"expected both systems to have the same directions, got "
                         f"{', '.join(a) or 'none'} and {', '.join(b) or 'none'}")
    directions, n = check_paired(a)
    _, n_b = check_paired(b)
    if n_b != n:
        raise InputError(f"expected both systems to score the same queries, got {n} and {n_b}")
    if method not in METHODS:
        raise InputError(f"unknown comparison method: expected one of {', '.join(METHODS)}, "
                         f"got {method!r}")
    check_resampling(replicates, level)
    replicates = int(replicates)

    stats = _Stats(a, b, directions, ties)
    boot_rng, perm_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    boot = np.concatenate([stats.bootstrap_diffs(bootstrap_weights(boot_rng, size, n))
                           for size in chunk_sizes(replicates, n)])
    if method == "permutation":
        null = np.concatenate([stats.permutation_diffs(perm_rng.integers(0, 2, (size, n)) == 1)
                               for size in chunk_sizes(replicates, n)])

    sum_a = {d: summarise(a[d], ties) for d in directions}
    sum_b = {d: summarise(b[d], ties) for d in directions}
    labels = [(d, m) for d in directions for m in (*MEAN_METRICS, MEDIAN_RANK)] + [(None, SUMR)]
    rows_by_label: dict[tuple[str | None, str], ComparisonRow] = {}
    intervals = percentile_interval(boot, level)
    alpha = round(1.0 - float(level), 12)  # 1 - 0.95 is 0.05000000000000004 in binary
    for col, (d, m) in enumerate(labels):
        va = sum_a[d][m] if d is not None else sum_recall(sum_a)
        vb = sum_b[d][m] if d is not None else sum_recall(sum_b)
        diff = va - vb
        slack = _RTOL * max(1.0, abs(diff))
        if method == "permutation":
            extreme = np.abs(null[:, col]) >= abs(diff) - slack
        else:
            extreme = np.abs(boot[:, col] - diff) >= abs(diff) - slack
        p = (int(extreme.sum()) + 1) / (replicates + 1)
        better = None
        if p < alpha and diff != 0:
            better = "a" if (diff > 0) == higher_is_better(m) else "b"
        rows_by_label[(d, m)] = ComparisonRow(
            metric=m if d is None else f"{d} {m}", direction=d, a=float(va), b=float(vb),
            diff=float(diff), ci_low=float(intervals[0, col]), ci_high=float(intervals[1, col]),
            p_value=float(p), better=better)
    ordered = [rows_by_label[(d, m)] for d in directions for m in METRICS]
    ordered.append(rows_by_label[(None, SUMR)])
    for row, adjusted in zip(ordered, holm_adjust([r.p_value for r in ordered])):
        row.p_adjusted = adjusted
    return Comparison(rows=ordered, method=method, replicates=replicates, seed=int(seed),
                      level=float(level), ties=ties)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order.

    With p-values sorted ascending p_(1) <= ... <= p_(m): adjusted p_(i) =
    max_{j <= i} min(1, (m - j + 1) * p_(j)). Rejecting every hypothesis whose adjusted p is below
    alpha keeps the family-wise error rate at alpha (Holm 1979, no independence assumed).

    >>> holm_adjust([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    ps = np.asarray(p_values, dtype=float)
    m = ps.size
    if m == 0:
        return []
    if not np.all((ps >= 0.0) & (ps <= 1.0)):
        raise InputError(f"p-values: expected numbers in [0, 1], got {ps.tolist()}")
    order = np.argsort(ps, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * ps[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return [round(float(p), 15) for p in adjusted]


def bonferroni_adjust(p_values: Sequence[float]) -> list[float]:
    """Bonferroni adjusted p-values: min(1, m * p), in the input order."""
    ps = np.asarray(p_values, dtype=float)
    return [float(min(1.0, ps.size * p)) for p in ps]


def sumr_contributions(per_query: Mapping[str, QueryRanks], ties: str = DEFAULT_TIES) -> np.ndarray:
    """(N,) per-pair share of SumR: pair i's recall credit summed over directions and R@K, in
    percent points / N, so that the vector sums to SumR."""
    directions, n = check_paired(_as_direction_map(per_query, "system"))
    cols = RECALL_KS_INDEX
    total = np.zeros(n)
    for d in directions:
        total += mean_table(per_query[d], ties)[:, cols].sum(axis=1)
    return total / n


def paired_sumr_pvalue(a: Mapping[str, QueryRanks], b: Mapping[str, QueryRanks],
                       ties: str = DEFAULT_TIES, *, replicates: int = 2_000,
                       seed: int = 0) -> float:
    """Two-sided paired randomisation p-value for SumR(a) - SumR(b) (the ``permutation`` method
    of :func:`paired_compare` restricted to SumR, without the bootstrap intervals).

    With d_i = pair i's SumR share of a minus b, each replicate flips the sign of every d_i with
    probability 1/2; p = (#{|sum d*| >= |sum d|} + 1) / (R + 1).
    """
    check_resampling(replicates, 0.95)
    a, b = _as_direction_map(a, "a"), _as_direction_map(b, "b")
    if set(a) != set(b):
        raise InputError(f"expected both systems to have the same directions, got "
                         f"{', '.join(a) or 'none'} and {', '.join(b) or 'none'}")
    return sign_flip_pvalue(sumr_contributions(a, ties) - sumr_contributions(b, ties),
                            replicates=replicates, seed=seed)


def sign_flip_pvalue(d: np.ndarray, *, replicates: int = 2_000, seed: int = 0) -> float:
    """Two-sided paired randomisation p-value of sum(d) for per-pair differences ``d``: each
    replicate flips the sign of every d_i with probability 1/2; (#{|sum d*| >= |sum d|} + 1) /
    (R + 1); 1.0 when sum(d) is 0."""
    check_resampling(replicates, 0.95)
    d = np.asarray(d, dtype=float)
    observed = abs(float(d.sum()))
    if observed == 0.0:
        return 1.0
    rng = np.random.default_rng(seed)
    slack = _RTOL * max(1.0, observed)
    extreme = 0
    for size in chunk_sizes(int(replicates), d.size):
        signs = np.where(rng.integers(0, 2, (size, d.size)) == 1, -1.0, 1.0)
        extreme += int(np.count_nonzero(np.abs(signs @ d) >= observed - slack))
    return (extreme + 1) / (int(replicates) + 1)


def sign_flip_pvalues(diffs: np.ndarray, *, replicates: int = 2_000, seed: int = 0) -> list[float]:
    """:func:`sign_flip_pvalue` for every row of ``diffs`` (pairs x N) at once: the same sign
    draws for every row (so each row's p equals the single-row call with the same seed), one
    matrix product per chunk of replicates."""
    check_resampling(replicates, 0.95)
    diffs = np.atleast_2d(np.asarray(diffs, dtype=float))
    if diffs.shape[0] == 0:
        return []
    observed = np.abs(diffs.sum(axis=1))
    slack = _RTOL * np.maximum(1.0, observed)
    rng = np.random.default_rng(seed)
    extreme = np.zeros(diffs.shape[0], dtype=np.int64)
    for size in chunk_sizes(int(replicates), diffs.shape[1]):
        signs = np.where(rng.integers(0, 2, (size, diffs.shape[1])) == 1, -1.0, 1.0)
        extreme += np.count_nonzero(np.abs(signs @ diffs.T) >= observed - slack, axis=0)
    ps = (extreme + 1) / (int(replicates) + 1)
    return [1.0 if o == 0.0 else float(p) for o, p in zip(observed, ps)]


#: Columns of ``mean_table`` holding R@1, R@5, R@10.
RECALL_KS_INDEX = [MEAN_METRICS.index(m) for m in RECALLS]
