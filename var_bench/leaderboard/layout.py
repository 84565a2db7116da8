"""The leaderboard table's columns and cell text, shared by the Markdown and HTML renderers.

Columns: rank, tier, method, source (``paper`` or ``verified`` record), then for each group of the
task its metrics (retrieval: per direction R@1 R@5 R@10 MdR MnR), then the summaries (SumR), the
provenance columns (feature set, training data), the runnable reference model (``var-bench train
--model NAME``), the main score of a user entry that claims to rerun it (declared), and flags.
Headers carry the group (e.g. ``T->V``) and an arrow for the better direction. Values have one
decimal, like the paper; an interval recomputed from the per-query ranks follows in brackets.

Every string that comes from a record is reduced to one line here (:func:`entries.one_line`);
columns with ``user_text`` (and every provenance and detail line) hold such strings, which each
renderer escapes for its format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.entries import (
    DECLARED_ROW,
    DIGEST_SHOWN,
    PUBLISHED,
    USER,
    Entry,
    one_line,
)
from var_bench.leaderboard.tiers import LEVEL, PAIRED, REPLICATES, WILSON, method_text
from var_bench.scoring.slices import SOURCE_UNSEEN
from var_bench.scoring.stats.breakdown import ANOMALOUS, CLASSES, NORMAL
from var_bench.tables import Align, format_cell
from var_bench.tasks import MEDIAN

DIGITS = 1
#: How the Source column marks published rows and (verified) user entries.
KIND_LABELS: Mapping[str, str] = {
    PUBLISHED: "paper",
    USER: "verified",
    DECLARED_ROW: "declared (unverified)",
}
DECLARED = "declared"


@dataclass(frozen=True)
class Column:
    """A column: what it shows (``key``), header text, alignment; metric columns name theirs.
    ``user_text``: its cells hold strings taken from records (escaped by each renderer)."""

    key: str
    header: str
    align: Align
    direction: str | None = None
    metric: str | None = None
    user_text: bool = False


def columns(board: Leaderboard) -> tuple[Column, ...]:
    task = board.task
    cols = [
        Column("rank", "#", "right"),
        Column("tier", "Tier", "right"),
        Column("method", "Method", "left", user_text=True),
        Column("kind", "Source", "left"),
    ]
    for g in task.groups:
        cols += [
            Column(
                "value", f"{task.group_label(g)} {m.name} {task.arrow(m.name)}", "right", g, m.name
            )
            for m in task.metrics
        ]
    cols += [
        Column("value", f"{s.name} {task.arrow(s.name)}", "right", None, s.name)
        for s in task.summaries
    ]
    if any(e.slices and SOURCE_UNSEEN in e.slices for e in board.entries):
        main = task.main_score
        cols.append(Column("unseen", f"Unseen-source {main} {task.arrow(main)}", "right"))
    cols += [
        Column("features", "Features", "left", user_text=True),
        Column("training", "Training data", "left", user_text=True),
        Column("reference", "Reference model", "left", user_text=True),
        Column("reproduced", f"Claimed rerun {task.main_score}", "right"),
        Column("flags", "Flags", "left", user_text=True),
    ]
    return tuple(cols)


def value_parts(entry: Entry, direction: str | None, metric: str) -> tuple[str, str | None]:
    """(value, interval): one decimal each, ``[lo, hi]`` or None; ``-`` when no value."""
    value: Any = entry.value(direction, metric)
    ci = entry.interval(direction, metric)
    if ci is None or value is None:
        return format_cell(value, DIGITS), None
    return format_cell(
        value, DIGITS
    ), f"[{format_cell(ci[0], DIGITS)}, {format_cell(ci[1], DIGITS)}]"


def features_text(entry: Entry) -> str:
    """The feature set with its digest prefix when the record has one (:attr:`Entry.track`),
    ``(declared)`` when only the submitter's word backs the name."""
    if not entry.feature_set and not entry.features_digest:
        return "-" if entry.is_published else "not stated"
    suffix = f" ({DECLARED})" if entry.feature_set and entry.feature_origin == DECLARED else ""
    return f"{entry.track}{suffix}"


def digest_lines(board: Leaderboard) -> list[str]:
    """One note per feature-set name whose rows were computed on more than one feature store
    (different digests: other extractions or builds, not directly comparable)."""
    by_name: dict[str, set[str]] = {}
    for e in board.entries:
        if e.features_digest:
            by_name.setdefault(e.feature_set or "not stated", set()).add(e.features_digest)
    return [
        f"Features {name}: rows on {len(ds)} different feature stores (digests "
        f"{', '.join('#' + d[:DIGEST_SHOWN] for d in sorted(ds))}); --track '{name} "
        f"#<digest>' keeps one."
        for name, ds in sorted(by_name.items())
        if len(ds) > 1
    ]


def training_text(entry: Entry) -> str:
    if entry.is_published:
        return "-"
    return f"{entry.training_data} ({DECLARED})" if entry.training_data else "not stated"


def row_parts(board: Leaderboard, entry: Entry) -> list[tuple[str, str | None]]:
    """Each cell of ``entry``'s row as (text, interval or None)."""
    fixed = {
        "rank": format_cell(entry.rank),
        "tier": format_cell(entry.tier),
        "method": one_line(entry.method),
        "kind": KIND_LABELS[entry.kind],
        "features": features_text(entry),
        "training": training_text(entry),
        "flags": "; ".join(one_line(f) for f in entry.flags),
        "reference": one_line(entry.reference_model) or "-",
        "unseen": format_cell((entry.slices or {}).get(SOURCE_UNSEEN), DIGITS),
        "reproduced": (
            f"{format_cell(entry.reproduced.score, DIGITS)} ({DECLARED})"
            if entry.reproduced
            else "-"
        ),
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
    spec, task = board.spec, board.task
    noun = task.group_noun
    groups = ", ".join(task.group_description(g) for g in task.groups)
    sizes = set(board.sizes.values())
    counted = (
        f"{sizes.pop()} queries per {noun}"
        if len(sizes) == 1
        else ", ".join(f"{n} {g} queries" for g, n in board.sizes.items())
    )
    main = task.main_score
    terms = next((s.terms for s in task.summaries if s.name == main), ())
    every = {1: f"the {noun}", 2: f"both {noun}s"}.get(len(task.groups), f"every {noun}")
    order = (
        f"sorted by tier, then {main}"
        if board.order == "tier"
        else f"sorted by {main}" + (f" ({' + '.join(terms)} of {every})" if terms else "")
    )
    arrows = sorted(
        {(task.arrow(m.name), m.higher_is_better) for m in task.metrics}, key=lambda x: not x[1]
    )
    better = ", ".join(f"{a} {'higher' if hi else 'lower'} is better" for a, hi in arrows)
    units = f" {task.units_note}." if task.units_note else ""
    pq = task.per_query_noun
    lines = [
        f"{spec.title}, {board.split} split, {counted} ({groups}); "
        f"{order}." + (f" Track: features {board.track}." if board.track else ""),
        f"{better}.{units} Verified entries: metrics recomputed from their {pq} and ranked "
        f"under ties={board.ties}; the {pq.removeprefix('per-query ')} themselves are the "
        f"submitter's.",
        f"Tier: 1 + the number of rows significantly better at {100 * LEVEL:g}% (rows nobody "
        f"beats share tier 1). Two verified entries: {method_text(task, PAIRED, len(task.groups))}"
        f" ({REPLICATES} replicates, over every such pair). A paper row (aggregates only): "
        f"{method_text(task, WILSON, len(task.groups))}, better where the intervals do not "
        f"overlap.",
        f"Published rows: {board.published.source} ({board.published.paper}). "
        f"{board.published.note}"
        + (f" Paper features: {board.published.features}." if board.published.features else ""),
        f"Features, Training data: from the record's feature identity, or ({DECLARED}) as the "
        f"submitter states them; #xxxxxxxx: the first {DIGEST_SHOWN} hex of the record's "
        f"features digest (var-bench fingerprint of the store it was computed on). Reference "
        f"model: the registered model that reruns the row (var-bench train --model NAME, then "
        f"var-bench evaluate); Claimed rerun {main}: the newest entry that declares it reran "
        f"that model on real features (a claim, not a reproduction).",
    ]
    for o in board.published.overlaps:
        lines.append(f"Leakage: {o.note}; entries declaring {o.dataset} training data are flagged.")
    if any(e.ci for e in board.user_entries):
        levels = {e.ci.get("level") for e in board.user_entries if e.ci and e.ci.get("level")}
        level = f"{100 * float(levels.pop()):g}% " if len(levels) == 1 else ""
        lines.append(
            f"[lo, hi]: {level}bootstrap interval recomputed from the {board.task.per_query_noun}."
        )
    lines += digest_lines(board)
    if board.dropped:
        lines.append(
            "Duplicates dropped (same submission sha256): "
            + ", ".join(f"{one_line(d)} (kept {one_line(k)})" for d, k in board.dropped)
            + "."
        )
    return lines


def tier_lines(board: Leaderboard) -> list[str]:
    """The comparisons that separated two rows, each with its method (the rest tie)."""
    counts = {PAIRED: 0, WILSON: 0}
    lines = []
    for t in board.tests:
        counts[t.method] += 1
        if t.better is None:
            continue
        hi, lo = (t.a, t.b) if t.better == "a" else (t.b, t.a)
        p = f", Holm p = {t.p_adjusted:.4f}" if t.p_adjusted is not None else ""
        lines.append(
            f"{one_line(board.entries[hi].method)} above "
            f"{one_line(board.entries[lo].method)}: "
            f"{'paired test' if t.method == PAIRED else 'Wilson intervals'}{p}"
        )
    head = (
        f"{len(board.tests)} pairs compared ({counts[PAIRED]} by the paired test, "
        f"{counts[WILSON]} by Wilson intervals); {len(lines)} told apart" + (":" if lines else ".")
    )
    return [head, *lines]


def tier_table(board: Leaderboard) -> tuple[str, list[str], list[list[str]]]:
    """The tier comparisons as a compact table: (the head line of :func:`tier_lines`, header,
    one row per row that is significantly above others: the rows it is above, grouped by the
    test that told them apart, in the order of the comparisons)."""
    above: dict[int, dict[str, list[str]]] = {}
    for t in board.tests:
        if t.better is None:
            continue
        hi, lo = (t.a, t.b) if t.better == "a" else (t.b, t.a)
        how = "paired test" if t.method == PAIRED else "Wilson intervals"
        name = one_line(board.entries[lo].method)
        if t.p_adjusted is not None:
            name += f" (Holm p = {t.p_adjusted:.4f})"
        above.setdefault(hi, {}).setdefault(how, []).append(name)
    rows = [
        [
            one_line(board.entries[hi].method),
            "; ".join(f"{how}: {', '.join(names)}" for how, names in by.items()),
        ]
        for hi, by in above.items()
    ]
    return tier_lines(board)[0], ["Row", "Significantly above (by)"], rows


def provenance_rows(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """Per user entry: file, tie rule as submitted, versions, date, id-list and submission
    hashes."""
    header = [
        "Method",
        "File",
        "Ties (submitted)",
        "var_bench",
        "Benchmark",
        "Date",
        "ids sha256",
        "Submission sha256",
    ]
    rows = []
    for e in board.user_entries:
        rows.append(
            [
                one_line(e.method),
                one_line(e.source),
                one_line(e.submitted_ties) or "-",
                one_line(e.versions.get("var_bench", "-")),
                one_line(e.versions.get("benchmark", "-")),
                one_line(e.date) or "-",
                one_line(e.ids_sha256 or "-")[:12],
                one_line(e.submission_sha256 or "-")[:12],
            ]
        )
    return header, rows


def by_class_tables(board: Leaderboard) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Per user entry with a (recomputed) breakdown: (title, header, rows).

    One row per class, then anomalous and normal videos: query count, per group the percentage and
    median metrics (retrieval: R@1, R@5, R@10 and MdR), and the summaries, all over the queries
    whose video is in the group.
    """
    task = board.task
    shown = [m.name for m in task.metrics if m.is_percentage or m.aggregation == MEDIAN]
    tables = []
    for e in board.user_entries:
        if not e.by_class:
            continue
        dirs = list(e.metrics)
        header = [
            "Group",
            "n",
            *(f"{task.group_label(d)} {m} {task.arrow(m)}" for d in dirs for m in shown),
            *(f"{s.name} {task.arrow(s.name)}" for s in task.summaries),
        ]
        groups = [
            *e.by_class.get(CLASSES, {}).items(),
            (ANOMALOUS, e.by_class.get(ANOMALOUS)),
            (NORMAL, e.by_class.get(NORMAL)),
        ]
        rows = [
            [
                label,
                g["n"],
                *(g["metrics"][d][m] for d in dirs for m in shown),
                *(g["summary"][s.name] for s in task.summaries),
            ]
            for label, g in groups
            if g
        ]
        tables.append((f"{one_line(e.method)}: by class", header, rows))
    return tables


def detail_lines(board: Leaderboard) -> list[str]:
    """Per user entry: its disclosure (declared), its scorer warnings as the record states them,
    the warnings recomputed from its counts and what verification recomputed or dropped."""
    lines = []
    for e in board.user_entries:
        name = one_line(e.method)
        disclosed = "; ".join(
            f"{one_line(k)}: {one_line(v) if v is not None else 'not stated'}"
            for k, v in e.disclosure.items()
        )
        lines.append(f"{name}: disclosure ({DECLARED}): {disclosed or 'none given'}")
        lines += [f"{name}: warning (from the record): {one_line(w)}" for w in e.warnings]
        lines += [f"{name}: check (recomputed): {one_line(c)}" for c in e.checks]
        lines += [f"{name}: verification: {one_line(n)}" for n in e.notes]
        if e.duplicates:
            lines.append(
                f"{name}: also submitted as {', '.join(one_line(d) for d in e.duplicates)}"
            )
    return lines
