"""var_bench.leaderboard.plot: the matplotlib recall@K plot, checked as SVG (the browser test
looks at its pixels)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from support.records_factory import fake_ids_hash, make_record

from var_bench.leaderboard import build_leaderboard
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.plot import recall_plot_svg, series_colours, x_ticks
from var_bench.plots import PALETTE, plain_label
from var_bench.tasks.retrieval import ranks

_NS = "{http://www.w3.org/2000/svg}"


def _board(n_users: int = 2, benchmark: str = "ucfcrime-ar"):
    records = [
        (f"u{i}.json", make_record(benchmark, seed=i, skill=0.02 + 0.03 * i, name=f"user {i}"))
        for i in range(n_users)
    ]
    return build_leaderboard(benchmark, records=records, ids_hash=fake_ids_hash)


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _lab(colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of an sRGB hex colour."""
    rgb = np.array(_hex_to_rgb(colour)) / 255.0
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _parse(svg: str) -> ET.Element:
    # Inline SVG carries no namespace declaration (HTML supplies it); add one to parse it as XML.
    return ET.fromstring(svg.replace("<svg ", f'<svg xmlns="{_NS[1:-1]}" xmlns:x="x" ', 1))


def _path_points(root: ET.Element, gid: str) -> np.ndarray:
    group = next(g for g in root.iter(f"{_NS}g") if g.get("id") == gid)
    d = next(p for p in group.iter(f"{_NS}path")).get("d")
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return np.array(nums).reshape(-1, 2)


def test_x_ticks() -> None:
    assert x_ticks(290) == [1, 2, 5, 10, 20, 50, 100, 200, 290]
    assert x_ticks(800) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 800]
    assert x_ticks(1000) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    assert x_ticks(220) == [1, 2, 5, 10, 20, 50, 100, 220]  # 200 would crowd 220


def test_series_colours_are_distinct_and_never_grey() -> None:
    entries = [
        Entry(f"m{i}", "published" if i % 3 else "user", {}, {}, 0.0, "x") for i in range(30)
    ]
    colours = series_colours(entries)
    assert len(set(colours)) == len(colours)
    assert (
        colours[0] == PALETTE[0] and colours[3] == PALETTE[1]
    )  # user entries take the palette first
    for c in colours:
        r, g, b = _hex_to_rgb(c)
        assert max(r, g, b) - min(r, g, b) > 40, c  # saturated: unlike text, axes and grid


@pytest.mark.parametrize("pair", [("#edc948", "#bcbd22"), ("#e15759", "#ff9da7")])
def test_the_two_hard_to_tell_pairs_are_gone(pair) -> None:
    # yellow vs olive (T2VLAD vs Random) and red vs pink (ALAN vs HL-Net): issue 17.
    assert not set(pair) <= set(PALETTE)


def test_every_palette_pair_differs_by_at_least_28_delta_e() -> None:
    gaps = {
        (a, b): float(np.linalg.norm(_lab(a) - _lab(b)))
        for a, b in itertools.combinations(PALETTE, 2)
    }
    worst = min(gaps, key=gaps.get)
    assert gaps[worst] >= 28, f"{worst}: CIE76 delta E {gaps[worst]:.1f}"
    assert len(PALETTE) >= 10  # every published row of a board plus two user entries


def test_svg_is_inline_ready_and_has_both_panels() -> None:
    board = _board(2)
    svg = recall_plot_svg(board)
    assert svg.startswith('<svg class="recall-plot"') and svg.endswith("</svg>")
    assert "http" not in svg and "<?xml" not in svg and "<metadata" not in svg
    assert not re.search(r'href="[^#]', svg)  # only in-document references
    root = _parse(svg)
    texts = ["".join(t.itertext()) for t in root.iter(f"{_NS}text")]
    assert "T->V: text to video" in texts and "V->T: video to text" in texts
    assert texts.count("R@K (%)") == 2 and "K (log scale, 1 to 290)" in texts
    assert "ALAN (paper)" in texts and "user 0 (verified)" in texts
    ids = {g.get("id") for g in root.iter(f"{_NS}g")}
    users = [i for i in ids if i and i.startswith("series-user-")]
    published = [i for i in ids if i and i.startswith("series-published-")]
    assert len(users) == 2 * 2 and len(published) == 8 * 2


def test_user_line_follows_its_recall_curve() -> None:
    board = _board(1)
    index = next(i for i, e in enumerate(board.entries) if not e.is_published)
    user = board.entries[index]
    root = _parse(recall_plot_svg(board))
    pts = _path_points(root, f"series-user-{index}-t2v")
    assert pts.shape == (290, 2)
    curve = np.asarray(ranks.recall_curve(user.per_query["t2v"], ties="expected"))
    # x = a + b log K, y = c - d R@K: both exactly affine in the data (SVG y grows downwards).
    kx = np.polyfit(np.log10(np.arange(1, 291)), pts[:, 0], 1)
    ky = np.polyfit(curve, pts[:, 1], 1)
    assert kx[0] > 0 and ky[0] < 0
    assert np.abs(np.polyval(kx, np.log10(np.arange(1, 291))) - pts[:, 0]).max() < 0.05
    assert np.abs(np.polyval(ky, curve) - pts[:, 1]).max() < 0.05


def test_published_markers_sit_at_k_1_5_10() -> None:
    board = build_leaderboard("xdviolence-ar")
    index = next(i for i, e in enumerate(board.entries) if e.method == "ALAN")
    root = _parse(recall_plot_svg(board))
    pts = _path_points(root, f"series-published-{index}-a2v")
    assert pts.shape == (3, 2)
    # Same spacing in x as log10(1, 5, 10), y falling with R@K: 29.8, 68.0, 82.0 as printed.
    dx = np.diff(pts[:, 0])
    assert dx[0] / dx[1] == pytest.approx(np.log10(5) / np.log10(2), rel=1e-3)
    dy = np.diff(pts[:, 1])
    assert dy[0] / dy[1] == pytest.approx((68.0 - 29.8) / (82.0 - 68.0), rel=1e-3)


@pytest.mark.parametrize("name", ["$\\alpha$ model", "<script>x</script>", 'a & b "q"'])
def test_labels_are_literal_text_never_mathtext_or_markup(name) -> None:
    record = make_record(seed=4, name=name)
    board = build_leaderboard("ucfcrime-ar", records=[("n.json", record)], ids_hash=fake_ids_hash)
    svg = recall_plot_svg(board)
    assert "<script" not in svg
    texts = ["".join(t.itertext()) for t in _parse(svg).iter(f"{_NS}text")]
    assert f"{name} (verified)" in texts
    assert plain_label("x" * 100).endswith("…")
