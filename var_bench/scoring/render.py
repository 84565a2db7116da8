"""Result records and comparisons as text for people: the tables ``var-bench score``,
``evaluate`` and ``compare`` print (R@K, MdR and MnR with one decimal, as the paper).

The JSON form of a record is :meth:`ResultRecord.save`; this is the screen form, usable from a
notebook as well: ``print(render_record(var_bench.score(...)))``.
"""

from __future__ import annotations

from typing import Any

from var_bench.benchmarks import get_benchmark
from var_bench.scoring.record import ResultRecord
from var_bench.scoring.stats.breakdown import ANOMALOUS, CLASSES, NORMAL
from var_bench.scoring.stats.compare import Comparison
from var_bench.tables import plain_table
from var_bench.tasks import MEDIAN, Task

__all__ = ["render_comparison", "render_record", "render_slices"]


def _head(task: Task, metric: str) -> str:
    return f"{metric}{task.arrow(metric)}"


def render_record(record: ResultRecord) -> str:
    """The people's view of a result record: metrics per group, the summaries, the rule and its
    bounds, then the optional intervals and per-class tables (R@K, MdR and MnR with one decimal,
    as the paper)."""
    from var_bench.scoring.score import record_task

    spec = get_benchmark(record.benchmark)
    task = record_task(record)
    groups = list(record.metrics)
    names = [m.name for m in task.metrics]
    sizes = {g: task.query_count(q) for g, q in record.per_query.items()}
    n = next(iter(sizes.values()))
    counted = (
        f"{n} queries per direction"
        if len(set(sizes.values())) == 1
        else ", ".join(f"{sizes[g]} {g} queries" for g in groups)
    )
    rule = f", ties at their {record.ties} rank" if record.ties else ""
    lines = [
        f"{spec.title} {record.split}: {counted}{rule}"
        + (f", entry: {record.name}" if record.name else ""),
        "",
    ]
    rows = [[task.group_title(g), *(record.metrics[g][m] for m in names)] for g in groups]
    lines.append(plain_table(["direction", *(_head(task, m) for m in names)], rows))
    only = "" if len(groups) == len(task.groups) else f" ({', '.join(groups)} only)"
    for s in task.summaries:
        lines.append(f"{_head(task, s.name)}{only}: {record.summary[s.name]:.1f}")
    tied = record.details.get("tied_queries")
    if tied:
        lines.append("tied queries: " + ", ".join(f"{g} {tied[g]} of {sizes[g]}" for g in groups))
    if record.bounds and task.summaries:
        main = task.summaries[0].name
        bounds = ", ".join(f"{rule} {b['summary'][main]:.1f}" for rule, b in record.bounds.items())
        lines.append(f"{main} bounds (ties all won / all lost): {bounds}")
    for o in record.contamination or ():
        if o["status"] == "overlap":
            lines.append(
                f"in-training: {o['name']} holds {o['test_videos']} of {o['of']} {record.split} "
                f"videos ({o['note']})"
            )
        elif o["status"] == "unknown" and o["kind"] == "registry":
            lines.append(f"in-training unknown: {o['name']} ({o['note']})")
    descriptions = (record.disclosure or {}).get("model_written_test_descriptions")
    if descriptions and descriptions.strip().lower() not in ("none", "no"):
        lines.append(f"uses model-written descriptions of the test videos: {descriptions}")
    if record.slices:
        lines += ["", render_slices(record, task)]
    if record.ci:
        lines += ["", _render_ci(record, task)]
    if record.by_class:
        lines += ["", _render_by_class(record, task)]
    return "\n".join(lines)


def render_slices(record: ResultRecord, task: Task) -> str:
    """The record's slices (:mod:`var_bench.scoring.slices`) as one table: queries, the
    percentage and median metrics per group, the summaries (with their interval when the record
    has intervals)."""
    from var_bench.scoring.slices import LABELS

    shown = [m.name for m in task.metrics if m.is_percentage or m.aggregation == MEDIAN]
    groups = list(record.metrics)
    header = [
        "slice",
        "n",
        *(f"{g} {_head(task, m)}" for g in groups for m in shown),
        *(_head(task, s.name) for s in task.summaries),
    ]
    rows = []
    for name, sl in record.slices.items():
        ci = (sl.get("ci") or {}).get("intervals", {})
        rows.append(
            [
                LABELS.get(name, name),
                sl["queries"],
                *(sl["metrics"][g][m] for g in groups for m in shown),
                *(
                    f"{sl['summary'][s.name]:.1f}"
                    + (f" {_interval(ci[s.name])}" if s.name in ci else "")
                    for s in task.summaries
                ),
            ]
        )
    first = next(iter(record.slices.values()))
    return (
        f"slices (docs/integrity.md): {first['description']}, and the rest; same rules, "
        "recomputed from the per-query counts\n" + plain_table(header, rows)
    )


def _interval(pair: Any) -> str:
    return f"[{pair[0]:.1f}, {pair[1]:.1f}]"


def _render_ci(record: ResultRecord, task: Task) -> str:
    ci = record.ci
    intervals = ci["intervals"]
    groups = [g for g in record.metrics if g in intervals]
    metrics = [m.name for m in task.metrics if any(m.name in intervals[g] for g in groups)]
    rows = [
        [
            task.group_title(g),
            *(_interval(intervals[g][m]) if m in intervals[g] else None for m in metrics),
        ]
        for g in groups
    ]
    summaries = "; ".join(
        f"{_head(task, s.name)} {_interval(intervals[s.name])}"
        for s in task.summaries
        if s.name in intervals
    )
    title = (
        f"{100 * ci['level']:g}% intervals ({ci['method']}, {ci['replicates']} replicates, "
        f"seed {ci['seed']})" + (f"; {summaries}" if summaries else "")
    )
    return (
        title
        + "\n"
        + plain_table(
            ["direction", *(_head(task, m) for m in metrics)],
            rows,
            align=["left"] + ["right"] * len(metrics),
        )
    )


def _render_by_class(record: ResultRecord, task: Task) -> str:
    # Mean ranks add little per class: the percentage metrics and the medians are shown.
    shown = [m.name for m in task.metrics if m.is_percentage or m.aggregation == MEDIAN]
    groups = list(record.metrics)
    header = [
        "group",
        "n",
        *(f"{g} {_head(task, m)}" for g in groups for m in shown),
        *(_head(task, s.name) for s in task.summaries),
    ]
    classes = record.by_class[CLASSES]
    normal = record.by_class[NORMAL]
    # The normal group is usually one class ("Normal"): its row would repeat that class's row.
    same = normal is not None and any(g == normal for g in classes.values())
    parts = [
        *classes.items(),
        (ANOMALOUS, record.by_class[ANOMALOUS]),
        *([] if same else [(NORMAL, normal)]),
    ]
    rows = [
        [
            label,
            g["n"],
            *(g["metrics"][d][m] for d in groups for m in shown),
            *(g["summary"][s.name] for s in task.summaries),
        ]
        for label, g in parts
        if g is not None
    ]
    return (
        "per class (queries whose video is in the group; gallery: the whole test set)\n"
        + plain_table(header, rows)
    )


def render_comparison(result: Comparison, a: str, b: str) -> str:
    """One row per metric and group, then the summaries: A, B, diff = A - B, the interval of the
    difference, the p-value and which entry is better (A, B, or - when not significant)."""
    rows = []
    for r in result.rows:
        arrow = "↑" if r.higher_is_better else "↓"
        rows.append(
            [
                f"{r.metric}{arrow}",
                r.a,
                r.b,
                r.diff,
                _interval((r.ci_low, r.ci_high)),
                f"{r.p_value:.4f}",
                "-" if r.p_adjusted is None else f"{r.p_adjusted:.4f}",
                r.better.upper() if r.better else "-",
            ]
        )
    rule = f", ties at their {result.ties} rank" if result.ties else ""
    head = (
        f"A: {a}\nB: {b}\n{result.method} test, {result.replicates} replicates, seed "
        f"{result.seed}{rule}; diff = A - B with its {100 * result.level:g}% "
        f"bootstrap interval; better: where p < {1 - result.level:g}; p (Holm): adjusted "
        f"over the {len(result.rows)} rows, for reading several at once"
    )
    table = plain_table(
        ["metric", "A", "B", "diff", "interval", "p", "p (Holm)", "better"],
        rows,
        align=["left", "right", "right", "right", "right", "right", "right", "left"],
    )
    notes = "".join(f"\nnote: {n}" for n in result.notes)
    return head + "\n" + table + notes
