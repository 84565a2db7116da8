"""A report as one self-contained HTML page (no script, no URL), as Markdown, or as JSON."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from var_bench.leaderboard.entries import one_line
from var_bench.leaderboard.layout import KIND_LABELS, value_parts
from var_bench.leaderboard.render_html import CSS, html_list, page, plain_table
from var_bench.leaderboard.render_md import md_escape
from var_bench.report.build import Report
from var_bench.tables import format_cell, markdown_table

FORMATS: tuple[str, ...] = ("html", "md", "json")

_EXTRA_CSS = """
td.hit { background: #e4f2e1; }
.dup { color: #8e0152; font-weight: bold; }
svg.report-plot { display: block; width: 100%; height: auto; max-width: 1100px; }
"""


def metric_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    task = report.task
    names = [m.name for m in task.metrics]
    header = [task.group_noun.capitalize(), *names]
    rows = []
    for g in task.groups:
        if g not in report.entry.metrics:
            continue
        cells = [task.group_label(g)]
        for m in names:
            v, ci = value_parts(report.entry, g, m)
            cells.append(v if ci is None else f"{v} {ci}")
        rows.append(cells)
    for s in task.summaries:
        v, ci = value_parts(report.entry, None, s.name)
        rows.append([s.name, v if ci is None else f"{v} {ci}", *[""] * (len(names) - 1)])
    return header, rows


def nearest_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    header = ["#", "Tier", "Method", "Source", report.task.main_score]
    rows = [
        [
            format_cell(e.rank),
            format_cell(e.tier),
            one_line(e.method),
            KIND_LABELS[e.kind],
            format_cell(e.score, 1)
            + (" (this model)" if e.source == report.source and not e.is_published else ""),
        ]
        for e in report.nearest
    ]
    return header, rows


def _item(it) -> str:
    bits = [it.id] + ([it.cls] if it.cls else []) + ([f'"{it.caption}"'] if it.caption else [])
    return " | ".join(bits)


def hardest_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    header = [
        "Dir",
        "Query",
        "True item",
        report.task.difficulty_label.split()[0].capitalize(),
        "Tied",
        "Top retrieved",
    ]
    detailed = any(h.detail for h in report.hardest)
    if detailed:
        header.append("Answer (gold vs top)")
    rows = []
    for h in report.hardest:
        q = h.query.caption or h.query.id
        if h.duplicate_caption:
            q += " [duplicate caption]"
        same = h.same_source or (False,) * len(h.top)
        top = (
            "; ".join(
                ("* " if hit else "") + _item(it) + (" [same source]" if s else "")
                for (it, hit), s in zip(h.top, same)
            )
            or "-"
        )
        rows.append([h.direction, q, _item(h.truth), f"{h.rank:g}", str(h.tied), top])
        if detailed:
            rows[-1].append(h.detail or "-")
    return header, rows


def group_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    dirs = [g for g in report.task.groups if report.groups and g in report.groups[0].recall]
    metric = report.task.breakdown_metric()
    header = ["Group", "n", *(f"{d} {metric} [95% Wilson]" for d in dirs)]
    rows = [
        [
            g.label,
            str(g.n),
            *(f"{g.recall[d]:.1f} [{g.interval[d][0]:.1f}, {g.interval[d][1]:.1f}]" for d in dirs),
        ]
        for g in report.groups
    ]
    return header, rows


def slice_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Seen vs unseen source (the record's slices): queries and the main score with its
    bootstrap interval."""
    from var_bench.scoring.slices import LABELS

    main = report.task.main_score
    header = ["Slice", "n", f"{main} [95% bootstrap]"]
    rows = []
    for name, f in report.slices:
        value = report.task.main_value(f["metrics"], f["summary"])
        lo, hi = f["ci"]["intervals"][main] if main in f["ci"]["intervals"] else (None, None)
        shown = f"{value:.1f}" + ("" if lo is None else f" [{lo:.1f}, {hi:.1f}]")
        rows.append([LABELS.get(name, name), str(f["queries"]), shown])
    return header, rows


def compare_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    header = ["Metric", "A", "B", "diff", "interval", "p", "p (Holm)"]
    rows = [
        [
            r.metric,
            f"{r.a:.1f}",
            f"{r.b:.1f}",
            f"{r.diff:+.1f}",
            f"[{r.ci_low:.1f}, {r.ci_high:.1f}]",
            f"{r.p_value:.4f}",
            f"{r.p_adjusted:.4f}",
        ]
        for r in report.comparison.rows
    ]
    return header, rows


def differ_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    what = report.task.difficulty_label.split()[0].capitalize()
    header = ["Dir", "Query", f"{what} (A)", f"{what} (B)"]
    return header, [
        [d, it.caption or it.id, f"{a:g}", f"{b:g}"] for d, _, a, b, it in report.differ
    ]


def _sections(report: Report):
    """(heading, kind, payload) in page order; kind: table, list or svg."""
    from var_bench.report.plots import group_bars_svg, rank_histogram_svg, recall_curves_svg

    task = report.task
    out = [
        (
            f"Metrics (95% bootstrap intervals from the {task.per_query_noun})",
            "table",
            metric_rows(report),
        ),
        ("Nearest leaderboard rows", "table", nearest_rows(report)),
    ]
    if any(c is not None for c in report.curves.values()):
        out.append(
            (
                "Recall at K" if task.curve_points else "Curves",
                "svg",
                lambda: recall_curves_svg(report),
            )
        )
    out.append((task.difficulty_label.capitalize(), "svg", lambda: rank_histogram_svg(report)))
    if report.groups:
        out += [
            (
                f"{task.breakdown_metric()} per class and for anomalous vs normal videos",
                "svg",
                lambda: group_bars_svg(report),
            ),
            ("Per group", "table", group_rows(report)),
        ]
    if report.slices:
        out.append(
            (
                "Seen vs unseen source (test queries whose film or upload has training clips, "
                "docs/integrity.md)",
                "table",
                slice_rows(report),
            )
        )
    same = (
        "; [same source] a wrong item cut from the query's own film or upload"
        if any(h.same_source for h in report.hardest)
        else ""
    )
    out.append(
        (
            f"Hardest queries (* marks the true item among the retrieved{same})",
            "table",
            hardest_rows(report),
        )
    )
    if report.comparison is not None:
        out += [
            (
                f"Paired comparison: A = {report.name}, B = {report.other.name} "
                f"({report.comparison.method}, Holm over the rows)",
                "table",
                compare_rows(report),
            ),
            ("Queries where the two differ most", "table", differ_rows(report)),
        ]
    if report.notes:
        out.append(("Notes", "list", report.notes))
    return out


def render_html(report: Report) -> str:
    title = f"{report.spec.title} report: {report.name}"
    body = [
        f"<h1>{escape(title)}</h1>",
        html_list(
            [
                f"Source: {report.source}; tie rule: {report.task.official_rule}; tier "
                f"{report.entry.tier} on the leaderboard (1 = top)."
            ]
        ),
    ]
    for heading, kind, payload in _sections(report):
        body.append(f"<h2>{escape(heading)}</h2>")
        if kind == "svg":
            body.append(payload())
        elif kind == "list":
            body.append(html_list(payload))
        else:
            body.append(plain_table(*payload))
    return page(title, body, CSS + _EXTRA_CSS)


def render_markdown(report: Report) -> str:
    parts = [
        f"# {md_escape(report.spec.title)} report: {md_escape(report.name)}",
        f"- Source: {md_escape(report.source)}; tier {report.entry.tier} on the leaderboard.",
    ]
    for heading, kind, payload in _sections(report):
        if kind == "svg":
            continue  # figures are in the HTML page
        parts.append(f"## {md_escape(heading)}")
        if kind == "list":
            parts.append("\n".join(f"- {md_escape(x)}" for x in payload))
        else:
            header, rows = payload
            parts.append(markdown_table(header, [[md_escape(c, True) for c in r] for r in rows]))
    return "\n\n".join(parts) + "\n"


def report_dict(report: Report) -> dict[str, Any]:
    def table(fn) -> list[dict[str, str]]:
        header, rows = fn(report)
        return [dict(zip(header, r)) for r in rows]

    data: dict[str, Any] = {
        "benchmark": report.spec.name,
        "name": report.name,
        "source": report.source,
        "tier": report.entry.tier,
        "rank": report.entry.rank,
        "task": report.task.name,
        "main_score": report.task.main_score,
        "metrics": report.entry.metrics,
        "summary": dict(report.entry.summary),
        "score": report.entry.score,
        "ci": report.entry.ci,
        "nearest": table(nearest_rows),
        "recall_curves": {d: c[1].tolist() for d, c in report.curves.items() if c is not None},
        "ranks": {d: r.tolist() for d, r in report.ranks.items()},
        "groups": [
            {
                "label": g.label,
                "n": g.n,
                report.task.breakdown_metric(): dict(g.recall),
                "interval": {d: list(v) for d, v in g.interval.items()},
            }
            for g in report.groups
        ],
        "hardest": [
            {
                "direction": h.direction,
                "index": h.index,
                "query": h.query.__dict__,
                "truth": h.truth.__dict__,
                "rank": h.rank,
                "tied": h.tied,
                "duplicate_caption": h.duplicate_caption,
                "top": [{**it.__dict__, "is_truth": hit} for it, hit in h.top],
                **({"same_source": list(h.same_source)} if h.same_source else {}),
                **({"detail": h.detail} if h.detail else {}),
            }
            for h in report.hardest
        ],
        **({"slices": table(slice_rows)} if report.slices else {}),
        "notes": list(report.notes),
    }
    if report.comparison is not None:
        data["comparison"] = report.comparison.to_dict()
        data["differ"] = [
            {"direction": d, "index": i, "rank_a": a, "rank_b": b, "query": it.__dict__}
            for d, i, a, b, it in report.differ
        ]
    return data


def render_json(report: Report) -> str:
    from var_bench.leaderboard.render_json import _numpy_default

    return (
        json.dumps(
            report_dict(report),
            indent=1,
            ensure_ascii=False,
            allow_nan=False,
            default=_numpy_default,
        )
        + "\n"
    )


RENDERERS = {"html": render_html, "md": render_markdown, "json": render_json}
