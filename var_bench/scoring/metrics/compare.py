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

The median is a coarse statistic: when most relabellings leave both medians where they were
(e.g. nearly constant ranks), the randomisation test for MdR has little power; the bootstrap
interval of the difference still shows the gap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

from var_bench.errors import InputError
from var_bench.scoring.metrics.bootstrap import (
    MEAN_METRICS,
    bootstrap_weights,
    check_paired,
    check_resampling,
    chunk_sizes,
    mean_table,
    percentile_interval,
    weighted_median,
)
from var_bench.scoring.metrics.counts import QueryRanks
from var_bench.scoring.metrics.names import DEFAULT_TIES, MEDIAN_RANK, METRICS, RECALLS, SUMR, higher_is_better
from var_bench.scoring.metrics.ranks import as_query_ranks, rank, summarise, sum_recall

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


@dataclass
class Comparison:
    """All rows of a paired comparison and how they were computed."""

    rows: list[ComparisonRow] = field(default_factory=list)
    method: str = "permutation"
    replicates: int = 10_000
    seed: int = 0
    level: float = 0.95
    ties: str = DEFAULT_TIES

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
    return Comparison(rows=ordered, method=method, replicates=replicates, seed=int(seed),
                      level=float(level), ties=ties)
