"""The report page rendered by headless Chromium at desktop and narrow widths: the plots and the
hardest-queries table must show (pixels), with no network."""

from __future__ import annotations

import numpy as np
import pytest
from support.browser import mask, screenshot, text_lines

from var_bench.plots import palette_colour
from var_bench.report import build_report, render_report

from .test_report import _matrix, _metadata

pytestmark = pytest.mark.browser

HEIGHT = 2600


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report-browser")
    report = build_report(
        _matrix(0, 3.0), "ucfcrime-ar", metadata=_metadata(), compare=_matrix(1, 1.0)
    )
    page = tmp / "report.html"
    page.write_text(render_report(report, "html"), encoding="utf-8")
    return {w: screenshot(tmp, page, w, HEIGHT) for w in (1280, 800)}


@pytest.mark.parametrize("width", [1280, 800])
def test_both_models_curves_and_the_bars_are_drawn(shots, width) -> None:
    img = shots[width]
    for n in (0, 1):
        ys, xs = np.nonzero(mask(img, palette_colour(n)))
        assert ys.size > 500, f"series {n} missing at {width} px"
        assert xs.max() < width - 5  # nothing runs off the window: the plots scale down
        mid = 8 + min(width - 24, 1100) / 2
        assert (xs < mid).sum() > 100 and (xs > mid).sum() > 100  # both direction panels


@pytest.mark.parametrize("width", [1280, 800])
def test_tables_have_text(shots, width) -> None:
    img = shots[width]
    assert text_lines(img[:, : width // 2]) > 40
    assert np.all(img[:, :, :3] < 90, axis=2).sum() > 5000
