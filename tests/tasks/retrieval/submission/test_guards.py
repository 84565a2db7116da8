"""Protocol guards and the statistics the leaderboard tiers use: zero-cell warning, Holm and
Wilson."""

from __future__ import annotations

import numpy as np

from var_bench.benchmarks import UCFCRIME_AR
import pytest

from var_bench.scoring.stats.binomial import percent_interval, wilson_interval
from var_bench.scoring.stats.compare import bonferroni_adjust, holm_adjust, paired_compare
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.scoring.record import DISCLOSURE_KEYS
from var_bench.scoring.score import score


def _padded_topk(n: int, k: int, rng) -> np.ndarray:
    s = rng.random((n, n)).astype(np.float32) + 0.01
    keep = np.argsort(-s, axis=1)[:, :k]
    out = np.zeros_like(s)
    np.put_along_axis(out, keep, np.take_along_axis(s, keep, axis=1), axis=1)
    return out


def test_zero_padded_top_k_matrix_is_warned_about() -> None:
    rng = np.random.default_rng(0)
    with pytest.warns(UserWarning, match="exactly 0"):
        record = score(_padded_topk(290, 10, rng), "ucfcrime-ar")
    assert any("96.6% of the cells are exactly 0" in w for w in record.warnings)


def test_raw_scores_are_not_warned_about() -> None:
    record = score(np.random.default_rng(1).standard_normal((290, 290)), "ucfcrime-ar")
    assert not any("exactly 0" in w for w in record.warnings)


def test_disclosure_keys_ask_about_test_tuning_and_training_data() -> None:
    assert {"tuned_on_test", "training_data"} <= set(DISCLOSURE_KEYS)


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


def test_wilson_interval_against_known_values() -> None:
    lo, hi = wilson_interval(26, 290)  # ALAN's published R@1 on UCFCrime-AR
    assert (round(100 * lo, 2), round(100 * hi, 2)) == (6.19, 12.81)  # by hand: centre 0.09503, half 0.03310
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    lo, hi = percent_interval(50.0, 100, 0.95)
    assert lo == pytest.approx(40.38, abs=0.01) and hi == pytest.approx(59.62, abs=0.01)


def test_batched_sign_flip_pvalues_equal_the_single_pair_test() -> None:
    from var_bench.scoring.stats.compare import sign_flip_pvalue, sign_flip_pvalues

    d = np.random.default_rng(0).standard_normal((5, 290)) * 0.1 + 0.01
    d[2] = 0.0
    assert sign_flip_pvalues(d, replicates=500) == [sign_flip_pvalue(x, replicates=500) for x in d]
    assert sign_flip_pvalues(d, replicates=500)[2] == 1.0
