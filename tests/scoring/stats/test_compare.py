"""var_bench.scoring.stats.compare: paired differences, bootstrap intervals and p-values."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.errors import InputError
from var_bench.scoring.stats.compare import (
    METHODS,
    Comparison,
    ComparisonRow,
    bonferroni_adjust,
    holm_adjust,
    paired_compare,
)
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import METRICS, SUMR
from var_bench.tasks.retrieval.ranks import sum_recall, summarise

from .systems import system

#: The retrieval task the counts are scored on.
TASK = UCFCRIME_AR.task()

REPLICATES = 1000


def pair(n: int = 290, seed: int = 0, r1: float = 0.1) -> dict[str, RankCounts]:
    return {"t2v": system(n, r1, seed), "v2t": system(n, r1, seed + 100)}


def test_rows_values_and_labels() -> None:
    a, b = pair(seed=1), pair(seed=2)
    c = paired_compare(TASK, a, b, replicates=REPLICATES, seed=4)
    assert isinstance(c, Comparison) and all(isinstance(r, ComparisonRow) for r in c.rows)
    assert (c.method, c.replicates, c.seed, c.level, c.ties) == (
        "permutation",
        REPLICATES,
        4,
        0.95,
        "expected",
    )
    labels = [r.metric for r in c.rows]
    assert labels == [f"{d} {m}" for d in ("t2v", "v2t") for m in METRICS] + [SUMR]
    assert [r.direction for r in c.rows] == ["t2v"] * 5 + ["v2t"] * 5 + [None]
    sa = {d: summarise(q) for d, q in a.items()}
    sb = {d: summarise(q) for d, q in b.items()}
    for r in c.rows:
        want_a = sum_recall(sa) if r.direction is None else sa[r.direction][r.metric.split()[1]]
        want_b = sum_recall(sb) if r.direction is None else sb[r.direction][r.metric.split()[1]]
        assert (r.a, r.b) == pytest.approx((want_a, want_b))
        assert r.diff == pytest.approx(r.a - r.b)
        assert r.ci_low <= r.ci_high
    json.dumps(c.to_dict())  # JSON-ready


@pytest.mark.parametrize("method", METHODS)
def test_identical_systems_p_is_one_and_interval_contains_zero(method: str) -> None:
    a = pair(seed=3)
    c = paired_compare(TASK, a, a, method=method, replicates=REPLICATES)
    for r in c.rows:
        assert r.diff == 0.0 and r.p_value == 1.0 and r.better is None
        assert r.ci_low <= 0.0 <= r.ci_high


@pytest.mark.parametrize("method", METHODS)
def test_clearly_better_system_has_tiny_p_and_is_named(method: str) -> None:
    a = pair(seed=5, r1=0.4)
    b = {d: RankCounts(q.higher + 20, q.tied) for d, q in a.items()}  # all 20 ranks worse
    c = paired_compare(TASK, a, b, method=method, replicates=REPLICATES)
    floor = 1 / (REPLICATES + 1)
    for r in c.rows:
        assert r.p_value == pytest.approx(floor), r
        assert r.better == "a", r  # also for MdR/MnR, where a's value is lower
    rows = {r.metric: r for r in c.rows}
    assert rows["t2v MnR"].diff == pytest.approx(-20.0)
    assert rows[SUMR].ci_low > 0
    swapped = paired_compare(TASK, b, a, method=method, replicates=REPLICATES)
    assert all(r.better == "b" for r in swapped.rows)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.sampled_from(METHODS), st.integers(5, 60))
def test_p_value_is_within_its_bounds(seed_a: int, seed_b: int, method: str, n: int) -> None:
    replicates = 99
    c = paired_compare(
        TASK, pair(n, seed_a), pair(n, seed_b), method=method, replicates=replicates, seed=seed_a
    )
    for r in c.rows:
        assert 1 / (replicates + 1) <= r.p_value <= 1.0
        assert r.better in (None, "a", "b")
        if r.better is not None:
            assert r.p_value < 0.05


def test_same_distribution_is_not_called_significant_too_often() -> None:
    # Two independent draws of the same system: SumR differences should rarely reach p < 0.05.
    hits = 0
    for s in range(20):
        c = paired_compare(TASK, pair(290, s), pair(290, 1000 + s), replicates=200, seed=s)
        hits += c.rows[-1].better is not None
    assert hits <= 4


def test_seed_reproduces_and_methods_share_the_bootstrap_interval() -> None:
    a, b = pair(seed=6), pair(seed=7)
    one = paired_compare(TASK, a, b, replicates=300, seed=1)
    assert one == paired_compare(TASK, a, b, replicates=300, seed=1)
    boot = paired_compare(TASK, a, b, method="bootstrap", replicates=300, seed=1)
    assert [(r.ci_low, r.ci_high) for r in one.rows] == [(r.ci_low, r.ci_high) for r in boot.rows]


def test_lower_is_better_metrics_name_the_lower_system() -> None:
    n = 200
    ranks = np.random.default_rng(0).integers(0, 40, n)
    a = {"t2v": RankCounts(ranks, np.zeros(n, np.int64))}
    b = {"t2v": RankCounts(ranks + 30, np.zeros(n, np.int64))}
    rows = {r.metric: r for r in paired_compare(TASK, a, b, replicates=200).rows}
    assert rows["t2v MdR"].diff == -30.0 and rows["t2v MdR"].better == "a"
    assert rows["t2v MnR"].diff == -30.0 and rows["t2v MnR"].better == "a"
    assert rows["t2v R@10"].diff > 0 and rows["t2v R@10"].better == "a"


def test_median_of_constant_systems_has_no_permutation_power() -> None:
    # Documented limit: with every rank of a at 1 and of b at 31, almost every relabelling gives
    # medians 1 and 31 again, so the randomisation test cannot reject; the bootstrap can.
    n = 200
    a = {"t2v": RankCounts(np.zeros(n, np.int64), np.zeros(n, np.int64))}
    b = {"t2v": RankCounts(np.full(n, 30), np.zeros(n, np.int64))}
    perm = {r.metric: r for r in paired_compare(TASK, a, b, replicates=200).rows}["t2v MdR"]
    boot = {
        r.metric: r for r in paired_compare(TASK, a, b, method="bootstrap", replicates=200).rows
    }
    assert perm.p_value > 0.5 and perm.better is None
    assert boot["t2v MdR"].p_value == 1 / 201 and boot["t2v MdR"].better == "a"


@pytest.mark.parametrize(
    ("a", "b", "kw", "message"),
    [
        (
            {"t2v": RankCounts([0], [0])},
            {"v2t": RankCounts([0], [0])},
            {},
            "same directions, got t2v and v2t",
        ),
        (
            {"t2v": RankCounts([0], [0])},
            {"t2v": RankCounts([0, 1], [0, 0])},
            {},
            "same queries, got 1 and 2",
        ),
        (
            {"t2v": RankCounts([0], [0])},
            {"t2v": RankCounts([0], [0])},
            {"method": "t-test"},
            "unknown comparison method",
        ),
        (
            {"t2v": RankCounts([0], [0])},
            {"t2v": RankCounts([0], [0])},
            {"replicates": -1},
            "replicates",
        ),
        ({"t2v": RankCounts([0], [0])}, {"t2v": RankCounts([0], [0])}, {"level": 2}, "level"),
        ([1, 2], {"t2v": RankCounts([0], [0])}, {}, "system a: expected a mapping"),
        (
            {"t2v": RankCounts([0], [0]), "v2t": RankCounts([0, 0], [0, 0])},
            {"t2v": RankCounts([0], [0]), "v2t": RankCounts([0, 0], [0, 0])},
            {},
            "same number of queries",
        ),
    ],
)
def test_mismatches_are_refused(a, b, kw, message) -> None:
    with pytest.raises(InputError, match=message):
        paired_compare(TASK, a, b, **kw)


def test_holm_matches_the_textbook_example() -> None:
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust([]) == [] and bonferroni_adjust([0.2, 0.5]) == [0.4, 1.0]
    ps = np.random.default_rng(2).random(20)
    adj = np.array(holm_adjust(ps))
    assert np.all(adj >= ps) and np.all(adj <= np.minimum(1, 20 * ps) + 1e-12)


def test_paired_compare_reports_holm_adjusted_p() -> None:
    good = RankCounts([0] * 60 + [9] * 40, [0] * 100)
    poor = RankCounts([0] * 20 + [9] * 80, [0] * 100)
    c = paired_compare(UCFCRIME_AR.task(), {"t2v": good}, {"t2v": poor}, replicates=500)
    assert c.correction == "holm"
    assert [r.p_adjusted for r in c.rows] == pytest.approx(holm_adjust([r.p_value for r in c.rows]))


def test_batched_sign_flip_pvalues_equal_the_single_pair_test() -> None:
    from var_bench.scoring.stats.compare import sign_flip_pvalue, sign_flip_pvalues

    d = np.random.default_rng(0).standard_normal((5, 290)) * 0.1 + 0.01
    d[2] = 0.0
    assert sign_flip_pvalues(d, replicates=500) == [sign_flip_pvalue(x, replicates=500) for x in d]
    assert sign_flip_pvalues(d, replicates=500)[2] == 1.0
