"""The recall@K plot of a leaderboard, drawn with matplotlib as inline SVG.

Each series is an SVG group with id ``series-<kind>-<row index>-<direction>``.
One panel per retrieval direction: R@K (y, percent) against K (x, log scale, 1..N). A user entry
is a line through R@K for every K = 1..N, computed from its per-query counts under the
leaderboard tie rule (``metrics.ranks.recall_curve``); a published row has only R@1, R@5 and
R@10, so it is three markers joined by a thin dashed line. A shared legend sits under the panels.
The y axis runs to 104 % so a perfect entry's line stays visible above the frame's top edge.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from var_bench.plots import figure, inline_svg, palette_colour, plain_label
from var_bench.tasks.retrieval import ranks
from var_bench.tasks.retrieval.names import RECALL_KS, RECALLS
from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.layout import KIND_LABELS

#: Figure size in inches (SVG at 72 px per inch: 1080 x ~440 px before the legend rows).
WIDTH_IN = 15.0
PANEL_HEIGHT_IN = 5.0
LEGEND_COLUMNS = 3
LEGEND_ROW_IN = 0.28


def series_colours(entries: Sequence[Entry]) -> list[str]:
    """A colour per entry, in order: user entries take the palette first, then published rows."""
    order = [i for i, e in enumerate(entries) if not e.is_published] + [
        i for i, e in enumerate(entries) if e.is_published
    ]
    colours = [""] * len(entries)
    for n, i in enumerate(order):
        colours[i] = palette_colour(n)
    return colours


def x_ticks(n: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to ``n``, and ``n`` itself."""
    ticks, k = [], 1
    while k <= n:
        ticks += [t for t in (k, 2 * k, 5 * k) if t <= n]
        k *= 10
    if ticks[-1] != n:
        # Drop a tick whose label would crowd N's (closer than 0.12 decade).
        if math.log10(n) - math.log10(ticks[-1]) < 0.12:
            ticks.pop()
        ticks.append(n)
    return ticks


def recall_axes(ax, n: int) -> None:
    """The axes of a recall@K curve over K = 1..n: log-scaled K, R@K from 0 to 100 %."""
    ax.set_xscale("log")
    ax.set_xlim(1, n)
    ax.set_ylim(0, 104)
    ticks = x_ticks(n)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()


def recall_plot_svg(board: Leaderboard) -> str:
    """An ``<svg>`` element (no prolog, no namespace URL) with one panel per direction."""
    spec = board.spec
    colours = series_colours(board.entries)
    legend_rows = math.ceil(len(board.entries) / LEGEND_COLUMNS)
    height = PANEL_HEIGHT_IN + legend_rows * LEGEND_ROW_IN + 0.3
    with figure(WIDTH_IN, height, ncols=len(spec.directions)) as (fig, axes):
        handles = {}
        for ax, d in zip(axes[0], spec.directions):
            recall_axes(ax, spec.test_size)
            ax.set_yticks(range(0, 101, 20))
            ax.set_title(plain_label(f"{d.arrow}: {d.query} to {d.gallery}"), fontweight="bold")
            ax.set_xlabel(f"K (log scale, 1 to {spec.test_size})")
            ax.set_ylabel("R@K (%)")
            # Published markers first, so user lines (the detailed ones) are drawn on top.
            for i, (entry, colour) in enumerate(zip(board.entries, colours)):
                if not entry.is_published:
                    continue
                pts = [(k, entry.metrics[d.name][m]) for k, m in zip(RECALL_KS, RECALLS)]
                pts = [(k, v) for k, v in pts if v is not None]
                h, = ax.plot([k for k, _ in pts], [v for _, v in pts], color=colour, linewidth=1.0,
                             linestyle=(0, (4, 3)), marker="o", markersize=6,
                             gid=f"series-published-{i}-{d.name}")
                handles[entry.method, entry.kind] = h
            for i, (entry, colour) in enumerate(zip(board.entries, colours)):
                if entry.is_published or entry.per_query is None:
                    continue
                curve = np.asarray(ranks.recall_curve(entry.per_query[d.name], ties=board.ties),
                                   dtype=float)
                h, = ax.plot(np.arange(1, curve.size + 1), curve, color=colour, linewidth=2.2,
                             gid=f"series-user-{i}-{d.name}")
                handles[entry.method, entry.kind] = h
        labels = [plain_label(f"{e.method} ({KIND_LABELS[e.kind]})") for e in board.entries]
        fig.legend([handles[e.method, e.kind] for e in board.entries], labels,
                   loc="lower center", ncol=LEGEND_COLUMNS, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))
        fig.subplots_adjust(left=0.05, right=0.99, top=1 - 0.45 / height,
                            bottom=(legend_rows * LEGEND_ROW_IN + 0.75) / height, wspace=0.14)
        return inline_svg(fig, "recall-plot",
                          f"Recall at K for {spec.title}, one panel per direction")
