"""The report's figures (matplotlib, inline SVG): the task's curves (retrieval: recall@K), the
histogram of per-query difficulty (retrieval: the true item's rank), the breakdown metric per
group (retrieval: R@10) with Wilson intervals."""

from __future__ import annotations

import numpy as np

from var_bench.leaderboard.plot import recall_axes, x_ticks
from var_bench.plots import figure, inline_svg, palette_colour, plain_label


def _groups(report) -> list[str]:
    return [g for g in report.task.groups if g in report.ranks]


def recall_curves_svg(report) -> str:
    """The task's curve (retrieval: R@K for K = 1..N), one panel per group; the compared model
    dashed."""
    task = report.task
    groups = _groups(report)
    with figure(11.0, 3.8, ncols=len(groups)) as (fig, axes):
        for ax, g in zip(axes[0], groups):
            series = [(report, "-")] + ([(report.other, "--")] if report.other else [])
            top = 1
            for n, (r, style) in enumerate(series):
                if r.curves.get(g) is None:
                    continue
                x, y = r.curves[g]
                top = max(top, int(x[-1]))
                ax.plot(
                    x,
                    y,
                    style,
                    color=palette_colour(n),
                    linewidth=2.2,
                    gid=f"curve-{n}-{g}",
                    label=plain_label(f"{'AB'[n]}: {r.name}" if report.other else r.name),
                )
            recall_axes(ax, top)
            ax.set_title(
                plain_label(task.group_description(g).replace(" = ", ": ")), fontweight="bold"
            )
            xlabel, ylabel = task.curve_axes(g, top)
            ax.set_xlabel(xlabel.split(",")[0] + (")" if "(" in xlabel else ""))
            ax.set_ylabel(ylabel)
            ax.legend(loc="lower right", frameon=False)
        fig.tight_layout()
        return inline_svg(fig, "report-plot recall", "Recall at K for K = 1 to N")


def rank_histogram_svg(report) -> str:
    """How many queries have each difficulty (retrieval: put their true item at each rank;
    log-spaced bins; another task: its difficulty in 20 equal bins), per group."""
    task = report.task
    groups = _groups(report)
    if not task.curve_points:
        return _linear_histogram_svg(report, groups)
    top = max(2, int(max(float(np.max(report.ranks[g])) for g in groups)) + 1)
    if task.curve_points:  # ranks: the histogram spans every rank a query could take
        top = max(
            top,
            *(int(report.curves[g][0][-1]) + 1 for g in groups if report.curves.get(g) is not None),
        )
    edges = np.unique(np.round(np.geomspace(1, top, 16)))
    with figure(11.0, 3.2, ncols=len(groups)) as (fig, axes):
        for ax, g in zip(axes[0], groups):
            counts, _ = np.histogram(report.ranks[g], bins=edges)
            ax.bar(
                edges[:-1],
                counts,
                width=np.diff(edges),
                align="edge",
                color=palette_colour(0),
                edgecolor="#ffffff",
                gid=f"hist-{g}",
            )
            ax.set_xscale("log")
            ax.set_xlim(1, top)
            ticks = x_ticks(top - 1)
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
            ax.set_title(
                plain_label(f"{task.group_label(g)}: {task.difficulty_label}"), fontweight="bold"
            )
            ax.set_xlabel(f"{task.difficulty_label.split()[0]} (log scale, 1 = first)")
            ax.set_ylabel("queries")
        fig.tight_layout()
        return inline_svg(fig, "report-plot hist", f"Histogram of the {task.difficulty_label}")


def group_bars_svg(report) -> str:
    """The breakdown metric (retrieval: R@10) per class and for anomalous vs normal videos, per
    direction, with Wilson intervals."""
    task = report.task
    metric = task.breakdown_metric()
    groups = report.groups
    labels = [plain_label(f"{g.label} ({g.n})") for g in groups]
    dirs = [d for d in _groups(report) if d in groups[0].recall]
    x = np.arange(len(groups))
    width = 0.8 / len(dirs)
    with figure(11.0, 3.8) as (fig, axes):
        ax = axes[0][0]
        for j, d in enumerate(dirs):
            vals = np.array([g.recall[d] for g in groups])
            lo = np.array([g.interval[d][0] for g in groups])
            hi = np.array([g.interval[d][1] for g in groups])
            ax.bar(
                x + (j - (len(dirs) - 1) / 2) * width,
                vals,
                width,
                yerr=np.clip(np.vstack([vals - lo, hi - vals]), 0, None),
                capsize=2,
                color=palette_colour(j),
                ecolor="#555555",
                label=plain_label(task.group_label(d)),
                gid=f"bars-{d}",
            )
        ax.set_xticks(x, labels, rotation=35, ha="right")
        ax.set_ylim(0, 104)
        ax.set_ylabel(f"{metric} (%)")
        ax.set_title(f"{metric} per group (95% Wilson intervals)", fontweight="bold")
        ax.legend(frameon=False)
        fig.tight_layout()
        return inline_svg(fig, "report-plot groups", f"{metric} per class, anomalous and normal")


def _linear_histogram_svg(report, groups: list[str]) -> str:
    task = report.task
    values = np.concatenate([np.asarray(report.ranks[g], float) for g in groups])
    lo, hi = float(values.min()), float(values.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
    with figure(11.0, 3.2, ncols=len(groups)) as (fig, axes):
        for ax, g in zip(axes[0], groups):
            counts, _ = np.histogram(report.ranks[g], bins=edges)
            ax.bar(
                edges[:-1],
                counts,
                width=np.diff(edges),
                align="edge",
                color=palette_colour(0),
                edgecolor="#ffffff",
                gid=f"hist-{g}",
            )
            ax.set_title(
                plain_label(f"{task.group_label(g)}: {task.difficulty_label}"), fontweight="bold"
            )
            ax.set_xlabel(f"{task.difficulty_label} (higher = harder)")
            ax.set_ylabel("queries")
        fig.tight_layout()
        return inline_svg(fig, "report-plot hist", f"Histogram of the {task.difficulty_label}")
