"""The report's figures (matplotlib, inline SVG): recall@K curves, rank histograms, per-group
R@10 bars with Wilson intervals."""

from __future__ import annotations

import numpy as np

from var_bench.plots import figure, inline_svg, palette_colour, plain_label
from var_bench.leaderboard.plot import recall_axes, x_ticks


def recall_curves_svg(report) -> str:
    """R@K for K = 1..N, one panel per direction; the compared model dashed."""
    spec = report.spec
    with figure(11.0, 3.8, ncols=len(spec.directions)) as (fig, axes):
        for ax, d in zip(axes[0], spec.directions):
            series = [(report, "-")] + ([(report.other, "--")] if report.other else [])
            for n, (r, style) in enumerate(series):
                curve = r.curves[d.name]
                ax.plot(np.arange(1, curve.size + 1), curve, style, color=palette_colour(n),
                        linewidth=2.2, gid=f"curve-{n}-{d.name}",
                        label=plain_label(f"{'AB'[n]}: {r.name}" if report.other else r.name))
            recall_axes(ax, spec.test_size)
            ax.set_title(plain_label(f"{d.arrow}: {d.query} to {d.gallery}"), fontweight="bold")
            ax.set_xlabel("K (log scale)")
            ax.set_ylabel("R@K (%)")
            ax.legend(loc="lower right", frameon=False)
        fig.tight_layout()
        return inline_svg(fig, "report-plot recall", "Recall at K for K = 1 to N")


def rank_histogram_svg(report) -> str:
    """How many queries put their true item at each rank (log-spaced bins), per direction."""
    spec = report.spec
    edges = np.unique(np.round(np.geomspace(1, spec.test_size + 1, 16)))
    with figure(11.0, 3.2, ncols=len(spec.directions)) as (fig, axes):
        for ax, d in zip(axes[0], spec.directions):
            counts, _ = np.histogram(report.ranks[d.name], bins=edges)
            ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge",
                   color=palette_colour(0), edgecolor="#ffffff", gid=f"hist-{d.name}")
            ax.set_xscale("log")
            ax.set_xlim(1, spec.test_size + 1)
            ticks = x_ticks(spec.test_size)
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
            ax.set_title(plain_label(f"{d.arrow}: rank of the true item"), fontweight="bold")
            ax.set_xlabel("rank (log scale, 1 = first)")
            ax.set_ylabel("queries")
        fig.tight_layout()
        return inline_svg(fig, "report-plot hist", "Histogram of the true item's rank")


def group_bars_svg(report) -> str:
    """R@10 per class and for anomalous vs normal videos, per direction, with Wilson intervals."""
    groups = report.groups
    labels = [plain_label(f"{g.label} ({g.n})") for g in groups]
    dirs = [d for d in report.spec.directions]
    x = np.arange(len(groups))
    width = 0.8 / len(dirs)
    with figure(11.0, 3.8) as (fig, axes):
        ax = axes[0][0]
        for j, d in enumerate(dirs):
            vals = np.array([g.recall[d.name] for g in groups])
            lo = np.array([g.interval[d.name][0] for g in groups])
            hi = np.array([g.interval[d.name][1] for g in groups])
            ax.bar(x + (j - (len(dirs) - 1) / 2) * width, vals, width,
                   yerr=np.clip(np.vstack([vals - lo, hi - vals]), 0, None), capsize=2, color=palette_colour(j),
                   ecolor="#555555", label=plain_label(d.arrow), gid=f"bars-{d.name}")
        ax.set_xticks(x, labels, rotation=35, ha="right")
        ax.set_ylim(0, 104)
        ax.set_ylabel("R@10 (%)")
        ax.set_title("R@10 per group (95% Wilson intervals)", fontweight="bold")
        ax.legend(frameon=False)
        fig.tight_layout()
        return inline_svg(fig, "report-plot groups", "R@10 per class, anomalous and normal")
