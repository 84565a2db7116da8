"""The recall@K plot as inline SVG, drawn in plain Python (no plotting library, no fonts, no URLs).

One panel per retrieval direction: R@K (y, percent, 0-100) against K (x, log scale, 1..N).
A user entry is a line through R@K for every K = 1..N, computed from its per-query counts under
the leaderboard tie rule (``metrics.ranks.recall_curve``); a published row has only R@1, R@5 and
R@10, so it is three markers joined by a thin dashed line. A shared legend sits under the panels.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

import numpy as np

from var_bench.benchmarks import Direction
from var_bench.scoring.metrics import ranks
from var_bench.scoring.metrics.names import RECALL_KS, RECALLS
from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.layout import KIND_LABELS

#: Distinguishable series colours: Tableau 10 without its grey, then four more far from those.
#: None is grey or black, so a series never looks like text, axes or grid lines.
PALETTE: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bcbd22", "#17becf", "#393b79", "#8e0152",
)
TEXT = "#222222"
GRID = "#e3e3e3"
AXIS = "#555555"


@dataclass(frozen=True)
class Geometry:
    """Sizes in CSS pixels: panel plot areas side by side, legend rows below."""

    panel_width: int = 600
    plot_height: int = 330
    margin_left: int = 58
    margin_right: int = 22
    margin_top: int = 34
    margin_bottom: int = 48
    legend_columns: int = 3
    legend_row: int = 22

    @property
    def plot_width(self) -> int:
        return self.panel_width - self.margin_left - self.margin_right

    @property
    def panels_height(self) -> int:
        return self.margin_top + self.plot_height + self.margin_bottom


def series_colours(entries: Sequence[Entry]) -> list[str]:
    """A colour per entry, in order: user entries take the palette first, then published rows.

    Past the palette, colours are evenly spaced hues (golden-angle steps) at mid lightness.
    """
    order = [i for i, e in enumerate(entries) if not e.is_published] + [
        i for i, e in enumerate(entries) if e.is_published
    ]
    colours = [""] * len(entries)
    for n, i in enumerate(order):
        if n < len(PALETTE):
            colours[i] = PALETTE[n]
        else:
            r, g, b = colorsys.hls_to_rgb(((n - len(PALETTE)) * 0.381966) % 1.0, 0.45, 0.65)
            colours[i] = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
    return colours


def x_ticks(n: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to ``n``, and ``n`` itself."""
    ticks, k = [], 1
    while k <= n:
        ticks += [t for t in (k, 2 * k, 5 * k) if t <= n]
        k *= 10
    if ticks[-1] != n:
        # Drop a tick whose label would crowd N's (closer than 0.12 decade: ~25 px on a panel).
        if math.log10(n) - math.log10(ticks[-1]) < 0.12:
            ticks.pop()
        ticks.append(n)
    return ticks


def _fmt(v: float) -> str:
    return f"{v:.1f}"


class _Panel:
    """Coordinate mapping of one panel: K on a log axis 1..N, R@K 0..100 %."""

    def __init__(self, geo: Geometry, index: int, n: int) -> None:
        self.x0 = index * geo.panel_width + geo.margin_left
        self.y0 = geo.margin_top
        self.w, self.h, self.n = geo.plot_width, geo.plot_height, n

    def x(self, k: np.ndarray | float) -> np.ndarray | float:
        return self.x0 + np.log10(k) / math.log10(self.n) * self.w

    def y(self, r: np.ndarray | float) -> np.ndarray | float:
        return self.y0 + self.h - np.clip(r, 0.0, 100.0) / 100.0 * self.h


def _axes(p: _Panel, d: Direction) -> list[str]:
    # crispEdges: grid and frame snap to whole pixels instead of blurring over two rows.
    out = [f'<g class="axes" font-size="12" fill="{TEXT}" shape-rendering="crispEdges">']
    for r in range(0, 101, 20):
        y = _fmt(p.y(r))
        out.append(f'<line x1="{_fmt(p.x0)}" x2="{_fmt(p.x0 + p.w)}" y1="{y}" y2="{y}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<text x="{_fmt(p.x0 - 8)}" y="{y}" text-anchor="end" '
                   f'dominant-baseline="middle">{r}</text>')
    for k in x_ticks(p.n):
        x = _fmt(p.x(k))
        out.append(f'<line x1="{x}" x2="{x}" y1="{_fmt(p.y0)}" y2="{_fmt(p.y0 + p.h)}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<text x="{x}" y="{_fmt(p.y0 + p.h + 16)}" text-anchor="middle">{k}</text>')
    out.append(
        f'<rect x="{_fmt(p.x0)}" y="{_fmt(p.y0)}" width="{p.w}" height="{p.h}" fill="none" '
        f'stroke="{AXIS}"/>'
    )
    title = f"{d.arrow}: {d.query} to {d.gallery}"
    out.append(f'<text x="{_fmt(p.x0 + p.w / 2)}" y="{_fmt(p.y0 - 12)}" text-anchor="middle" '
               f'font-size="14" font-weight="bold">{escape(title)}</text>')
    out.append(f'<text x="{_fmt(p.x0 + p.w / 2)}" y="{_fmt(p.y0 + p.h + 38)}" text-anchor="middle">'
               f'K (log scale, 1 to {p.n})</text>')
    cy = _fmt(p.y0 + p.h / 2)
    out.append(f'<text x="{_fmt(p.x0 - 42)}" y="{cy}" text-anchor="middle" '
               f'transform="rotate(-90 {_fmt(p.x0 - 42)} {cy})">R@K (%)</text>')
    out.append("</g>")
    return out


def _user_series(p: _Panel, entry: Entry, direction: str, colour: str, ties: str) -> str:
    curve = np.asarray(ranks.recall_curve(entry.per_query[direction], ties=ties), dtype=float)
    ks = np.arange(1, curve.shape[0] + 1)
    xs, ys = p.x(ks), p.y(curve)
    points = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in zip(xs, ys))
    return (f'<polyline class="series {entry.kind}" data-method="{escape(entry.method)}" '
            f'data-direction="{direction}" points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5" stroke-linejoin="round">'
            f'<title>{escape(entry.method)}</title></polyline>')


def _published_series(p: _Panel, entry: Entry, direction: str, colour: str) -> str:
    pts = [(k, entry.metrics[direction][m]) for k, m in zip(RECALL_KS, RECALLS)]
    pts = [(k, v) for k, v in pts if v is not None]
    xy = [(_fmt(p.x(k)), _fmt(p.y(v))) for k, v in pts]
    out = [f'<g class="series {entry.kind}" data-method="{escape(entry.method)}" '
           f'data-direction="{direction}">'
           f'<title>{escape(entry.method)} ({KIND_LABELS[entry.kind]})</title>']
    if len(xy) > 1:
        out.append(f'<polyline points="{" ".join(f"{x},{y}" for x, y in xy)}" fill="none" '
                   f'stroke="{colour}" stroke-width="1.2" stroke-dasharray="4 3"/>')
    out += [f'<circle cx="{x}" cy="{y}" r="5" fill="{colour}"/>' for x, y in xy]
    out.append("</g>")
    return "".join(out)


def _legend(board: Leaderboard, colours: Sequence[str], geo: Geometry, width: int) -> list[str]:
    col_w = width / geo.legend_columns
    out = [f'<g class="legend" font-size="12" fill="{TEXT}">']
    for i, (entry, colour) in enumerate(zip(board.entries, colours)):
        x = geo.margin_left + (i % geo.legend_columns) * col_w
        y = geo.panels_height + 8 + (i // geo.legend_columns) * geo.legend_row
        if entry.is_published:
            out.append(f'<circle cx="{_fmt(x + 12)}" cy="{_fmt(y)}" r="5" fill="{colour}"/>')
        else:
            out.append(f'<line x1="{_fmt(x)}" x2="{_fmt(x + 24)}" y1="{_fmt(y)}" y2="{_fmt(y)}" '
                       f'stroke="{colour}" stroke-width="3"/>')
        label = f"{entry.method} ({KIND_LABELS[entry.kind]})"
        out.append(f'<text x="{_fmt(x + 32)}" y="{_fmt(y)}" dominant-baseline="middle">'
                   f'{escape(label)}</text>')
    out.append("</g>")
    return out


def recall_plot_svg(board: Leaderboard, geometry: Geometry | None = None) -> str:
    """An ``<svg>`` element (no XML prolog, no namespace URL) with one panel per direction."""
    geo = geometry or Geometry()
    spec = board.spec
    colours = series_colours(board.entries)
    width = geo.panel_width * len(spec.directions)
    rows = math.ceil(len(board.entries) / geo.legend_columns)
    height = geo.panels_height + 8 + rows * geo.legend_row + 8
    body: list[str] = []
    for index, d in enumerate(spec.directions):
        panel = _Panel(geo, index, spec.test_size)
        body += _axes(panel, d)
        # Published markers first, so user lines (the detailed ones) are drawn on top.
        for entry, colour in zip(board.entries, colours):
            if entry.is_published:
                body.append(_published_series(panel, entry, d.name, colour))
        for entry, colour in zip(board.entries, colours):
            if not entry.is_published and entry.per_query is not None:
                body.append(_user_series(panel, entry, d.name, colour, board.ties))
    body += _legend(board, colours, geo, width - geo.margin_left)
    label = f"Recall at K for {spec.title}, one panel per direction"
    return "\n".join([
        f'<svg class="recall-plot" role="img" aria-label="{escape(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        *body,
        "</svg>",
    ])
