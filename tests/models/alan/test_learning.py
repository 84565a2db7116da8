"""ALAN learns, not just runs: the tiny config on the full synthetic benchmarks (CPU, minutes)."""

from __future__ import annotations

import pytest

from support.learning import chance_sumr, train_and_score

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_tiny_alan_learns_ucfcrime_ar(synthetic_home, tmp_path) -> None:
    record = train_and_score("alan", "ucfcrime-ar", synthetic_home, tmp_path / "run", config="tiny")
    # The bar: test SumR at least 5x chance (chance = 11.0 for 290 pairs).
    assert record.SumR >= 5 * chance_sumr("ucfcrime-ar"), record.SumR


def test_tiny_alan_learns_xdviolence_ar_audio_queries(synthetic_home, tmp_path) -> None:
    record = train_and_score("alan", "xdviolence-ar", synthetic_home, tmp_path / "run",
                             config="tiny")
    assert record.SumR >= 5 * chance_sumr("xdviolence-ar"), record.SumR
