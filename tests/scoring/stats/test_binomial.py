"""var_bench.scoring.stats.binomial: Wilson intervals of a proportion (the leaderboard tiers')."""

from __future__ import annotations

import pytest

from var_bench.scoring.stats.binomial import percent_interval, wilson_interval


def test_wilson_interval_against_known_values() -> None:
    lo, hi = wilson_interval(26, 290)  # ALAN's published R@1 on UCFCrime-AR
    assert (round(100 * lo, 2), round(100 * hi, 2)) == (
        6.19,
        12.81,
    )  # by hand: centre 0.09503, half 0.03310
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    lo, hi = percent_interval(50.0, 100, 0.95)
    assert lo == pytest.approx(40.38, abs=0.01) and hi == pytest.approx(59.62, abs=0.01)
