"""var_bench.scoring.stats.bootstrap: percentile bootstrap intervals over query pairs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.errors import InputError
from var_bench.scoring.stats.bootstrap import bootstrap_ci, bootstrap_weights, weighted_median
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import METRICS, RECALLS, SUMR
from var_bench.tasks.retrieval.ranks import sum_recall, summarise

from .systems import system

#: The retrieval task the counts are scored on.
TASK = UCFCRIME_AR.task()

REPLICATES = 2000  # enough for stable 95% intervals, fast in tests


def test_layout_and_point_estimate_inside_every_interval() -> None:
    per = {"t2v": system(290, 0.09, 0), "v2t": system(290, 0.07, 1)}
    ci = bootstrap_ci(TASK, per, replicates=REPLICATES, seed=3)
    assert ci["method"] == "percentile bootstrap"
    assert (ci["level"], ci["replicates"], ci["seed"]) == (0.95, REPLICATES, 3)
    assert list(ci["intervals"]) == ["t2v", "v2t", SUMR]
    point = {d: summarise(q) for d, q in per.items()}
    for d in per:
        assert tuple(ci["intervals"][d]) == METRICS
        for m in METRICS:
            lo, hi = ci["intervals"][d][m]
            assert isinstance(lo, float) and lo <= point[d][m] <= hi, (d, m, lo, hi)
    lo, hi = ci["intervals"][SUMR]
    assert lo < sum_recall(point) < hi


def test_r1_of_9_percent_on_290_queries_is_about_plus_minus_3_points() -> None:
    q = RankCounts(np.r_[np.zeros(26, np.int64), np.full(264, 20)], np.zeros(290, np.int64))
    lo, hi = bootstrap_ci(TASK, {"t2v": q}, replicates=REPLICATES)["intervals"]["t2v"]["R@1"]
    assert 2.5 < (hi - lo) / 2 < 4.0  # binomial: 1.96 * sqrt(.09 * .91 / 290) = 3.3 points


def test_interval_shrinks_with_n() -> None:
    small = bootstrap_ci(TASK, {"t2v": system(290, 0.3, 5, spread=80)}, replicates=REPLICATES)
    large = bootstrap_ci(TASK, {"t2v": system(2900, 0.3, 5, spread=80)}, replicates=REPLICATES)
    for m in METRICS:
        w_small = np.subtract(*small["intervals"]["t2v"][m][::-1])
        w_large = np.subtract(*large["intervals"]["t2v"][m][::-1])
        assert w_large < w_small, m


def test_reproducible_with_a_seed() -> None:
    per = {"a2v": system(800, 0.3, 7), "v2a": system(800, 0.3, 8)}
    one = bootstrap_ci(TASK, per, replicates=500, seed=11)
    assert one == bootstrap_ci(TASK, per, replicates=500, seed=11)
    assert one != bootstrap_ci(TASK, per, replicates=500, seed=12)


def test_pairs_are_resampled_together_across_directions() -> None:
    # Identical directions: a shared index vector keeps their replicates identical, so SumR's
    # interval is exactly twice one direction's R@ sum interval (independent draws would not).
    q = system(290, 0.2, 9)
    ci = bootstrap_ci(TASK, {"t2v": q, "v2t": q}, replicates=REPLICATES)
    single = bootstrap_ci(TASK, {"t2v": q}, replicates=REPLICATES)
    assert ci["intervals"]["t2v"] == ci["intervals"]["v2t"] == single["intervals"]["t2v"]
    np.testing.assert_allclose(ci["intervals"][SUMR], 2 * np.array(single["intervals"][SUMR]))


def test_ties_rule_changes_intervals() -> None:
    q = RankCounts(np.zeros(100, np.int64), np.full(100, 3))
    exp = bootstrap_ci(TASK, {"t2v": q}, "expected", replicates=200)["intervals"]["t2v"]
    best = bootstrap_ci(TASK, {"t2v": q}, "optimistic", replicates=200)["intervals"]["t2v"]
    assert exp["R@1"] == [25.0, 25.0] and best["R@1"] == [100.0, 100.0]


def test_level_widens_intervals() -> None:
    q = system(290, 0.1, 10)
    narrow = bootstrap_ci(TASK, {"t2v": q}, replicates=REPLICATES, level=0.5)["intervals"]["t2v"][
        "R@5"
    ]
    wide = bootstrap_ci(TASK, {"t2v": q}, replicates=REPLICATES, level=0.99)["intervals"]["t2v"][
        "R@5"
    ]
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"per_query": {}}, "at least one direction"),
        (
            {"per_query": {"t2v": RankCounts([0], [0]), "v2t": RankCounts([0, 0], [0, 0])}},
            "same number of queries .* t2v: 1, v2t: 2",
        ),
        ({"replicates": 0}, "replicates: expected a positive integer, got 0"),
        ({"replicates": 2.5}, "replicates"),
        ({"level": 1.0}, "strictly between 0 and 1, got 1.0"),
        ({"level": 0}, "level"),
        ({"rule": "random"}, "ties: expected one of expected, optimistic, pessimistic"),
    ],
)
def test_bad_input_is_refused(kw, message) -> None:
    args = {"per_query": {"t2v": RankCounts([0, 1], [0, 0])}, "replicates": 10, **kw}
    with pytest.raises(InputError, match=message):
        bootstrap_ci(TASK, **args)


def test_weights_are_bootstrap_counts() -> None:
    w = bootstrap_weights(np.random.default_rng(0), 4000, 10)
    assert w.shape == (4000, 10) and (w.sum(axis=1) == 10).all()
    # Each pair is drawn Binomial(10, 1/10) times: mean 1, variance 0.9.
    assert w.mean() == pytest.approx(1.0) and w.var() == pytest.approx(0.9, rel=0.05)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 12), elements=st.integers(0, 9).map(float)),
    st.integers(0, 2**32 - 1),
)
def test_weighted_median_equals_median_of_the_expanded_sample(values, seed) -> None:
    w = bootstrap_weights(np.random.default_rng(seed), 5, len(values))
    expanded = [np.median(np.repeat(values, row)) for row in w]
    np.testing.assert_array_equal(weighted_median(values, w), expanded)


def test_recalls_sum_within_sumr_replicates() -> None:
    # SumR's interval is that of the sum, not the sum of intervals: it is narrower than the sum
    # of the six R@K interval widths when directions are positively related.
    q = system(290, 0.2, 12)
    ci = bootstrap_ci(TASK, {"t2v": q, "v2t": system(290, 0.2, 12)}, replicates=REPLICATES)
    width = ci["intervals"][SUMR][1] - ci["intervals"][SUMR][0]
    widths = sum(
        ci["intervals"][d][m][1] - ci["intervals"][d][m][0] for d in ("t2v", "v2t") for m in RECALLS
    )
    assert 0 < width <= widths
