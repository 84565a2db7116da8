"""The HTML leaderboard rendered by a real headless Chromium, checked pixel by pixel, at a
desktop width and at a narrow one (issue 17: readable below ~1300 px).

Chromium maps every host name to NOTFOUND (support.browser), so the page must render the plot
and the table from the file alone.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from support.browser import dump_dom, mask, run_chromium, screenshot, text_lines
from support.html import URL_ATTRS
from support.records_factory import fake_ids_hash, make_record

from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.plot import series_colours

pytestmark = pytest.mark.browser

DESKTOP, NARROW, HEIGHT = 1280, 800, 1700
TABLE_HEAD = (0xF2, 0xF2, 0xF2)  # th background in render_html's CSS
USER_ROW = (0xFB, 0xF5, 0xDF)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(board, html, {width: screenshot pixels}, DOM) for a board with two user entries."""
    tmp = tmp_path_factory.mktemp("browser")
    records = [
        ("strong.json", make_record(seed=1, skill=0.15, name="strong-model", ci=True)),
        ("weak.json", make_record(seed=2, skill=0.03, name="weak-model")),
    ]
    board = build_leaderboard("ucfcrime-ar", records=records, ids_hash=fake_ids_hash)
    html = render(board, "html")
    page = tmp / "leaderboard.html"
    page.write_text(html, encoding="utf-8")
    shots = {w: screenshot(tmp, page, w, HEIGHT) for w in (DESKTOP, NARROW)}
    return board, html, shots, dump_dom(tmp, page)


def _mid(width: int) -> float:
    """x of the gap between the two panels: the plot fills the body (12 px margins below 1300
    px) up to its 1080 px maximum, panels side by side."""
    return 12 + min(width - 24, 1080) / 2


def _colours(board) -> dict[str, str]:
    return dict(zip((e.method for e in board.entries), series_colours(board.entries)))


def _table_top(img: np.ndarray) -> int:
    full = mask(img, TABLE_HEAD).sum(axis=1) > 0.5 * img.shape[1]
    # The header band is many rows tall; an anti-aliased grid line of the plot is one.
    band = np.convolve(full, np.ones(8, dtype=int), mode="valid") == 8
    rows = np.nonzero(band)[0]
    assert rows.size, "the table header's background was not found in the screenshot"
    return int(rows[0])


def test_no_network_needed(rendered) -> None:
    _, html, shots, _ = rendered
    assert not re.search(r"https?://", html) and not URL_ATTRS.search(html)
    assert shots[DESKTOP].shape[:2] == (HEIGHT, DESKTOP) and shots[NARROW].shape[:2] == (
        HEIGHT,
        NARROW,
    )


@pytest.mark.parametrize("width", [DESKTOP, NARROW])
def test_page_is_not_blank(rendered, width) -> None:
    img = rendered[2][width]
    assert np.any(img[:, :, :3] < 235, axis=2).mean() > 0.03
    assert np.all(img[:, :, :3] < 90, axis=2).sum() > 3000  # plenty of text


@pytest.mark.parametrize("width", [DESKTOP, NARROW])
def test_user_lines_are_drawn_across_both_panels(rendered, width) -> None:
    board, _, shots, _ = rendered
    img = shots[width]
    top = _table_top(img)
    for method in ("strong-model", "weak-model"):
        m = mask(img[:top], _colours(board)[method])
        ys, xs = np.nonzero(m)
        assert ys.size > 200, f"{method}: its colour is (almost) absent from the plot at {width} px"
        # One curve per panel: pixels in the left and in the right half of the window, each
        # spanning most of its panel (log K from 1 to 290); at 800 px the plot has shrunk to fit.
        for half in (xs < _mid(width), xs >= _mid(width)):
            assert half.sum() > 60, f"{method}: a panel has no line at {width} px"
            extent = xs[half].max() - xs[half].min()
            assert extent > 0.3 * min(width, 1080), f"{method}: line spans only {extent} px"
        assert xs.max() < width - 8, f"{method}: the plot runs off the window at {width} px"


def test_published_markers_appear_in_both_panels(rendered) -> None:
    board, _, shots, _ = rendered
    img = shots[DESKTOP]
    ys, xs = np.nonzero(mask(img[: _table_top(img)], _colours(board)["ALAN"]))
    assert (xs < _mid(DESKTOP)).sum() > 20 and (xs >= _mid(DESKTOP)).sum() > 20


def test_table_has_text_in_every_row(rendered) -> None:
    board, _, shots, _ = rendered
    img = shots[DESKTOP]
    top = _table_top(img)
    assert text_lines(img[top : top + 520, 12:260]) >= len(board.entries) + 1
    assert mask(img[top:], USER_ROW).sum() > 800  # user rows are highlighted
    # below 1000 px each row is a card: the user rows are still highlighted
    assert mask(shots[NARROW], USER_ROW).sum() > 800


#: Test-only probe: where the rightmost leaderboard cell ends, and the window's width.
_PROBE = (
    "<script>const r = Math.max(...[...document.querySelectorAll('table.leaderboard td')]"
    ".map(td => td.getBoundingClientRect().right));"
    "document.body.insertAdjacentHTML('beforeend', '<pre id=fit>' + Math.ceil(r) + ' ' + "
    "window.innerWidth + ' ' + document.documentElement.scrollWidth + '</pre>');</script>"
)


@pytest.mark.parametrize("width", [NARROW, 1400, DESKTOP])
def test_no_column_is_cut_off(rendered, tmp_path, width) -> None:
    """Every cell of the leaderboard lies inside the window, at 800 px (cards), 1280 and 1400 px
    (the table), and the page does not scroll sideways."""
    _, html, _, _ = rendered
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    dom = run_chromium(tmp_path, probe, width, HEIGHT, "--dump-dom", tag=f"fit{width}").stdout
    right, inner, scroll = map(
        int, re.search(r'<pre id="fit">(\d+) (\d+) (\d+)</pre>', dom).groups()
    )
    assert inner == width and right <= width and scroll <= width, (right, inner, scroll)


def test_dom_has_every_row_and_a_tier(rendered) -> None:
    board, _, _, dom = rendered
    body = dom.split('<table class="leaderboard">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="(published|user)">', body)
    assert len(rows) == len(board.entries)
    assert rows.count("user") == 2
    for entry in board.entries:
        assert f"</span>{entry.method}</td>" in body
    tiers = re.findall(r'<td class="tier" data-label="Tier">(\d+)</td>', body)
    assert [int(t) for t in tiers] == [e.tier for e in board.entries]
    assert len(re.findall(r'id="series-user-', dom)) == 4
