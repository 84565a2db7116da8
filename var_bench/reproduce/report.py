"""The reproduction report: per-seed runs aggregated beside the published row, rendered as
``summary.json`` (machine-readable), ``report.md`` and ``report.html`` (self-contained)."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from var_bench.fsutil import atomic_write_text
from var_bench.models.deviations import Deviation
from var_bench.reproduce.paper import PaperValue
from var_bench.reproduce.stats import Bounds, Comparison, compare, seed_warning
from var_bench.tables import markdown_table


@dataclass
class Summary:
    """A reproduction's aggregate: ``metrics[direction][metric]`` and ``score`` (the task's main
    score, ``main_score``: SumR for retrieval) as :class:`~var_bench.reproduce.stats.Comparison`
    over the seeds."""

    model: str
    benchmark: str
    config: str
    strict: bool
    published_method: str | None
    metrics: dict[str, dict[str, Comparison]]
    score: Comparison
    seeds: list  # of run.SeedRun
    deviations: list[Deviation]
    paper_values: tuple[PaperValue, ...]
    features: dict[str, Any]
    wall_seconds: float
    device: str
    peak_gpu_memory_bytes: int | None = None
    out: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    main_score: str = "SumR"
    #: Lines a reader must see before the numbers (too few seeds, comparison withheld).
    warnings: list[str] = field(default_factory=list)

    def to_json(self, out: str | Path | None = None) -> dict[str, Any]:
        """The ``summary.json`` layout; record paths relative to ``out`` when given."""

        def rel(p: str) -> str:
            return os.path.relpath(p, out) if out is not None else p

        return {
            "model": self.model,
            "benchmark": self.benchmark,
            "config": self.config,
            "strict": self.strict,
            "published_method": self.published_method,
            "metrics": {
                d: {m: c.to_json() for m, c in ms.items()} for d, ms in self.metrics.items()
            },
            self.main_score: self.score.to_json(),
            "seeds": [{**s.to_json(), "record": rel(s.record)} for s in self.seeds],
            "deviations": [d.to_json() for d in self.deviations],
            "paper_values": [p.to_json() for p in self.paper_values],
            "features": self.features,
            "wall_seconds": self.wall_seconds,
            "device": self.device,
            "peak_gpu_memory_bytes": self.peak_gpu_memory_bytes,
            "warnings": list(self.warnings),
            **self.extra,
        }


def published_row(model: str, benchmark: str):
    """The published row rerun by ``model`` (``reference_model`` in published.json), or None."""
    from var_bench.leaderboard.published import published_table

    for row in published_table(benchmark).rows:
        if row.reference_model == model:
            return row
    return None


def merge_deviations(*groups: Sequence[Deviation | str]) -> list[Deviation]:
    """Deviations in order, each key once (the first message wins): the plan's, then any the
    built models added (e.g. ``text.fallback``; a model's own ``alan.no_flow`` repeats the
    plan's in other words). Lines ``key: message`` are parsed."""
    out: list[Deviation] = []
    seen: set[str] = set()
    for group in groups:
        for d in group:
            if isinstance(d, str):
                key, _, message = d.partition(": ")
                d = Deviation(key, message)
            if d.key not in seen:
                seen.add(d.key)
                out.append(d)
    return out


def metric_bounds(task, name: str) -> Bounds | None:
    """The range of the task's metric or summary ``name``: ``(0, 100)`` for a percentage,
    ``(1, None)`` for a rank, the sum of its terms' ranges over the task's groups for a summary
    of percentages; None when unknown."""
    spec = next((m for m in task.metrics if m.name == name), None)
    if spec is not None:
        if spec.is_percentage:
            return (0.0, 100.0)
        return (1.0, None) if spec.unit == "rank" else None
    summary = next((s for s in task.summaries if s.name == name), None)
    if summary is None:
        return None
    units = [next((m for m in task.metrics if m.name == t), None) for t in summary.terms]
    if all(u is not None and u.is_percentage for u in units):
        return (0.0, 100.0 * len(summary.terms) * len(task.groups))
    return None


def withhold_reason(deviations: Sequence[Deviation]) -> str | None:
    """Why "published inside" must not be claimed: synthetic features, or deviations in force."""
    if any(d.key.startswith("features.synthetic") for d in deviations):
        return "synthetic features"
    if deviations:
        n = len(deviations)
        return f"{n} deviation{'s' if n != 1 else ''} in force"
    return None


def summarise(plan, runs: Sequence, *, wall_seconds: float, device: str, ablation=None) -> Summary:
    """Aggregate the seeds' test metrics beside the published row (see :mod:`.stats`).

    ``ablation``: ``(AblationTable, AblationRow)`` of the paper's ablation table the run
    reproduces a row of; its printed metrics (R@1, R@10) replace the main table's row. Intervals
    are clipped to each metric's range; whether the published value is inside is withheld on
    synthetic features or with deviations in force; fewer than three seeds add a warning."""
    from var_bench.benchmarks import get_benchmark

    task = get_benchmark(plan.benchmark).task()
    deviations = merge_deviations(plan.deviations, *(r.deviations for r in runs))
    withhold = withhold_reason(deviations)
    if ablation is not None:
        table, arow = ablation
        method = None if arow is None else f"{arow.setting} ({table.source})"
        pub_metrics = {} if arow is None else arow.metrics
        pub_score = None
    else:
        row = published_row(plan.model, plan.benchmark)
        method = None if row is None else row.method
        pub_metrics = {} if row is None else row.metrics
        pub_score = None if row is None else row.score
    directions = list(runs[0].metrics)
    metrics = {}
    for d in directions:
        metrics[d] = {}
        for m in (m.name for m in task.metrics):
            values = [r.metrics[d][m] for r in runs if r.metrics[d].get(m) is not None]
            if not values:
                continue
            pub = pub_metrics.get(d, {}).get(m)
            metrics[d][m] = compare(values, pub, metric_bounds(task, m), withhold)
    score = compare(
        [r.score for r in runs], pub_score, metric_bounds(task, task.main_score), withhold
    )
    peaks = [r.peak_gpu_memory_bytes for r in runs if r.peak_gpu_memory_bytes is not None]
    warnings = [w for w in (seed_warning(len(runs)),) if w]
    if withhold and method is not None:
        warnings.append(
            f"not the paper's run ({withhold}): the difference from the published numbers is "
            f"shown, whether they fall inside the interval is not"
        )
    return Summary(
        plan.model,
        plan.benchmark,
        plan.config_label,
        plan.strict,
        method,
        metrics,
        score,
        list(runs),
        deviations,
        plan.paper,
        plan.features,
        wall_seconds,
        device,
        max(peaks) if peaks else None,
        main_score=task.main_score,
        warnings=warnings,
    )


# ---------------------------------------------------------------- rendering


def _num(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _ci(c: Comparison) -> str:
    return "- (one seed)" if c.stats.ci is None else f"[{c.stats.ci[0]:.1f}, {c.stats.ci[1]:.1f}]"


def _inside(c: Comparison) -> str:
    if c.withheld:
        return f"- ({c.withheld})"
    return "-" if c.inside is None else ("yes" if c.inside else "no")


def _memory(b: int | None) -> str:
    return "- (CPU)" if b is None else f"{b / 2**30:.2f} GiB"


def result_rows(s: Summary) -> list[list[str]]:
    """Rows ``direction, metric, mean +- std, 95 % interval, published, difference, inside``."""
    rows = []
    for d, ms in s.metrics.items():
        for m, c in ms.items():
            rows.append(
                [
                    d,
                    m,
                    f"{c.stats.mean:.1f} +- {c.stats.std:.1f}",
                    _ci(c),
                    _num(c.published),
                    _num(c.difference),
                    _inside(c),
                ]
            )
    c = s.score
    rows.append(
        [
            "both",
            s.main_score,
            f"{c.stats.mean:.1f} +- {c.stats.std:.1f}",
            _ci(c),
            _num(c.published),
            _num(c.difference),
            _inside(c),
        ]
    )
    return rows


RESULT_HEADER = [
    "direction",
    "metric",
    "mean +- std",
    "95% interval",
    "published",
    "difference",
    "published inside",
]


def curve_rows(s: Summary) -> tuple[list[str], list[list[str]]]:
    """The val main score per epoch: header ``epoch, seed k...`` and one row per epoch."""
    epochs = sorted({int(e) for r in s.seeds for e, _ in r.val_curve})
    header = ["epoch"] + [f"seed {r.seed}" for r in s.seeds]
    rows = []
    for e in epochs:
        row = [str(e)]
        for r in s.seeds:
            v = dict((int(k), v) for k, v in r.val_curve).get(e)
            row.append(_num(v))
        rows.append(row)
    return header, rows


def seed_rows(s: Summary, out: str | Path | None) -> list[list[str]]:
    rows = []
    for r in s.seeds:
        rec = os.path.relpath(r.record, out) if out is not None else r.record
        rows.append(
            [
                str(r.seed),
                f"{r.score:.1f}",
                str(r.epochs_run),
                f"{r.wall_seconds:.1f}",
                _memory(r.peak_gpu_memory_bytes),
                rec,
            ]
        )
    return rows


def seed_header(s: Summary) -> list[str]:
    return ["seed", f"test {s.main_score}", "epochs", "wall s", "peak GPU memory", "record"]


def provenance_lines(f: dict[str, Any]) -> list[str]:
    """One line per stream: where its features come from (see
    :func:`~var_bench.reproduce.run.stream_provenance`)."""
    out = []
    for stream, p in (f.get("provenance") or {}).items():
        parts = [p.get("origin", "unknown")]
        for key in ("model", "flow_method", "recipe", "weights_sha256", "release"):
            if p.get(key):
                parts.append(f"{key.replace('_', ' ')} {p[key]}")
        out.append(f"{stream}: " + ", ".join(parts))
    return out


def _feature_lines(f: dict[str, Any]) -> list[tuple[str, str]]:
    keys = (
        "folder",
        "streams",
        "dims",
        "crops_mode",
        "num_crops",
        "dtype",
        "synthetic",
        "built_at",
        "counts",
        "manifest_sha256",
    )
    return [(k, json.dumps(f.get(k)) if not isinstance(f.get(k), str) else f[k]) for k in keys]


def render_markdown(s: Summary, out: str | Path | None = None) -> str:
    n = len(s.seeds)
    pub = s.published_method or "none (no published row for this model)"
    lines = [
        f"# Reproduction: {s.model} on {s.benchmark}",
        "",
        f"Config `{s.config}` ({'strict' if s.strict else 'deviations allowed'}), {n} seed"
        f"{'s' if n != 1 else ''}, device {s.device}; published row: {pub}. Metrics on the "
        f"test split: mean +- sample std over seeds, 95% Student-t interval of the mean "
        f"(clipped to the metric's range).",
        "",
    ]
    lines += [f"> **Warning:** {w}" for w in s.warnings]
    lines += [
        "",
        "## Results",
        "",
        markdown_table(RESULT_HEADER, result_rows(s)),
        "",
        "## Deviations from the paper in force",
        "",
    ]
    lines += [f"- `{d.key}`: {d.message}" for d in s.deviations] or ["- none"]
    lines += [
        "",
        "## Paper values (stated, our reading, guess)",
        "",
        markdown_table(
            ["key", "value", "status", "source"],
            [[p.key, json.dumps(p.value), p.status, p.source] for p in s.paper_values],
        )
        if s.paper_values
        else "none for this model",
        "",
        f"## Training curves (val {s.main_score} per epoch)",
        "",
    ]
    header, rows = curve_rows(s)
    lines += [
        markdown_table(header, rows) if rows else "no validation entries in the run logs",
        "",
        "## Time and memory",
        "",
        f"Total wall time {s.wall_seconds:.1f} s; "
        f"peak GPU memory {_memory(s.peak_gpu_memory_bytes)}.",
        "",
        markdown_table(seed_header(s), seed_rows(s, out)),
        "",
        "## Features",
        "",
    ]
    lines += [f"- {k}: `{v}`" for k, v in _feature_lines(s.features)]
    prov = provenance_lines(s.features)
    if prov:
        lines += ["", "Provenance per stream:", ""] + [f"- {line}" for line in prov]
    return "\n".join(lines) + "\n"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def curves_svg(s: Summary) -> str:
    """The val main score per epoch as an inline SVG chart (matplotlib): one line per seed, axes
    labelled, a title and a legend."""
    if not any(r.val_curve for r in s.seeds):
        return "<p>no validation entries in the run logs</p>"
    from var_bench.plots import figure, inline_svg, palette_colour, plain_label

    title = f"Validation {s.main_score} per epoch: {s.model} on {s.benchmark}"
    with figure(6.4, 3.4) as (fig, axes):
        ax = axes[0][0]
        for i, r in enumerate(s.seeds):
            if not r.val_curve:
                continue
            xs = [e for e, _ in r.val_curve]
            ys = [v for _, v in r.val_curve]
            ax.plot(
                xs,
                ys,
                "-o",
                color=palette_colour(i),
                linewidth=2.0,
                markersize=3.5,
                gid=f"curve-seed-{r.seed}",
                label=plain_label(f"seed {r.seed}"),
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(plain_label(f"val {s.main_score}"))
        ax.set_title(plain_label(title), fontweight="bold")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="lower right", frameon=False, title="seed runs")
        fig.tight_layout()
        return inline_svg(fig, "reproduce-plot curves", title)


def render_html(s: Summary, out: str | Path | None = None) -> str:
    n = len(s.seeds)
    devs = (
        "".join(
            f"<li><code>{html.escape(d.key)}</code>: {html.escape(d.message)}</li>"
            for d in s.deviations
        )
        or "<li>none</li>"
    )
    header, rows = curve_rows(s)
    paper = _html_table(
        ["key", "value", "status", "source"],
        [[p.key, json.dumps(p.value), p.status, p.source] for p in s.paper_values],
    )
    feats = "".join(
        f"<li>{html.escape(k)}: <code>{html.escape(v)}</code></li>"
        for k, v in _feature_lines(s.features)
    )
    feats += "".join(f"<li>{html.escape(line)}</li>" for line in provenance_lines(s.features))
    warns = "".join(f"<p><strong>Warning:</strong> {html.escape(w)}</p>" for w in s.warnings)
    title = f"Reproduction: {s.model} on {s.benchmark}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}th{{background:#eee}}
svg.reproduce-plot{{width:100%;height:auto;max-width:40em}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>Config <code>{html.escape(s.config)}</code> ({"strict" if s.strict else "deviations allowed"}),
{n} seed{"s" if n != 1 else ""}, device {html.escape(s.device)}; published row:
{html.escape(s.published_method or "none")}. Test split: mean &plusmn; sample std over seeds,
95% Student-t interval of the mean (clipped to the metric's range).</p>{warns}
<h2>Results</h2>{_html_table(RESULT_HEADER, result_rows(s))}
<h2>Deviations from the paper in force</h2><ul>{devs}</ul>
<h2>Paper values (stated, our reading, guess)</h2>{paper}
<h2>Training curves (val {s.main_score} per epoch)</h2>{curves_svg(s)}{_html_table(header, rows)}
<h2>Time and memory</h2><p>Total wall time {s.wall_seconds:.1f} s; peak GPU memory
{html.escape(_memory(s.peak_gpu_memory_bytes))}.</p>{_html_table(seed_header(s), seed_rows(s, out))}
<h2>Features</h2><ul>{feats}</ul>
</body></html>
"""  # noqa: E501


def write_reports(s: Summary, out: str | Path) -> dict[str, Path]:
    """Write ``summary.json``, ``report.md`` and ``report.html`` into ``out`` (atomically)."""
    out = Path(out)
    paths = {
        "summary": out / "summary.json",
        "markdown": out / "report.md",
        "html": out / "report.html",
    }
    atomic_write_text(paths["summary"], json.dumps(s.to_json(out), indent=1, default=str) + "\n")
    atomic_write_text(paths["markdown"], render_markdown(s, out))
    atomic_write_text(paths["html"], render_html(s, out))
    return paths
