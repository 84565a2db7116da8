"""Each baseline learns, not just runs: its tiny config on the full synthetic UCFCrime-AR (CPU)."""

from __future__ import annotations

import pytest

from support.learning import chance_sumr, train_and_score

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

TRAINED = ("ce", "mmt", "t2vlad", "xclip", "hlnet", "xml")


@pytest.mark.parametrize("model", TRAINED)
def test_tiny_baseline_learns_ucfcrime_ar(model, synthetic_home, tmp_path) -> None:
    record = train_and_score(model, "ucfcrime-ar", synthetic_home, tmp_path / "run", config="tiny")
    # The bar: test SumR at least 3x chance (chance = 11.0 for 290 pairs).
    assert record.SumR >= 3 * chance_sumr("ucfcrime-ar"), (model, record.SumR)


def test_random_scores_chance_through_the_whole_pipeline(synthetic_home, tmp_path) -> None:
    import var_bench

    run = tmp_path / "run"
    train_and_score("random", "ucfcrime-ar", synthetic_home, run, config="tiny")
    record = var_bench.score(run / "submission.npz", ci=True)
    lo, hi = record.ci["intervals"]["SumR"]
    assert lo <= chance_sumr("ucfcrime-ar") <= hi, (lo, hi)
