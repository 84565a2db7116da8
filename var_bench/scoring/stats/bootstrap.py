"""Percentile bootstrap confidence intervals over queries, for every task type.

A task gives, per group and metric, per-query values whose mean (or median) is the metric
(:meth:`~var_bench.tasks.base.Task.values`; retrieval: 100 x R@K credit, the rank). A replicate
draws queries with replacement and recomputes every metric and summary:

* when the task's groups are *paired* (query i of every group is test pair i, as on today's
  benchmarks), a replicate resamples PAIRS: one index vector of N draws is applied to every group,
  and a summary adding the groups (SumR) gets an interval too;
* otherwise each group's queries are resampled on their own (a stratified bootstrap) and a
  summary adds the groups' replicates.

A replicate is represented by its weights w (w_i = how often query i was drawn, sum w = N): a
mean-type metric is then w @ x / N, one matrix product for all metrics and replicates, and a
median-type metric is the weighted median. The interval is [q_(1-level)/2, q_(1+level)/2] of the
replicate values (linear interpolation between order statistics, NumPy's default percentile).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks import Task

METHOD = "percentile bootstrap"
#: Replicates x queries per chunk of work (int64 weights: 16 MiB), so memory stays bounded.
_CHUNK_ELEMENTS = 1 << 21


def group_sizes(task: Task, per_query: Mapping[str, Any]) -> dict[str, int]:
    """Queries per group, after checking there is at least one group and that paired groups have
    the same number of queries (pairs)."""
    if not per_query:
        raise InputError("expected per-query counts for at least one direction, got none")
    sizes = {g: task.query_count(q) for g, q in per_query.items()}
    if any(n == 0 for n in sizes.values()):
        raise InputError("expected counts for at least one query, got none")
    if task.paired and len(set(sizes.values())) != 1:
        got = ", ".join(f"{g}: {n}" for g, n in sizes.items())
        raise InputError(
            f"expected the same number of queries (pairs) in every direction, got {got}"
        )
    return sizes


def check_resampling(replicates: int, level: float) -> None:
    """Refuse a non-positive replicate count or a level outside (0, 1)."""
    if isinstance(replicates, bool) or int(replicates) != replicates or replicates < 1:
        raise InputError(f"replicates: expected a positive integer, got {replicates!r}")
    if not 0.0 < float(level) < 1.0:
        raise InputError(
            f"level: expected a confidence level strictly between 0 and 1, got {level!r}"
        )


class Values:
    """Per group, the per-query values of every metric of ``task`` under ``rule``: ``means[g]``
    an (N_g, M) matrix of the mean-type metrics (in the task's order), ``medians[g]`` the
    median-type metrics' vectors."""

    def __init__(self, task: Task, per_query: Mapping[str, Any], rule: str | None) -> None:
        self.task = task
        self.sizes = group_sizes(task, per_query)
        self.groups = list(per_query)
        self.mean_names, self.median_names = task.mean_metrics, task.median_metrics
        values = {g: task.values(per_query[g], rule) for g in self.groups}
        self.means = {
            g: np.stack([values[g][m] for m in self.mean_names], axis=1) for g in self.groups
        }
        self.medians = {g: [values[g][m] for m in self.median_names] for g in self.groups}

    @property
    def paired(self) -> bool:
        return self.task.paired

    def term_columns(self, terms: tuple[str, ...]) -> list[int]:
        return [self.mean_names.index(t) for t in terms]


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


def bootstrap_ci(
    task: Task,
    per_query: Mapping[str, Any],
    rule: str | None = None,
    *,
    replicates: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """Percentile bootstrap intervals of every metric of every group, and of every summary.

    Args:
        task: the task the counts are of.
        per_query: group -> per-query counts.
        rule: the rule the metrics are computed under (retrieval: the tie rule).
        replicates, level, seed: the resampling; the same seed, counts and replicates always
            give the same intervals.

    Returns:
        ``{"method": "percentile bootstrap", "level", "replicates", "seed", "intervals":
        {group: {metric: [lo, hi]}, summary: [lo, hi]}}``, metrics in the task's order.

    Raises:
        InputError: no group, paired groups of different sizes, a bad replicate count or level.

    Example:
        >>> from var_bench.benchmarks import UCFCRIME_AR
        >>> from var_bench.tasks.retrieval import RankCounts
        >>> q = RankCounts([0] * 9 + [5] * 91, [0] * 100)
        >>> ci = bootstrap_ci(UCFCRIME_AR.task(), {"t2v": q, "v2t": q}, "expected",
        ...                   replicates=2000)
        >>> lo, hi = ci["intervals"]["t2v"]["R@1"]
        >>> bool(lo < 9.0 < hi), bool(hi - lo < 15.0)
        (True, True)
    """
    check_resampling(replicates, level)
    v = Values(task, per_query, task.check_rule(rule))
    means, medians = _replicates(v, int(replicates), np.random.default_rng(seed))
    intervals: dict[str, object] = {}
    width = len(v.mean_names)
    for j, g in enumerate(v.groups):
        block = means[:, j * width : (j + 1) * width]
        samples = {m: block[:, k] for k, m in enumerate(v.mean_names)}
        for k, m in enumerate(v.median_names):
            samples[m] = medians[:, j * len(v.median_names) + k]
        intervals[g] = {
            m.name: _pair(percentile_interval(samples[m.name], level)) for m in task.metrics
        }
    for s in task.summaries:
        total = np.zeros(means.shape[0])
        cols = v.term_columns(s.terms)
        for j in range(len(v.groups)):
            total += means[:, j * width : (j + 1) * width][:, cols].sum(axis=1)
        intervals[s.name] = _pair(percentile_interval(total, level))
    return {
        "method": METHOD,
        "level": float(level),
        "replicates": int(replicates),
        "seed": int(seed),
        "intervals": intervals,
    }


def _replicates(
    v: Values, replicates: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(replicates, groups x mean metrics) means and (replicates, groups x median metrics)
    medians: paired groups share each replicate's draws, independent groups draw their own."""
    means_parts, medians_parts = [], []
    if v.paired:
        n = next(iter(v.sizes.values()))
        stacked = np.concatenate([v.means[g] for g in v.groups], axis=1)
        for size in chunk_sizes(replicates, n):
            w = bootstrap_weights(rng, size, n)
            means_parts.append(w @ stacked / n)
            medians_parts.append(_medians(v, {g: w for g in v.groups}, size))
    else:
        for size in chunk_sizes(replicates, max(v.sizes.values())):
            ws = {g: bootstrap_weights(rng, size, v.sizes[g]) for g in v.groups}
            means_parts.append(
                np.concatenate([ws[g] @ v.means[g] / v.sizes[g] for g in v.groups], axis=1)
            )
            medians_parts.append(_medians(v, ws, size))
    return np.concatenate(means_parts), np.concatenate(medians_parts)


def _medians(v: Values, weights: Mapping[str, np.ndarray], size: int) -> np.ndarray:
    cols = [weighted_median(x, weights[g]) for g in v.groups for x in v.medians[g]]
    return np.stack(cols, axis=1) if cols else np.zeros((size, 0))


def _pair(interval: np.ndarray) -> list[float]:
    return [float(interval[0]), float(interval[1])]
