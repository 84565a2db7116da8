"""var_bench.leaderboard.plot_svg: the recall@K plot, checked as SVG (the browser test looks at it)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from var_bench.leaderboard import build_leaderboard
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.plot_svg import (
    PALETTE,
    Geometry,
    _Panel,
    recall_plot_svg,
    series_colours,
    x_ticks,
)
from var_bench.scoring.metrics import ranks

from support.records_factory import fake_ids_hash, make_record


def _board(n_users: int = 2, benchmark: str = "ucfcrime-ar"):
    records = [(f"u{i}.json", make_record(benchmark, seed=i, skill=0.02 + 0.03 * i, name=f"user {i}"))
               for i in range(n_users)]
    return build_leaderboard(benchmark, records=records, ids_hash=fake_ids_hash)


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def test_x_ticks() -> None:
    assert x_ticks(290) == [1, 2, 5, 10, 20, 50, 100, 200, 290]
    assert x_ticks(800) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 800]
    assert x_ticks(1000) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    assert x_ticks(220) == [1, 2, 5, 10, 20, 50, 100, 220]  # 200 would crowd 220


def test_series_colours_are_distinct_and_never_grey() -> None:
    entries = [Entry(f"m{i}", "published" if i % 3 else "user", {}, 0.0, "x") for i in range(30)]
    colours = series_colours(entries)
    assert len(set(colours)) == len(colours)
    assert colours[0] == PALETTE[0] and colours[3] == PALETTE[1]  # user entries take the palette first
    for c in colours:
        r, g, b = _hex_to_rgb(c)
        assert max(r, g, b) - min(r, g, b) > 40, c  # saturated: unlike text, axes and grid
    rgb = np.array([_hex_to_rgb(c) for c in PALETTE], dtype=float)
    gaps = np.abs(rgb[:, None] - rgb[None]).sum(-1) + np.eye(len(PALETTE)) * 1e9
    assert gaps.min() > 60  # every pair of palette colours differs clearly


def test_svg_structure_and_series() -> None:
    board = _board(2)
    svg = recall_plot_svg(board)
    root = ET.fromstring(svg)  # well-formed XML
    tag = lambda el: el.tag.split("}")[-1]  # noqa: E731
    assert tag(root) == "svg" and "http" not in svg
    lines = [el for el in root.iter() if tag(el) == "polyline" and "user" in el.get("class", "")]
    assert len(lines) == 2 * 2  # two users, two panels
    assert {el.get("data-direction") for el in lines} == {"t2v", "v2t"}
    published = [el for el in root.iter() if tag(el) == "g" and el.get("class") == "series published"]
    assert len(published) == 8 * 2
    assert all(len([c for c in g if tag(c) == "circle"]) == 3 for g in published)
    texts = [el.text for el in root.iter() if tag(el) == "text"]
    assert "T->V: text to video" in texts and "V->T: video to text" in texts
    assert texts.count("R@K (%)") == 2 and "K (log scale, 1 to 290)" in texts
    assert "ALAN (paper)" in texts and "user 0 (user)" in texts


def test_user_line_follows_its_recall_curve() -> None:
    board = _board(1)
    user = board.user_entries[0]
    svg = recall_plot_svg(board)
    match = re.search(r'data-direction="t2v" points="([^"]+)"', svg)
    points = np.array([[float(v) for v in p.split(",")] for p in match.group(1).split()])
    assert points.shape == (290, 2)
    panel = _Panel(Geometry(), 0, 290)
    curve = ranks.recall_curve(user.per_query["t2v"], ties="expected")
    assert points[:, 1] == pytest.approx(panel.y(curve), abs=0.051)
    assert points[:, 0] == pytest.approx(panel.x(np.arange(1, 291)), abs=0.051)
    assert np.all(np.diff(points[:, 0]) > 0) and np.all(np.diff(points[:, 1]) <= 0.1)  # R@K never falls


def test_published_markers_sit_at_k_1_5_10() -> None:
    board = build_leaderboard("xdviolence-ar")
    svg = recall_plot_svg(board)
    pattern = r'class="series published" data-method="ALAN" data-direction="a2v">(.*?)</g>'
    alan = re.search(pattern, svg).group(1)
    cx_cy = [(float(a), float(b)) for a, b in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', alan)]
    panel = _Panel(Geometry(), 0, 800)
    want = [(panel.x(k), panel.y(v)) for k, v in ((1, 29.8), (5, 68.0), (10, 82.0))]
    assert cx_cy == [pytest.approx(w, abs=0.051) for w in want]
