"""The leaderboard's plot, drawn with matplotlib as inline SVG: one panel per group of the task.

Each series is an SVG group with id ``series-<kind>-<row index>-<group>``. For a task with a
curve (retrieval: R@K, y in percent, against K, x on a log scale 1..N) a user entry is a line
through the task's curve of its per-query counts under the official rule
(:meth:`~var_bench.tasks.base.Task.curve`; retrieval: ``ranks.recall_curve``); a published row
has only its printed points (R@1, R@5 and R@10), so it is markers joined by a thin dashed line.
A task without a curve shows each entry's main-score metric per group as a marker with its
interval. A shared legend sits under the panels. The y axis runs to 104 % so a perfect entry's
line stays visible above the frame's top edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.layout import KIND_LABELS
from var_bench.plots import figure, inline_svg, palette_colour, plain_label

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
    """An ``<svg>`` element (no prolog, no namespace URL) with one panel per group."""
    spec, task = board.spec, board.task
    curves = bool(task.curve_points)
    colours = series_colours(board.entries)
    legend_rows = math.ceil(len(board.entries) / LEGEND_COLUMNS)
    height = PANEL_HEIGHT_IN + legend_rows * LEGEND_ROW_IN + 0.3
    with figure(WIDTH_IN, height, ncols=len(task.groups)) as (fig, axes):
        handles = {}
        for ax, g in zip(axes[0], task.groups):
            n = board.sizes.get(g) or 1
            ax.set_title(
                plain_label(task.group_description(g).replace(" = ", ": ")), fontweight="bold"
            )
            if curves:
                recall_axes(ax, n)
                ax.set_yticks(range(0, 101, 20))
                xlabel, ylabel = task.curve_axes(g, n)
                ax.set_xlabel(xlabel)
                ax.set_ylabel(ylabel)
            else:
                ax.set_ylabel(plain_label(_main_metric(task)))
                ax.set_xticks([])
            # Published markers first, so user lines (the detailed ones) are drawn on top.
            for i, (entry, colour) in enumerate(zip(board.entries, colours)):
                if entry.per_query is not None:  # paper and imported rows: markers
                    continue
                pts = (
                    [(x, entry.metrics[g].get(m)) for m, x in task.curve_points.items()]
                    if curves
                    else [(i, entry.metrics[g].get(_main_metric(task)))]
                )
                pts = [(k, v) for k, v in pts if v is not None]
                (h,) = ax.plot(
                    [k for k, _ in pts],
                    [v for _, v in pts],
                    color=colour,
                    linewidth=1.0,
                    linestyle=(0, (4, 3)),
                    marker="o",
                    markersize=6,
                    gid=f"series-published-{i}-{g}",
                )
                handles[entry.method, entry.kind] = h
            for i, (entry, colour) in enumerate(zip(board.entries, colours)):
                if entry.is_published or entry.per_query is None:
                    continue
                if curves:
                    x, y = task.curve(entry.per_query[g], board.ties)
                    (h,) = ax.plot(x, y, color=colour, linewidth=2.2, gid=f"series-user-{i}-{g}")
                else:
                    m = _main_metric(task)
                    ci = entry.interval(g, m)
                    h = ax.errorbar(
                        [i],
                        [entry.metrics[g][m]],
                        yerr=None
                        if ci is None
                        else [[entry.metrics[g][m] - ci[0]], [ci[1] - entry.metrics[g][m]]],
                        color=colour,
                        marker="s",
                        gid=f"series-user-{i}-{g}",
                    )[0]
                handles[entry.method, entry.kind] = h
        labels = [plain_label(f"{e.method} ({KIND_LABELS[e.kind]})") for e in board.entries]
        fig.legend(
            [handles[e.method, e.kind] for e in board.entries],
            labels,
            loc="lower center",
            ncol=LEGEND_COLUMNS,
            frameon=False,
            bbox_to_anchor=(0.5, 0.0),
        )
        fig.subplots_adjust(
            left=0.05,
            right=0.99,
            top=1 - 0.45 / height,
            bottom=(legend_rows * LEGEND_ROW_IN + 0.75) / height,
            wspace=0.14,
        )
        what = "Recall at K" if curves else task.main_score
        return inline_svg(
            fig, "recall-plot", f"{what} for {spec.title}, one panel per {task.group_noun}"
        )


def _main_metric(task) -> str:
    """The per-group metric a task without a curve plots: the main score when it is a metric,
    else the first term of the main summary."""
    terms = next((s.terms for s in task.summaries if s.name == task.main_score), (task.main_score,))
    return terms[0]
