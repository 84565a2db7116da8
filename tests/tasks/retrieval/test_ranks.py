"""var_bench.tasks.retrieval.ranks: every metric as a pure function of (b, e)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from var_bench.errors import InputError
from var_bench.tasks.retrieval.counting import count_ranks
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import (
    MEAN_RANK,
    MEDIAN_RANK,
    METRICS,
    RECALL_KS,
    RECALLS,
    TIE_RULES,
)
from var_bench.tasks.retrieval.ranks import (
    mean_rank,
    median_rank,
    rank,
    recall_at_k,
    recall_credit,
    recall_curve,
    sum_recall,
    summarise,
    tied_query_count,
)


@st.composite
def query_ranks(draw, max_n: int = 40) -> RankCounts:
    """Counts that a real N x N matrix can produce: b + e <= N - 1."""
    n = draw(st.integers(1, max_n))
    b = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n - 1)))
    room = n - 1 - b
    frac = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 1)))
    return RankCounts(b, np.floor(frac * room).astype(np.int64))


# ---------------------------------------------------------------------------------------------
# Golden cases


def test_perfect_diagonal_scores_perfectly() -> None:
    rows, cols = count_ranks(np.eye(290, dtype=np.float32))
    for q in (rows, cols):
        for ties in TIE_RULES:
            s = summarise(q, ties)
            assert [s[m] for m in RECALLS] == [100.0] * 3
            assert s[MEDIAN_RANK] == 1.0 and s[MEAN_RANK] == 1.0


@pytest.mark.parametrize("n", [290, 800, 7])
def test_constant_matrix_is_exactly_chance_and_bounds_are_extremes(n: int) -> None:
    rows, cols = count_ranks(np.zeros((n, n), np.float32))
    for q in (rows, cols):
        s = summarise(q)
        for k, m in zip(RECALL_KS, RECALLS):
            assert s[m] == pytest.approx(100.0 * min(k, n) / n, abs=1e-12)
        assert s[MEDIAN_RANK] == s[MEAN_RANK] == (n + 1) / 2
        best = summarise(q, "optimistic")
        assert [best[m] for m in RECALLS] == [100.0] * 3 and best[MEDIAN_RANK] == 1.0
        worst = summarise(q, "pessimistic")
        assert [worst[m] for m in RECALLS] == [0.0 if k < n else 100.0 for k in RECALL_KS]
        assert worst[MEDIAN_RANK] == worst[MEAN_RANK] == n


def test_tie_at_k_boundary_gives_fractional_credit() -> None:
    # The true item ties with 3 others at ranks 4..7: 2 of the 4 equally likely ranks are <= 5.
    q = RankCounts([3], [3])
    assert recall_credit(q, 5)[0] == (5 - 3) / 4
    assert recall_credit(q, 5, "optimistic")[0] == 1.0
    assert recall_credit(q, 5, "pessimistic")[0] == 0.0
    assert recall_credit(q, 3)[0] == 0.0 and recall_credit(q, 7)[0] == 1.0
    assert rank(q)[0] == 5.5 and rank(q, "optimistic")[0] == 4 and rank(q, "pessimistic")[0] == 7


def test_duplicate_captions_give_half_credit_to_both() -> None:
    S = np.eye(4)
    S[2] = S[1]  # captions 1 and 2 are identical: video 1 cannot tell them apart
    S[2, 2] = 1.0
    S[1, 2] = 1.0
    _, cols = count_ranks(S)
    assert recall_credit(cols, 1).tolist() == [1.0, 0.5, 0.5, 1.0]


def test_summarise_keys_are_the_metric_names_in_order() -> None:
    s = summarise(RankCounts([0, 4, 30], [0, 1, 2]))
    assert tuple(s) == METRICS
    assert all(isinstance(v, float) for v in s.values())


def test_median_of_even_count_is_mean_of_middle_ranks() -> None:
    assert median_rank(RankCounts([0, 1, 5, 9], [0, 0, 0, 0])) == 4.0  # ranks 1 2 6 10
    assert mean_rank(RankCounts([0, 1, 5, 9], [0, 0, 0, 0])) == 4.75


def test_sum_recall_adds_six_numbers() -> None:
    per = {
        "t2v": {"R@1": 9.0, "R@5": 27.9, "R@10": 44.8, "MdR": 14.0},
        "v2t": {"R@1": 7.3, "R@5": 24.8, "R@10": 46.9, "MdR": 12.0},
    }
    assert sum_recall(per) == pytest.approx(160.7)
    with pytest.raises(InputError, match="expected R@1, R@5, R@10 for t2v, got no R@10"):
        sum_recall({"t2v": {"R@1": 1.0, "R@5": 2.0}})


def test_tied_query_count() -> None:
    assert tied_query_count(RankCounts([0, 1, 2], [0, 3, 1])) == 2
    assert tied_query_count(([0], [0])) == 0


def test_accepts_a_pair_of_arrays() -> None:
    assert recall_at_k(([0, 9], [0, 0]), 1) == 50.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rank(RankCounts([0], [0]), "random"), "unknown tie rule"),
        (lambda: recall_at_k(RankCounts([0], [0]), 0), "expected a positive integer K, got 0"),
        (lambda: recall_at_k(RankCounts([0], [0]), 1.5), "got 1.5"),
        (lambda: summarise(RankCounts([], [])), "at least one query"),
        (lambda: summarise(RankCounts([-1], [0])), "non-negative"),
        (lambda: summarise("nope"), "expected RankCounts or a \\(higher, tied\\) pair"),
        (lambda: recall_curve(RankCounts([0], [0]), ks=[0]), "positive integer K"),
    ],
)
def test_bad_input_is_refused(call, message) -> None:
    with pytest.raises(InputError, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# Recall curve


@settings(max_examples=80, deadline=None)
@given(query_ranks(), st.sampled_from(TIE_RULES))
def test_recall_curve_equals_recall_at_every_k(q: RankCounts, ties: str) -> None:
    n = len(q)
    curve = recall_curve(q, ties=ties)
    assert curve.shape == (n,)
    expected = [recall_at_k(q, k, ties) for k in range(1, n + 1)]
    np.testing.assert_allclose(curve, expected, rtol=0, atol=1e-9)
    assert curve[-1] == pytest.approx(100.0)  # K = N: every true item is found
    assert (np.diff(curve) >= -1e-9).all()


def test_recall_curve_for_given_ks_beyond_n() -> None:
    q = RankCounts([0, 3, 10], [0, 3, 0])
    got = recall_curve(q, ks=[1, 5, 11, 50])
    want = [recall_at_k(q, k) for k in (1, 5, 11, 50)]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert recall_curve(q, ks=[]).shape == (0,)


def test_recall_curve_is_linear_time_on_a_large_input() -> None:
    # 10^6 queries: a quadratic curve would not finish; this takes well under a second.
    rng = np.random.default_rng(0)
    n = 1_000_000
    q = RankCounts(rng.integers(0, n // 2, n), rng.integers(0, 3, n))
    curve = recall_curve(q, ks=[1, 10, n])
    assert curve[-1] == pytest.approx(100.0)
    assert curve[1] == pytest.approx(recall_at_k(q, 10))


# ---------------------------------------------------------------------------------------------
# Regressions named after peer bugs (peers.md)


def test_collaborative_experts_tie_at_first_place_is_not_a_miss() -> None:
    # CE averages the tied rank, then tests rank == 0: a tie at first place counted as a miss.
    q = RankCounts([0], [1])
    assert recall_at_k(q, 1) == 50.0
    assert recall_at_k(q, 1, "optimistic") == 100.0
    assert recall_at_k(q, 5) == 100.0


def test_mteb_5092_constant_scores_reach_chance_not_perfect() -> None:
    n = 290
    rows, cols = count_ranks(np.ones((n, n), np.float64))
    for q in (rows, cols):
        assert recall_at_k(q, 1) == pytest.approx(100.0 / n)
        assert recall_at_k(q, 10) == pytest.approx(1000.0 / n)
        assert median_rank(q) == (n + 1) / 2


@settings(max_examples=80, deadline=None)
@given(query_ranks(), st.sampled_from(TIE_RULES))
def test_beir_105_torchmetrics_one_tie_rule_for_all_metrics(q: RankCounts, ties: str) -> None:
    # Every metric is a statistic of ONE distribution of the true item's rank per query: uniform
    # over b+1..b+e+1 (expected), its minimum (optimistic) or its maximum (pessimistic).
    for i in range(len(q)):
        b, e = int(q.higher[i]), int(q.tied[i])
        support = {
            "expected": np.arange(b + 1, b + e + 2),
            "optimistic": np.array([b + 1]),
            "pessimistic": np.array([b + e + 1]),
        }[ties]
        single = RankCounts([b], [e])
        assert rank(single, ties)[0] == pytest.approx(support.mean())
        for k in (1, 2, 5, 10, 40):
            assert recall_credit(single, k, ties)[0] == pytest.approx((support <= k).mean())


@settings(max_examples=60, deadline=None)
@given(query_ranks(), st.sampled_from(RECALL_KS))
def test_expected_rule_lies_between_the_bounds(q: RankCounts, k: int) -> None:
    lo, mid, hi = (recall_at_k(q, k, t) for t in ("pessimistic", "expected", "optimistic"))
    assert lo - 1e-9 <= mid <= hi + 1e-9
    r_best, r_mid, r_worst = (mean_rank(q, t) for t in ("optimistic", "expected", "pessimistic"))
    assert r_best <= r_mid <= r_worst
    assert math.isclose(r_mid, (r_best + r_worst) / 2)
