"""Result records and comparisons as text for people: the tables ``var-bench score``,
``evaluate`` and ``compare`` print (R@K, MdR and MnR with one decimal, as the paper).

The JSON form of a record is :meth:`ResultRecord.save`; this is the screen form, usable from a
notebook as well: ``print(render_record(var_bench.score(...)))``.
"""

from __future__ import annotations

from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.scoring.stats.breakdown import ANOMALOUS, CLASSES, NORMAL
from var_bench.scoring.stats.compare import Comparison
from var_bench.tasks.retrieval.names import MEDIAN_RANK, METRICS, RECALLS, SUMR, arrow
from var_bench.scoring.record import ResultRecord
from var_bench.tables import plain_table

__all__ = ["render_comparison", "render_record"]


def _head(metric: str) -> str:
    return f"{metric}{arrow(metric)}"


def _direction_label(spec: BenchmarkSpec, name: str) -> str:
    return f"{spec.direction(name).arrow} ({name})"


def render_record(record: ResultRecord) -> str:
    """The people's view of a result record: metrics, SumR, ties and bounds, then the optional
    intervals and per-class tables. R@K, MdR and MnR with one decimal (as the paper)."""
    spec = get_benchmark(record.benchmark)
    dirs = list(record.metrics)
    n = len(next(iter(record.per_query.values())))
    lines = [f"{spec.title} {record.split}: {n} queries per direction, ties: {record.ties}"
             + (f", entry: {record.name}" if record.name else ""), ""]
    rows = [[_direction_label(spec, d), *(record.metrics[d][m] for m in METRICS)] for d in dirs]
    lines.append(plain_table(["direction", *map(_head, METRICS)], rows))
    only = "" if len(dirs) == len(spec.directions) else f" ({', '.join(dirs)} only)"
    lines.append(f"{_head(SUMR)}{only}: {record.SumR:.1f}")
    tied = ", ".join(f"{d} {record.tied_queries[d]} of {n}" for d in dirs)
    lines.append(f"tied queries: {tied}")
    bounds = ", ".join(f"{rule} {b[SUMR]:.1f}" for rule, b in record.bounds.items())
    lines.append(f"SumR bounds (ties all won / all lost): {bounds}")
    if record.ci:
        lines += ["", _render_ci(record, spec)]
    if record.by_class:
        lines += ["", _render_by_class(record)]
    return "\n".join(lines)


def _interval(pair: Any) -> str:
    return f"[{pair[0]:.1f}, {pair[1]:.1f}]"


def _render_ci(record: ResultRecord, spec: BenchmarkSpec) -> str:
    ci = record.ci
    intervals = ci["intervals"]
    dirs = [d for d in record.metrics if d in intervals]
    metrics = [m for m in METRICS if any(m in intervals[d] for d in dirs)]
    rows = [[_direction_label(spec, d), *(_interval(intervals[d][m]) if m in intervals[d] else None
                                          for m in metrics)] for d in dirs]
    title = (f"{100 * ci['level']:g}% intervals ({ci['method']}, {ci['replicates']} replicates, "
             f"seed {ci['seed']}); {_head(SUMR)} {_interval(intervals[SUMR])}")
    return title + "\n" + plain_table(["direction", *map(_head, metrics)], rows,
                                      align=["left"] + ["right"] * len(metrics))


def _render_by_class(record: ResultRecord) -> str:
    shown = (*RECALLS, MEDIAN_RANK)
    dirs = list(record.metrics)
    header = ["group", "n", *(f"{d} {_head(m)}" for d in dirs for m in shown), _head(SUMR)]
    groups = [*record.by_class[CLASSES].items(), (ANOMALOUS, record.by_class[ANOMALOUS]),
              (NORMAL, record.by_class[NORMAL])]
    rows = [[label, g["n"], *(g["metrics"][d][m] for d in dirs for m in shown), g[SUMR]]
            for label, g in groups if g is not None]
    return "per class (queries whose video is in the group; gallery: the whole test set)\n" \
        + plain_table(header, rows)


def render_comparison(result: Comparison, a: str, b: str) -> str:
    """One row per metric and direction, then SumR: A, B, diff = A - B, the interval of the
    difference, the p-value and which entry is better (A, B, or - when not significant)."""
    rows = []
    for r in result.rows:
        base = r.metric.split()[-1]  # "t2v R@1" -> "R@1"
        rows.append([f"{r.metric}{arrow(base)}", r.a, r.b, r.diff,
                     _interval((r.ci_low, r.ci_high)), f"{r.p_value:.4f}",
                     "-" if r.p_adjusted is None else f"{r.p_adjusted:.4f}",
                     r.better.upper() if r.better else "-"])
    head = (f"A: {a}\nB: {b}\n{result.method} test, {result.replicates} replicates, seed "
            f"{result.seed}, ties: {result.ties}; diff = A - B with its {100 * result.level:g}% "
            f"bootstrap interval; better: where p < {1 - result.level:g}; p (Holm): adjusted "
            f"over the {len(result.rows)} rows, for reading several at once")
    table = plain_table(["metric", "A", "B", "diff", "interval", "p", "p (Holm)", "better"], rows,
                        align=["left", "right", "right", "right", "right", "right", "right",
                               "left"])
    return head + "\n" + table
