"""The HTML leaderboard rendered by a real headless Chromium, checked pixel by pixel.

Chromium runs with every host name mapped to NOTFOUND, so a page that needed the network would
render incomplete; the page must render the plot and the table from the file alone. The
screenshot is decoded with the tiny PNG decoder beside this file (no Pillow needed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.plot_svg import Geometry, series_colours

from support.html import URL_ATTRS
from support.pngdecode import decode_png
from support.records_factory import fake_ids_hash, make_record

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 1600
TABLE_HEAD = (0xF2, 0xF2, 0xF2)  # th background in render_html's CSS
TOLERANCE = 10  # per channel: anti-aliasing leaves line cores at their exact colour


def _chromium() -> str:
    found = str(CHROMIUM) if CHROMIUM.is_file() else shutil.which("chromium")
    if not found:
        pytest.skip("Chromium not found at /usr/bin/chromium or on PATH (Debian: apt-get install "
                    "chromium); the browser test renders the page with it")
    return found


def _run(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WIDTH},{HEIGHT}",
        "--force-device-scale-factor=1", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
        *extra, page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def _mask(img: np.ndarray, rgb) -> np.ndarray:
    diff = np.abs(img[:, :, :3].astype(np.int16) - np.asarray(rgb, dtype=np.int16))
    return np.all(diff <= TOLERANCE, axis=2)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(board, html, screenshot pixels, DOM) for a board with two user entries."""
    tmp = tmp_path_factory.mktemp("browser")
    records = [("strong.json", make_record(seed=1, skill=0.15, name="strong-model", ci=True)),
               ("weak.json", make_record(seed=2, skill=0.03, name="weak-model"))]
    board = build_leaderboard("ucfcrime-ar", records=records, ids_hash=fake_ids_hash)
    html = render(board, "html")
    page = tmp / "leaderboard.html"
    page.write_text(html, encoding="utf-8")
    png = tmp / "shot.png"
    shot = _run(tmp, page, f"--screenshot={png}")
    assert png.is_file(), f"chromium wrote no screenshot (rc {shot.returncode}): {shot.stderr[-800:]}"
    dom = _run(tmp, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-800:]
    return board, html, decode_png(png.read_bytes()), dom.stdout


def test_no_network_needed(rendered) -> None:
    _, html, img, _ = rendered
    assert not re.search(r"https?://", html) and not URL_ATTRS.search(html)
    assert img.shape[:2] == (HEIGHT, WIDTH)


def test_page_is_not_blank(rendered) -> None:
    _, _, img, _ = rendered
    non_white = np.any(img[:, :, :3] < 235, axis=2)
    assert non_white.mean() > 0.03
    dark = np.all(img[:, :, :3] < 90, axis=2)
    assert dark.sum() > 5000  # plenty of text


def _table_top(img: np.ndarray) -> int:
    rows = np.nonzero(_mask(img, TABLE_HEAD).sum(axis=1) > 900)[0]
    assert rows.size, "the table header's background was not found in the screenshot"
    return int(rows[0])


def test_user_lines_are_drawn_across_both_panels(rendered) -> None:
    board, _, img, _ = rendered
    colours = dict(zip((e.method for e in board.entries), series_colours(board.entries)))
    top = _table_top(img)
    geo = Geometry()
    # Panels start after the body's 24 px margin (render_html's CSS).
    for method in ("strong-model", "weak-model"):
        m = _mask(img, _rgb(colours[method]))
        ys, xs = np.nonzero(m)
        assert ys.size > 400, f"{method}: its colour {colours[method]} is (almost) absent"
        # Below the plot the colour appears only as the 10 x 10 swatch in the method column.
        below = ys >= top
        assert 50 <= below.sum() <= 150 and xs[below].max() < 250, f"{method}: stray pixels under the plot"
        for left in (24, 24 + geo.panel_width):
            in_panel = (xs >= left + geo.margin_left) & (xs < left + geo.panel_width - geo.margin_right) \
                & (ys < top - 60)
            assert in_panel.sum() > 150, f"{method}: too few pixels in the panel at x={left}"
            extent = xs[in_panel].max() - xs[in_panel].min()
            assert extent > 0.8 * geo.plot_width, f"{method}: line spans only {extent} px"


def test_published_markers_appear_in_both_panels(rendered) -> None:
    board, _, img, _ = rendered
    colours = dict(zip((e.method for e in board.entries), series_colours(board.entries)))
    top = _table_top(img)
    ys, xs = np.nonzero(_mask(img[:top], _rgb(colours["ALAN"])))
    assert (xs < 24 + Geometry().panel_width).sum() > 40 and (xs >= 24 + Geometry().panel_width).sum() > 40


def test_table_region_has_text_in_every_row(rendered) -> None:
    board, _, img, _ = rendered
    top = _table_top(img)
    region = img[top : top + 420, 24:1000, :3]
    dark_rows = np.nonzero(np.all(region < 110, axis=2).sum(axis=1) > 5)[0]
    # Group consecutive dark rows into text lines: header + one line per entry at least.
    lines = 1 + int(np.count_nonzero(np.diff(dark_rows) > 2)) if dark_rows.size else 0
    assert lines >= len(board.entries) + 1
    # User rows are highlighted: their background colour shows up inside the table.
    assert _mask(img[top:], (0xFB, 0xF5, 0xDF)).sum() > 1000


def test_dom_has_every_row(rendered) -> None:
    board, _, _, dom = rendered
    body = dom.split('<table class="leaderboard">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="(published|user)">', body)
    assert len(rows) == len(board.entries)
    assert rows.count("user") == 2
    for entry in board.entries:
        assert f"</span>{entry.method}</td>" in body
    assert dom.count('class="series user"') == 4
