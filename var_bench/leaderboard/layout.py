"""The leaderboard table's columns and cell text, shared by the Markdown and HTML renderers.

Columns: rank, method, entry kind, then for each direction R@1 R@5 R@10 MdR MnR, then SumR, the
runnable reference model (``var-bench train --model NAME``), the SumR a user reproduced with it on
real features, and flags. Headers carry the direction (e.g. ``T->V``) and an arrow for the better direction. Values
have one decimal, like the paper; a confidence interval, where the record has one, follows in
brackets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from var_bench.scoring.metrics.breakdown import ANOMALOUS, CLASSES, NORMAL
from var_bench.scoring.metrics.names import MEDIAN_RANK, METRICS, RECALLS, SUMR, arrow
from var_bench.tables import Align, format_cell
from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.entries import PUBLISHED, USER, Entry

DIGITS = 1
#: How the Entry column marks published rows and user entries.
KIND_LABELS: Mapping[str, str] = {PUBLISHED: "paper", USER: "user"}


@dataclass(frozen=True)
class Column:
    """A column: what it shows (``key``), header text, alignment; metric columns name theirs."""

    key: str
    header: str
    align: Align
    direction: str | None = None
    metric: str | None = None


def columns(board: Leaderboard) -> tuple[Column, ...]:
    cols = [Column("rank", "#", "right"), Column("method", "Method", "left"),
            Column("kind", "Entry", "left")]
    for d in board.spec.directions:
        cols += [Column("value", f"{d.arrow} {m} {arrow(m)}", "right", d.name, m) for m in METRICS]
    cols += [Column("value", f"{SUMR} {arrow(SUMR)}", "right", None, SUMR),
             Column("reference", "Reference model", "left"),
             Column("reproduced", f"Reproduced {SUMR}", "right"),
             Column("flags", "Flags", "left")]
    return tuple(cols)


def value_parts(entry: Entry, direction: str | None, metric: str) -> tuple[str, str | None]:
    """(value, interval): one decimal each, ``[lo, hi]`` or None; ``-`` when no value."""
    value: Any = entry.sumr if direction is None else entry.metrics[direction].get(metric)
    ci = entry.interval(direction, metric)
    if ci is None or value is None:
        return format_cell(value, DIGITS), None
    return format_cell(value, DIGITS), f"[{format_cell(ci[0], DIGITS)}, {format_cell(ci[1], DIGITS)}]"


def row_parts(board: Leaderboard, entry: Entry) -> list[tuple[str, str | None]]:
    """Each cell of ``entry``'s row as (text, interval or None)."""
    fixed = {
        "rank": format_cell(entry.rank),
        "method": entry.method,
        "kind": KIND_LABELS[entry.kind],
        "flags": "; ".join(entry.flags),
        "reference": entry.reference_model or "-",
        "reproduced": (format_cell(entry.reproduced.sumr, DIGITS) if entry.reproduced else "-"),
    }
    return [
        value_parts(entry, c.direction, c.metric) if c.metric is not None else (fixed[c.key], None)
        for c in columns(board)
    ]


def table_content(board: Leaderboard) -> tuple[list[str], list[list[str]], list[Align]]:
    """Header, rows of cell text (``value [lo, hi]``), alignment: the table every format shows."""
    cols = columns(board)
    rows = [
        [text if ci is None else f"{text} {ci}" for text, ci in row_parts(board, e)]
        for e in board.entries
    ]
    return [c.header for c in cols], rows, [c.align for c in cols]


def legend_lines(board: Leaderboard) -> list[str]:
    """Plain-text notes that accompany the table in every human format."""
    spec = board.spec
    dirs = ", ".join(f"{d.arrow} = {d.query} to {d.gallery}" for d in spec.directions)
    lines = [
        f"{spec.title}, {board.split} split, {spec.test_size} queries per direction ({dirs}); "
        f"sorted by {SUMR} ({' + '.join(RECALLS)} of both directions).",
        f"{arrow(SUMR)} higher is better, {arrow(MEDIAN_RANK)} lower is better. R@K in %, "
        f"MdR/MnR in ranks (1 = first). User entries are verified against their per-query ranks "
        f"and ranked under ties={board.ties}.",
        f"Published rows: {board.published.source} ({board.published.paper}). "
        f"{board.published.note}",
        f"Reference model: the registered model that reruns the row (var-bench train --model NAME, "
        f"then var-bench evaluate); Reproduced {SUMR}: the newest user entry made with it on real "
        f"features.",
    ]
    levels = {e.ci.get("level") for e in board.user_entries if e.ci and e.ci.get("level")}
    if any(e.ci for e in board.user_entries):
        level = f"{100 * float(levels.pop()):g}% " if len(levels) == 1 else ""
        lines.append(f"[lo, hi]: the record's {level}confidence interval.")
    return lines


def provenance_rows(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """Per user entry: file, tie rule as submitted, versions, date, id-list hash (abbreviated)."""
    header = ["Method", "File", "Ties (submitted)", "var_bench", "Benchmark", "Date", "ids sha256"]
    rows = []
    for e in board.user_entries:
        rows.append([
            e.method,
            e.source,
            e.submitted_ties or "-",
            str(e.versions.get("var_bench", "-")),
            str(e.versions.get("benchmark", "-")),
            e.date or "-",
            (e.ids_sha256 or "-")[:12],
        ])
    return header, rows


def by_class_tables(board: Leaderboard) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Per user entry with a breakdown (``var-bench score --by-class``): (title, header, rows).

    One row per class, then anomalous and normal videos: query count, per direction R@1, R@5,
    R@10 and MdR, and SumR, all over the queries whose video is in the group.
    """
    shown = (*RECALLS, MEDIAN_RANK)
    tables = []
    for e in board.user_entries:
        if not e.by_class:
            continue
        dirs = list(e.metrics)
        arrows = {d.name: d.arrow for d in board.spec.directions}
        header = ["Group", "n", *(f"{arrows[d]} {m} {arrow(m)}" for d in dirs for m in shown),
                  f"{SUMR} {arrow(SUMR)}"]
        groups = [*e.by_class.get(CLASSES, {}).items(), (ANOMALOUS, e.by_class.get(ANOMALOUS)),
                  (NORMAL, e.by_class.get(NORMAL))]
        rows = [[label, g["n"], *(g["metrics"][d][m] for d in dirs for m in shown), g[SUMR]]
                for label, g in groups if g]
        tables.append((f"{e.method}: by class", header, rows))
    return tables


def detail_lines(board: Leaderboard) -> list[str]:
    """Per user entry: every warning in full and every disclosure field with its answer."""
    lines = []
    for e in board.user_entries:
        disclosed = "; ".join(
            f"{k}: {v if v is not None else 'not stated'}" for k, v in e.disclosure.items()
        )
        lines.append(f"{e.method}: disclosure: {disclosed or 'none given'}")
        lines += [f"{e.method}: warning: {' '.join(str(w).split())}" for w in e.warnings]
    return lines
