"""Tiers: which leaderboard rows the data can tell apart.

On UCFCrime-AR one R@1 point is about three of 290 queries, so a strict 1..N order claims more
than the test set shows. A row's tier is 1 + the number of rows that are *significantly better*
than it (the "rank with uncertainty" of Chatbot Arena): rows nobody beats share tier 1, two
identical models always share a tier, and a much better model sits a tier above.

"Significantly better" is decided per pair, by the strongest test the two rows support:

* both rows have per-query ranks (verified user records): the paired randomisation test on SumR
  (:func:`var_bench.scoring.stats.compare.paired_sumr_pvalue`, :data:`REPLICATES` sign-flip
  replicates, seed 0), with Holm's correction over every such pair on the board
  (:func:`~var_bench.scoring.stats.compare.holm_adjust`); better where the adjusted p is below
  1 - :data:`LEVEL` and its SumR is higher;
* otherwise (a published row: aggregates only): Wilson intervals on the counts behind each of the
  six recalls (R@K x N / 100 of N queries; :mod:`var_bench.scoring.stats.binomial`) at level
  1 - (1 - LEVEL) / 6 (Bonferroni over the six recalls). Row a is better than row b when a's
  interval lies wholly above b's on at least one recall and b's lies wholly above a's on none.
  Non-overlap of two intervals is a conservative test, so this method separates fewer pairs.

Every pair's method and outcome is kept (:class:`PairTest`), and every format says which method
each comparison used.
"""

from __future__ import annotations

import itertools

import numpy as np
from dataclasses import dataclass
from typing import Sequence

from var_bench.scoring.stats.binomial import percent_interval
from var_bench.scoring.stats.compare import holm_adjust, sign_flip_pvalues, sumr_contributions
from var_bench.tasks.retrieval.names import RECALLS

#: Confidence level of every tier decision (family-wise for the paired tests).
LEVEL = 0.95
#: Sign-flip replicates of each paired test (p resolution 1 / (R + 1) = 0.0005).
REPLICATES = 2_000
PAIRED = "paired randomisation test on SumR, Holm-corrected"
WILSON = "Wilson intervals on each recall's count, Bonferroni over 6 recalls"


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


def _wilson_better(a, b, n: int, directions: Sequence[str]) -> str | None:
    level = 1.0 - (1.0 - LEVEL) / (len(RECALLS) * len(directions))
    a_wins = b_wins = False
    for d in directions:
        for m in RECALLS:
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


def pair_tests(entries: Sequence, n: int, ties: str, directions: Sequence[str],
               replicates: int = REPLICATES) -> list[PairTest]:
    """Every pair of ``entries`` compared (see the module docstring)."""
    alpha = round(1.0 - LEVEL, 12)
    paired, tests = [], []
    # Each entry's per-pair SumR shares once; a pair's test flips signs of their difference.
    shares = {i: sumr_contributions(e.per_query, ties) for i, e in enumerate(entries) if e.per_query}
    for i, j in itertools.combinations(range(len(entries)), 2):
        a, b = entries[i], entries[j]
        if a.per_query and b.per_query and set(a.per_query) == set(b.per_query):
            paired.append((i, j))
        else:
            tests.append(PairTest(i, j, WILSON, _wilson_better(a, b, n, directions)))
    ps = sign_flip_pvalues(np.array([shares[i] - shares[j] for i, j in paired]).reshape(
        len(paired), -1), replicates=replicates, seed=0) if paired else []
    paired = [(i, j, p) for (i, j), p in zip(paired, ps)]
    for (i, j, p), adj in zip(paired, holm_adjust([p for _, _, p in paired])):
        better = None
        if adj < alpha and entries[i].sumr != entries[j].sumr:
            better = "a" if entries[i].sumr > entries[j].sumr else "b"
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
