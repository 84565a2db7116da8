"""What a report shows, computed for any task: metrics with intervals, the model's place on the
leaderboard, the distribution of per-query difficulty, a percentage metric per class, the hardest
queries and (optionally) where two models differ.

Everything is derived from the per-query counts of the record (recomputed through the
leaderboard's verification) through the task (:meth:`~var_bench.tasks.base.Task.difficulty`,
:meth:`~var_bench.tasks.base.Task.values`, :meth:`~var_bench.tasks.base.Task.curve`) and, for a
submission, from its scores (:meth:`~var_bench.tasks.base.Task.query_scores`): the top-5 retrieved
items of a query need the scores, a record alone has only the true item's rank. Captions and
classes come from the built test table when one is at hand (never downloaded here).

Retrieval: difficulty = rank of a query's true item (expected ties) = b + 1 + e / 2; R@K credit =
clip((K - b) / (e + 1), 0, 1). Group intervals are Wilson intervals on the group's count of
queries.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.leaderboard.board import Leaderboard, build_leaderboard
from var_bench.leaderboard.entries import Entry, one_line
from var_bench.leaderboard.verify import IdsHash, leaderboard_gold
from var_bench.scoring.record import ResultRecord
from var_bench.scoring.slices import slice_figures
from var_bench.scoring.stats import bootstrap
from var_bench.scoring.stats.binomial import percent_interval
from var_bench.scoring.stats.compare import Comparison, paired_compare
from var_bench.tasks import Gold, Task

#: Hardest queries listed per group, retrieved items shown per query, rows around the model.
HARDEST = 10
TOP = 5
NEIGHBOURS = 2
DIFFER = 10
#: Bootstrap replicates for the metric intervals (the leaderboard's cap).
REPLICATES = 2_000


@dataclass(frozen=True)
class Item:
    """A test item: its id, class and caption (None when the test table is not at hand)."""

    id: str
    cls: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class HardQuery:
    """One query of ``direction``: its index, what it is (caption or id), its true item (the
    first positive), its difficulty (retrieval: the true item's rank), how many items tie with it,
    whether its caption is shared by another query, and the top retrieved items (empty without
    the scores)."""

    direction: str
    index: int
    query: Item
    truth: Item
    rank: float
    tied: int
    duplicate_caption: bool
    top: tuple[tuple[Item, bool], ...] = ()
    #: Parallel to ``top``: whether a wrong item is a clip of the query video's own source (film,
    #: upload; :mod:`var_bench.data.integrity`); empty when sources are not known.
    same_source: tuple[bool, ...] = ()
    #: What the task says of the query's answer (moments: gold vs top segment on a timeline).
    detail: str = ""


@dataclass(frozen=True)
class Group:
    """The breakdown metric (retrieval: R@10) of the queries whose video is in one group, with a
    Wilson interval, per direction."""

    label: str
    n: int
    recall: Mapping[str, float]
    interval: Mapping[str, tuple[float, float]]


@dataclass
class Report:
    """Everything a report page shows (see the module docstring)."""

    spec: BenchmarkSpec
    task: Task
    name: str
    source: str
    record: ResultRecord
    entry: Entry
    board: Leaderboard
    nearest: list[Entry]
    ranks: dict[str, np.ndarray]
    curves: dict[str, tuple[np.ndarray, np.ndarray] | None]
    groups: list[Group]
    hardest: list[HardQuery]
    has_matrix: bool
    has_table: bool
    other: Report | None = None
    comparison: Comparison | None = None
    differ: list[tuple[str, int, float, float, Item]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The test gold the record was verified against.
    gold: Gold | None = None
    #: ``(slice name, figures)`` of the record's slices, recomputed under the official rule with
    #: intervals (:func:`var_bench.scoring.slices.slice_figures`).
    slices: list[tuple[str, dict]] = field(default_factory=list)


def load_input(
    path_or_array: Any, spec: BenchmarkSpec, task: Task, gold: Gold, *, home=None
) -> tuple[ResultRecord, dict[str, np.ndarray] | None, str, dict[str, list[str]] | None]:
    """(record, per-group scores or None, label, per-group query details or None) for a record
    JSON or a submission."""
    from var_bench.scoring.score import _is_record_file, score

    if (
        isinstance(path_or_array, (str, os.PathLike))
        and str(path_or_array).lower().endswith(".json")
        and _is_record_file(Path(path_or_array))
    ):
        record = ResultRecord.load(path_or_array)
        if record.benchmark != spec.name:
            raise InputError(
                f"{path_or_array}: expected a record of {spec.name}, got one of "
                f"{record.benchmark!r}"
            )
        return record, None, Path(path_or_array).name, None
    record = score(path_or_array, spec, task=task.name, home=home)
    with task.read(path_or_array, gold, benchmark=spec.name) as sub:
        matrices = task.query_scores(sub)
        describe = getattr(task, "query_details", None)  # an optional task hook
        details = describe(sub, gold) if describe is not None else None
    label = (
        Path(path_or_array).name if isinstance(path_or_array, (str, os.PathLike)) else "submission"
    )
    return record, matrices, label, details


def _items(spec: BenchmarkSpec, table: Any) -> list[Item] | None:
    if table is None:
        return None
    key = "query_id" if "query_id" in table else "video_id"
    ids = [str(v) for v in table[key]]
    classes = [str(v) for v in table["class"]] if "class" in table else [None] * len(ids)
    text = spec.text_column if spec.text_column and spec.text_column in table else None
    captions = [one_line(v) for v in table[text]] if text else [None] * len(ids)
    return [Item(i, c, t) for i, c, t in zip(ids, classes, captions)]


@dataclass(frozen=True)
class _Sides:
    """The items of a report: per gold query and per gallery item (None where no table is at
    hand), and per query its positives."""

    queries: list[Item] | None
    gallery: list[Item] | None
    positives: list[np.ndarray]

    def for_group(
        self, task: Task, group: str
    ) -> tuple[list[Item] | None, list[Item] | None, list[np.ndarray]]:
        """(query items, candidate items, positives per query) of one group."""
        if task.query_side(group):
            return self.queries, self.gallery, self.positives
        owners: list[list[int]] = [
            [] for _ in range(len(self.gallery or []) or (max(map(max, self.positives)) + 1))
        ]
        for i, pos in enumerate(self.positives):
            for j in pos:
                owners[int(j)].append(i)
        return self.gallery, self.queries, [np.asarray(o) for o in owners]


def _sides(gold: Gold, items: list[Item] | None, videos: list[Item] | None = None) -> _Sides:
    """The report's items: for an identity gold one table (row i is query i, its caption, and
    gallery item i, a video: no caption); else the query table's rows and the video table's."""
    if gold.is_identity:
        videos = None if items is None else [Item(it.id, it.cls) for it in items]
        return _Sides(items, videos, [np.array([i]) for i in range(gold.queries.n)])
    queries = items if items is not None and len(items) == gold.queries.n else None
    gallery = videos if videos is not None and len(videos) == gold.gallery.n else None
    return _Sides(queries, gallery, gold.positive_lists())


def _groups(
    task: Task, per_query: Mapping[str, Any], items: list[Item] | None, spec: BenchmarkSpec
) -> list[Group]:
    metric = task.breakdown_metric()
    if items is None or metric is None or not task.paired:
        return []
    labels = np.array([it.cls for it in items])
    anomalous = labels != spec.normal_class
    sets = [
        (c, labels == c) for c in spec.classes if c != spec.normal_class and np.any(labels == c)
    ]
    sets += [("anomalous", anomalous), ("normal", ~anomalous)]
    rule = task.official_rule
    out = []
    for label, where in sets:
        n = int(where.sum())
        if n == 0:
            continue
        recall, interval = {}, {}
        for d, q in per_query.items():
            credit = task.values(q, rule)[metric][where] / 100.0
            r = 100.0 * float(credit.mean())
            recall[d] = r
            interval[d] = percent_interval(r, n)
        out.append(Group(label, n, recall, interval))
    return out


def _sources(spec: BenchmarkSpec, home) -> dict[str, str] | None:
    """video id -> source of the built test split, when its names carry sources."""
    from var_bench.data.prepare import load_integrity
    from var_bench.errors import DataError, NotBuiltError

    try:
        facts = load_integrity(spec, home=home, download_missing=False)
    except (NotBuiltError, DataError):
        return None
    if facts.clips is None:
        return None
    return {c.video_id: c.source for c in facts.clips["test"]}


def _hardest(
    task: Task,
    per_query,
    matrices,
    sides: _Sides,
    sources: dict[str, str] | None = None,
    details=None,
) -> list[HardQuery]:
    out = []
    rule = task.official_rule
    for d in task.groups:
        if d not in per_query:
            continue
        q = per_query[d]
        r = task.difficulty(q, rule)
        queries, candidates, positives = sides.for_group(task, d)
        queries = queries or [Item(str(i)) for i in range(len(r))]
        candidates = candidates or [
            Item(str(j)) for j in range(max(len(r), 1 + max(int(p.max()) for p in positives)))
        ]
        captions = [it.caption for it in queries]
        counts: dict[str | None, int] = {}
        for c in captions:
            counts[c] = counts.get(c, 0) + 1
        tied = np.asarray(q["tied"] if "tied" in q else np.zeros(len(r), int))
        order = np.argsort(-r, kind="stable")[:HARDEST]
        for i in order:
            i = int(i)
            query = queries[i]
            pos = set(int(j) for j in positives[i])
            truth = candidates[min(pos)]
            top: tuple = ()
            if matrices is not None and d in matrices:
                best = np.argsort(-matrices[d][i], kind="stable")[:TOP]
                top = tuple((candidates[int(j)], int(j) in pos) for j in best)
            dup = query.caption is not None and counts.get(query.caption, 0) > 1
            same: tuple[bool, ...] = ()
            if sources and truth.id in sources:
                own = sources[truth.id]
                same = tuple(not hit and sources.get(it.id) == own for it, hit in top)
            detail = details[d][i] if details and d in details else ""
            out.append(
                HardQuery(d, i, query, truth, float(r[i]), int(tied[i]), dup, top, same, detail)
            )
    return out


def build_report(
    submission: Any,
    benchmark: str | BenchmarkSpec,
    *,
    task: str | None = None,
    compare: Any = None,
    metadata: Any = None,
    home: str | os.PathLike | None = None,
    ids_hash: IdsHash | None = None,
    results_dir: str | os.PathLike | None = None,
) -> Report:
    """The report of ``submission`` (a record ``.json``, a submission file or an array) on a task
    of ``benchmark`` (``task``; default its first, or the record's).

    Args:
        compare: a second submission or record (a paired comparison, the queries that differ).
        metadata: the test table (else the built one, if any).
        home: the data home (the built table, a table gold).
        ids_hash: replaces the shipped id-list checksum (tests).
        results_dir: records to place it among on the leaderboard.
    """
    from var_bench.leaderboard.metadata import local_class_tables, local_test_table

    spec = get_benchmark(benchmark)
    classes = metadata
    if metadata is None:
        metadata = local_test_table(spec.name, home)
        classes = local_class_tables(spec.name, task, home)
    videos = None
    if not spec.task(task).paired:
        videos = _items(spec, local_test_table(spec.name, home, videos=True))
    items = _items(spec, metadata)
    report = _one(submission, spec, task, (items, videos), classes, home, ids_hash, results_dir)
    t = report.task
    if compare is not None:
        other = _one(compare, spec, t.name, (items, videos), classes, home, ids_hash, results_dir)
        report.other = other
        report.comparison = paired_compare(
            t, report.record.per_query, other.record.per_query, replicates=REPLICATES
        )
        rows = []
        sides = _sides(report.gold, items, videos)
        for d in t.groups:
            if d not in report.ranks or d not in other.ranks:
                continue
            queries = sides.for_group(t, d)[0]
            gap = report.ranks[d] - other.ranks[d]
            for i in np.argsort(-np.abs(gap), kind="stable")[:DIFFER]:
                i = int(i)
                it = queries[i] if queries else Item(str(i))
                rows.append((d, i, float(report.ranks[d][i]), float(other.ranks[d][i]), it))
        report.differ = rows
    return report


def _one(submission, spec, task_name, tables, metadata, home, ids_hash, results_dir) -> Report:
    from var_bench.scoring.score import _is_record_file

    items, videos = tables
    if (
        isinstance(submission, (str, os.PathLike))
        and str(submission).lower().endswith(".json")
        and task_name is None
        and _is_record_file(Path(submission))
    ):
        task_name = ResultRecord.load(submission).task
    task = spec.task(task_name)
    gold = leaderboard_gold(spec, task, ids_hash, home)
    record, matrices, label, details = load_input(submission, spec, task, gold, home=home)
    name = one_line(record.name or label)
    board = build_leaderboard(
        spec,
        results_dir,
        records=[(label, record)],
        ids_hash=ids_hash,
        task=task.name,
        metadata=metadata,
        home=home,
    )
    index = next(i for i, e in enumerate(board.entries) if not e.is_published and e.source == label)
    entry = board.entries[index]
    rule = task.official_rule
    if entry.ci is None:
        # The report always shows intervals, even for a record scored without --ci.
        entry_ci = bootstrap.bootstrap_ci(task, record.per_query, rule, replicates=REPLICATES)
        entry = dataclasses.replace(entry, ci=entry_ci)
    lo, hi = max(0, index - NEIGHBOURS), index + NEIGHBOURS + 1
    per_query = record.per_query
    notes = []
    if matrices is None:
        notes.append(
            "a result record holds no scores: the hardest queries show the true item's "
            "rank but not what was retrieved instead (report the submission file for that)"
        )
    if items is None:
        notes.append(
            f"no built {spec.name} test table here: captions and classes are not shown "
            f"(run 'var-bench download {spec.name}')"
        )
    report = Report(
        spec=spec,
        task=task,
        name=name,
        source=label,
        record=record,
        entry=entry,
        board=board,
        nearest=list(board.entries[lo:hi]),
        ranks={d: task.difficulty(q, rule) for d, q in per_query.items()},
        curves={d: task.curve(q, rule) for d, q in per_query.items()},
        groups=_groups(task, per_query, items, spec),
        hardest=_hardest(
            task, per_query, matrices, _sides(gold, items, videos), _sources(spec, home), details
        ),
        has_matrix=matrices is not None,
        has_table=items is not None,
        notes=notes,
        gold=gold,
        slices=[
            (
                name,
                slice_figures(
                    task,
                    per_query,
                    np.asarray(sl["index"], dtype=np.int64),
                    rule,
                    ci=True,
                    replicates=REPLICATES,
                ),
            )
            for name, sl in (record.slices or {}).items()
        ],
    )
    return report
