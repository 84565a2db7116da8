"""Tiers: which leaderboard rows the data can tell apart, for any task.

On UCFCrime-AR one R@1 point is about three of 290 queries, so a strict 1..N order claims more
than the test set shows. A row's tier is 1 + the number of rows that are *significantly better*
than it (the "rank with uncertainty" of Chatbot Arena): rows nobody beats share tier 1, two
identical models always share a tier, and a much better model sits a tier above.

"Significantly better" is decided per pair, by the strongest test the two rows support:

* both rows have per-query counts (verified user records): the paired randomisation test on the
  task's main score (:func:`var_bench.scoring.stats.compare.main_contributions`,
  :data:`REPLICATES` sign-flip replicates, seed 0), with Holm's correction over every such pair on
  the board (:func:`~var_bench.scoring.stats.compare.holm_adjust`); better where the adjusted p
  is below 1 - :data:`LEVEL` and its main score is higher;
* otherwise (a published row: aggregates only): Wilson intervals on the counts behind each
  percentage the main score adds up (retrieval: the six recalls, R@K x N / 100 of N queries;
  :mod:`var_bench.scoring.stats.binomial`) at level 1 - (1 - LEVEL) / m (Bonferroni over the m
  percentages). Row a is better than row b when a's interval lies wholly above b's on at least one
  and b's lies wholly above a's on none. Non-overlap of two intervals is a conservative test, so
  this method separates fewer pairs.

Every pair's method and outcome is kept (:class:`PairTest`), and every format says which method
each comparison used.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from var_bench.scoring.stats.binomial import percent_interval
from var_bench.scoring.stats.compare import holm_adjust, main_contributions, sign_flip_pvalues
from var_bench.tasks import Task

#: Confidence level of every tier decision (family-wise for the paired tests).
LEVEL = 0.95
#: Sign-flip replicates of each paired test (p resolution 1 / (R + 1) = 0.0005).
REPLICATES = 2_000
#: The two methods, as :class:`PairTest` records them.
PAIRED, WILSON = "paired", "wilson"


def wilson_metrics(task: Task) -> tuple[str, ...]:
    """The percentages the main score adds up (or the main metric itself, if a percentage):
    what a published row's aggregates support Wilson intervals on."""
    terms = next((s.terms for s in task.summaries if s.name == task.main_score), (task.main_score,))
    return tuple(t for t in terms if task.metric(t).is_percentage)


def method_text(task: Task, method: str, groups: int) -> str:
    """How a tier method is described in every format."""
    if method == PAIRED:
        return f"paired randomisation test on {task.main_score}, Holm-corrected"
    k = len(wilson_metrics(task)) * groups
    noun = task.percentage_noun
    return f"Wilson intervals on each {noun}'s count, Bonferroni over {k} {noun}s"


@dataclass(frozen=True)
class PairTest:
    """The comparison of rows ``a`` and ``b`` (indices into the ranked entries).

    ``better``: "a", "b" or None (not told apart); ``p_value``/``p_adjusted``: for the paired
    method, None for Wilson intervals."""

    a: int
    b: int
    method: str
    better: str | None
    p_value: float | None = None
    p_adjusted: float | None = None


def _wilson_better(task: Task, a, b, sizes: Mapping[str, int]) -> str | None:
    metrics = wilson_metrics(task)
    level = 1.0 - (1.0 - LEVEL) / max(1, len(metrics) * len(sizes))
    a_wins = b_wins = False
    for d, n in sizes.items():
        for m in metrics:
            va, vb = a.metrics[d].get(m), b.metrics[d].get(m)
            if va is None or vb is None:
                continue
            lo_a, hi_a = percent_interval(va, n, level)
            lo_b, hi_b = percent_interval(vb, n, level)
            a_wins |= lo_a > hi_b
            b_wins |= lo_b > hi_a
    if a_wins and not b_wins:
        return "a"
    if b_wins and not a_wins:
        return "b"
    return None


def pair_tests(
    task: Task, entries: Sequence, sizes: Mapping[str, int], replicates: int = REPLICATES
) -> list[PairTest]:
    """Every pair of ``entries`` compared (see the module docstring); ``sizes``: queries per
    group of the test split (what a published row's percentages are counts of)."""
    alpha = round(1.0 - LEVEL, 12)
    rule = task.official_rule
    paired, tests = [], []
    # Each entry's per-unit shares of the main score once; a pair's test flips their difference.
    shares = {
        i: main_contributions(task, e.per_query, rule) for i, e in enumerate(entries) if e.per_query
    }
    for i, j in itertools.combinations(range(len(entries)), 2):
        a, b = entries[i], entries[j]
        if a.per_query and b.per_query and set(a.per_query) == set(b.per_query):
            paired.append((i, j))
        else:
            tests.append(PairTest(i, j, WILSON, _wilson_better(task, a, b, sizes)))
    ps = (
        sign_flip_pvalues(
            np.array([shares[i] - shares[j] for i, j in paired]).reshape(len(paired), -1),
            replicates=replicates,
            seed=0,
        )
        if paired
        else []
    )
    paired = [(i, j, p) for (i, j), p in zip(paired, ps)]
    higher = task.higher_is_better(task.main_score)
    for (i, j, p), adj in zip(paired, holm_adjust([p for _, _, p in paired])):
        better = None
        if adj < alpha and entries[i].score != entries[j].score:
            better = "a" if (entries[i].score > entries[j].score) == higher else "b"
        tests.append(PairTest(i, j, PAIRED, better, p, adj))
    return sorted(tests, key=lambda t: (t.a, t.b))


def assign_tiers(entries: Sequence, tests: Sequence[PairTest]) -> list[int]:
    """Tier of each entry: 1 + the number of entries significantly better than it."""
    beaten = [0] * len(entries)
    for t in tests:
        if t.better == "a":
            beaten[t.b] += 1
        elif t.better == "b":
            beaten[t.a] += 1
    return [1 + k for k in beaten]
