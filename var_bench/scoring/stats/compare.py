"""Paired comparison of two systems scored on the same queries: differences, intervals, p-values.

Both systems answer the same queries, so every statistic is paired: query i of system a is
compared with query i of system b; when the task's groups are paired (query i of t2v and of v2t
are test pair i), all groups at once. For every group x metric (retrieval: R@1, R@5, R@10, MdR,
MnR) and for every summary (SumR):

* ``diff`` = metric(a) - metric(b);
* ``[ci_low, ci_high]``: percentile interval of the difference over paired bootstrap replicates
  (the same resampled queries for a and b, and for every paired group);
* ``p_value``, two-sided, with add-one smoothing (count + 1) / (R + 1) so it is never 0:

  - ``permutation`` (paired randomisation test, Fisher's randomisation test as in ranx): under
    H0 the labels a/b are exchangeable within a query (a pair), so each replicate swaps a and b in
    each with probability 1/2 (in every paired group at once) and counts |diff*| >= |diff|;
  - ``bootstrap`` (shift method): centre the bootstrap differences on 0 and count
    |diff* - diff| >= |diff|.

``better`` names the system whose value is better given the metric's direction (the task's
``higher_is_better``) when p < 1 - level, else None.

Multiple comparisons: one retrieval comparison tests 2 x 5 + 1 = 11 hypotheses, and a leaderboard
tests every pair of entries. ``p_adjusted`` is the Holm (1979) step-down adjustment over the rows
of one comparison (:func:`holm_adjust`): sort the m p-values p_(1) <= .. <= p_(m), adjusted
p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)); rejecting where p_adjusted < 1 - level controls the
family-wise error rate at 1 - level under any dependence. ``better`` stays the per-metric decision
on the raw ``p_value`` (one pre-chosen metric, e.g. the main score, needs no correction); use
``p_adjusted`` when reading several rows at once. :func:`bonferroni_adjust` is the simpler,
more conservative m * p.

The median is a coarse statistic: when most relabellings leave both medians where they were
(e.g. nearly constant ranks), the randomisation test for MdR has little power; the bootstrap
interval of the difference still shows the gap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.scoring.stats.bootstrap import (
    Values,
    bootstrap_weights,
    check_resampling,
    chunk_sizes,
    percentile_interval,
    weighted_median,
)
from var_bench.tasks import Task

METHODS: tuple[str, ...] = ("permutation", "bootstrap")
#: Relative slack when comparing a replicate's |statistic| with the observed one: both are sums
#: of the same per-query values in a different order, so equal values may differ by rounding.
_RTOL = 1e-9


@dataclass
class ComparisonRow:
    """One metric of one group (``metric`` "t2v R@1", ``direction`` "t2v"), or a summary
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
    #: The metric's direction of improvement (the task's).
    higher_is_better: bool = True


@dataclass
class Comparison:
    """All rows of a paired comparison and how they were computed."""

    rows: list[ComparisonRow] = field(default_factory=list)
    method: str = "permutation"
    replicates: int = 10_000
    seed: int = 0
    level: float = 0.95
    ties: str | None = None
    #: How ``p_adjusted`` was computed.
    correction: str = "holm"
    #: What a reader must know beside the numbers (e.g. the two entries sampled their videos
    #: differently: :func:`var_bench.scoring.score.sampling_notes`).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (rows as dicts, in order)."""
        return asdict(self)


class _Stats:
    """Every compared statistic of one resampling as one column: for each group its mean-type
    metrics then its median-type metrics, and finally every summary."""

    def __init__(self, a: Values, b: Values) -> None:
        self.a, self.b = a, b
        self.groups = a.groups
        self.width = len(a.mean_names)
        self.diff = {g: a.means[g] - b.means[g] for g in self.groups}
        self.summary_cols = [
            [j * self.width + c for j in range(len(self.groups)) for c in a.term_columns(s.terms)]
            for s in a.task.summaries
        ]

    def _assemble(self, means: np.ndarray, medians: list[np.ndarray]) -> np.ndarray:
        cols, k = [], 0
        per = len(self.a.median_names)
        for j in range(len(self.groups)):
            cols.append(means[:, j * self.width : (j + 1) * self.width])
            cols.extend(med[:, None] for med in medians[k : k + per])
            k += per
        for sc in self.summary_cols:
            cols.append(means[:, sc].sum(axis=1, keepdims=True))
        return np.concatenate(cols, axis=1)

    def _draws(self, rng: np.random.Generator, replicates: int, draw) -> Iterator[dict]:
        """Per chunk, each group's draws: one array shared by paired groups, else one each."""
        sizes = self.a.sizes
        if self.a.paired:
            n = next(iter(sizes.values()))
            for size in chunk_sizes(replicates, n):
                x = draw(rng, size, n)
                yield {g: x for g in self.groups}
        else:
            for size in chunk_sizes(replicates, max(sizes.values())):
                yield {g: draw(rng, size, sizes[g]) for g in self.groups}

    def bootstrap_diffs(self, w: dict[str, np.ndarray]) -> np.ndarray:
        """(replicates, stats) a - b for bootstrap weights ``w`` (per group)."""
        if self.a.paired:
            g0 = self.groups[0]
            n = self.a.sizes[g0]
            stacked = np.concatenate([self.diff[g] for g in self.groups], axis=1)
            means = w[g0] @ stacked / n
        else:
            means = np.concatenate(
                [w[g] @ self.diff[g] / self.a.sizes[g] for g in self.groups], axis=1
            )
        meds = [
            weighted_median(xa, w[g]) - weighted_median(xb, w[g])
            for g in self.groups
            for xa, xb in zip(self.a.medians[g], self.b.medians[g])
        ]
        return self._assemble(means, meds)

    def permutation_diffs(self, swap: dict[str, np.ndarray]) -> np.ndarray:
        """(replicates, stats) a* - b* where query i's labels are exchanged where ``swap``."""
        if self.a.paired:
            g0 = self.groups[0]
            sign = np.where(swap[g0], -1.0, 1.0)
            stacked = np.concatenate([self.diff[g] for g in self.groups], axis=1)
            means = sign @ stacked / self.a.sizes[g0]
        else:
            means = np.concatenate(
                [
                    np.where(swap[g], -1.0, 1.0) @ self.diff[g] / self.a.sizes[g]
                    for g in self.groups
                ],
                axis=1,
            )
        meds = [
            np.median(np.where(swap[g], xb, xa), axis=1)
            - np.median(np.where(swap[g], xa, xb), axis=1)
            for g in self.groups
            for xa, xb in zip(self.a.medians[g], self.b.medians[g])
        ]
        return self._assemble(means, meds)


def _boot(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    return bootstrap_weights(rng, size, n)


def _swap(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    return rng.integers(0, 2, (size, n)) == 1


def _as_group_map(x: Mapping[str, Any], name: str) -> dict[str, Any]:
    if not isinstance(x, Mapping):
        raise InputError(
            f"system {name}: expected a mapping direction -> per-query counts, "
            f"got {type(x).__name__}"
        )
    return dict(x)


def paired_compare(
    task: Task,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    rule: str | None = None,
    *,
    method: str = "permutation",
    replicates: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Compare system ``a`` with system ``b`` on the same queries (see the module docstring).

    Args:
        task: the task both were scored on.
        a, b: group -> per-query counts of each system.
        rule: the rule the metrics are computed under (None: the task's official one).
        method: ``permutation`` or ``bootstrap``.
        replicates, level, seed: the resampling.

    Returns:
        The :class:`Comparison`: rows per group in ``a``'s order, metrics in the task's order,
        then the summaries.

    Raises:
        InputError: different group sets or query counts, an unknown method, a non-positive
            replicate count or a level outside (0, 1).

    Example:
        >>> from var_bench.benchmarks import UCFCRIME_AR
        >>> from var_bench.tasks.retrieval import RankCounts
        >>> good = RankCounts([0] * 60 + [9] * 40, [0] * 100)
        >>> poor = RankCounts([0] * 20 + [9] * 80, [0] * 100)
        >>> c = paired_compare(UCFCRIME_AR.task(), {"t2v": good}, {"t2v": poor}, replicates=2000)
        >>> row = c.rows[0]
        >>> row.metric, row.diff, row.better, row.p_value < 0.01
        ('t2v R@1', 40.0, 'a', True)
    """
    a, b = _as_group_map(a, "a"), _as_group_map(b, "b")
    rule = task.check_rule(rule)
    if set(a) != set(b):
        raise InputError(
            f"expected both systems to have the same directions, got "
            f"{', '.join(a) or 'none'} and {', '.join(b) or 'none'}"
        )
    va = Values(task, a, rule)
    vb = Values(task, {g: b[g] for g in a}, rule)
    if va.sizes != vb.sizes:
        ga = ", ".join(map(str, va.sizes.values()))
        gb = ", ".join(map(str, vb.sizes.values()))
        raise InputError(f"expected both systems to score the same queries, got {ga} and {gb}")
    if method not in METHODS:
        raise InputError(
            f"unknown comparison method: expected one of {', '.join(METHODS)}, got {method!r}"
        )
    check_resampling(replicates, level)
    replicates = int(replicates)

    stats = _Stats(va, vb)
    boot_rng, perm_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    boot = np.concatenate(
        [stats.bootstrap_diffs(w) for w in stats._draws(boot_rng, replicates, _boot)]
    )
    if method == "permutation":
        null = np.concatenate(
            [stats.permutation_diffs(sw) for sw in stats._draws(perm_rng, replicates, _swap)]
        )

    groups = va.groups
    met_a = {g: task.summarise(a[g], rule) for g in groups}
    met_b = {g: task.summarise(b[g], rule) for g in groups}
    sum_a, sum_b = task.summary(met_a), task.summary(met_b)
    labels = [(g, m) for g in groups for m in (*va.mean_names, *va.median_names)]
    labels += [(None, s.name) for s in task.summaries]
    rows_by_label: dict[tuple[str | None, str], ComparisonRow] = {}
    intervals = percentile_interval(boot, level)
    alpha = round(1.0 - float(level), 12)  # 1 - 0.95 is 0.05000000000000004 in binary
    for col, (g, m) in enumerate(labels):
        va_, vb_ = (met_a[g][m], met_b[g][m]) if g is not None else (sum_a[m], sum_b[m])
        diff = va_ - vb_
        slack = _RTOL * max(1.0, abs(diff))
        if method == "permutation":
            extreme = np.abs(null[:, col]) >= abs(diff) - slack
        else:
            extreme = np.abs(boot[:, col] - diff) >= abs(diff) - slack
        p = (int(extreme.sum()) + 1) / (replicates + 1)
        better = None
        if p < alpha and diff != 0:
            better = "a" if (diff > 0) == task.higher_is_better(m) else "b"
        rows_by_label[(g, m)] = ComparisonRow(
            metric=m if g is None else f"{g} {m}",
            direction=g,
            a=float(va_),
            b=float(vb_),
            diff=float(diff),
            ci_low=float(intervals[0, col]),
            ci_high=float(intervals[1, col]),
            p_value=float(p),
            better=better,
            higher_is_better=task.higher_is_better(m),
        )
    ordered = [rows_by_label[(g, m.name)] for g in groups for m in task.metrics]
    ordered += [rows_by_label[(None, s.name)] for s in task.summaries]
    for row, adjusted in zip(ordered, holm_adjust([r.p_value for r in ordered])):
        row.p_adjusted = adjusted
    return Comparison(
        rows=ordered,
        method=method,
        replicates=replicates,
        seed=int(seed),
        level=float(level),
        ties=rule,
    )


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


def main_contributions(
    task: Task, per_query: Mapping[str, Any], rule: str | None = None
) -> np.ndarray:
    """Per-unit share of the main score, so that the vector sums to it: for paired groups one
    entry per pair (pair i's values of the main score's terms summed over groups, / N), else one
    entry per query of every group in turn (/ that group's N).

    Raises:
        InputError: the main score is a median-type metric (it has no per-query shares).
    """
    rule = task.check_rule(rule)
    terms = next((s.terms for s in task.summaries if s.name == task.main_score), None)
    if terms is None:
        if task.main_score not in task.mean_metrics:
            raise InputError(f"{task.main_score}: a median has no per-query shares")
        terms = (task.main_score,)
    v = Values(task, _as_group_map(per_query, "system"), rule)
    cols = v.term_columns(terms)
    if v.paired:
        n = next(iter(v.sizes.values()))
        total = np.zeros(n)
        for g in v.groups:
            total += v.means[g][:, cols].sum(axis=1)
        return total / n
    return np.concatenate([v.means[g][:, cols].sum(axis=1) / v.sizes[g] for g in v.groups])


def paired_main_pvalue(
    task: Task,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    rule: str | None = None,
    *,
    replicates: int = 2_000,
    seed: int = 0,
) -> float:
    """Two-sided paired randomisation p-value for main(a) - main(b) (the ``permutation`` method
    of :func:`paired_compare` restricted to the main score, without the bootstrap intervals).

    With d_i = unit i's share of the main score of a minus b, each replicate flips the sign of
    every d_i with probability 1/2; p = (#{|sum d*| >= |sum d|} + 1) / (R + 1).
    """
    check_resampling(replicates, 0.95)
    a, b = _as_group_map(a, "a"), _as_group_map(b, "b")
    if set(a) != set(b):
        raise InputError(
            f"expected both systems to have the same directions, got "
            f"{', '.join(a) or 'none'} and {', '.join(b) or 'none'}"
        )
    return sign_flip_pvalue(
        main_contributions(task, a, rule) - main_contributions(task, b, rule),
        replicates=replicates,
        seed=seed,
    )


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
