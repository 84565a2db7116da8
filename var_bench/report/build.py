"""What a report shows, computed: metrics with intervals, the model's place on the leaderboard,
rank distributions per group, the hardest queries and (optionally) where two models differ.

Everything is derived from the per-query counts (b, e) of the record (recomputed through the
leaderboard's verification) and, for a submission, from its score matrix: the top-5 retrieved
items of a query need the scores, a record alone has only the true item's rank. Captions and
classes come from the built test table when one is at hand (never downloaded here).

Rank of a query's true item (expected ties) = b + 1 + e / 2; R@K credit = clip((K - b) /
(e + 1), 0, 1). Group intervals are Wilson intervals on the group's count of queries.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.leaderboard.board import Leaderboard, build_leaderboard
from var_bench.leaderboard.entries import Entry, one_line
from var_bench.leaderboard.verify import IdsHash
from var_bench.scoring.stats import bootstrap
from var_bench.tasks.retrieval import ranks
from var_bench.scoring.stats.binomial import percent_interval
from var_bench.scoring.stats.compare import Comparison, paired_compare
from var_bench.tasks.retrieval.names import DEFAULT_TIES
from var_bench.scoring.record import ResultRecord

#: Hardest queries listed per direction, retrieved items shown per query, rows around the model.
HARDEST = 10
TOP = 5
NEIGHBOURS = 2
DIFFER = 10
#: Recall used for the per-group bars.
GROUP_K = 10
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
    """One query of ``direction``: its index, what it is (caption or id), the true item's rank,
    how many items tie with it, whether its caption is shared by another query, and the top
    retrieved items (empty without the score matrix)."""

    direction: str
    index: int
    query: Item
    truth: Item
    rank: float
    tied: int
    duplicate_caption: bool
    top: tuple[tuple[Item, bool], ...] = ()


@dataclass(frozen=True)
class Group:
    """R@K of the queries whose video is in one group, with a Wilson interval, per direction."""

    label: str
    n: int
    recall: Mapping[str, float]
    interval: Mapping[str, tuple[float, float]]


@dataclass
class Report:
    """Everything a report page shows (see the module docstring)."""

    spec: BenchmarkSpec
    name: str
    source: str
    record: ResultRecord
    entry: Entry
    board: Leaderboard
    nearest: list[Entry]
    ranks: dict[str, np.ndarray]
    curves: dict[str, np.ndarray]
    groups: list[Group]
    hardest: list[HardQuery]
    has_matrix: bool
    has_table: bool
    other: "Report | None" = None
    comparison: Comparison | None = None
    differ: list[tuple[str, int, float, float, Item]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _direction_matrices(sub) -> dict[str, np.ndarray]:
    """(queries x gallery) scores per direction of an open submission."""
    out = {}
    if sub.joint is not None:
        m = np.asarray(sub.joint.read_rows(0, sub.joint.shape[0]), dtype=np.float64)
        s = m.T if sub.joint.transposed else m
        for d in sub.spec.directions:
            if d.name in sub.directions:
                out[d.name] = s if d.over_rows else s.T
    for name, src in sub.by_direction.items():
        m = np.asarray(src.read_rows(0, src.shape[0]), dtype=np.float64)
        out[name] = m.T if src.transposed else m
    return out


def load_input(path_or_array: Any, spec: BenchmarkSpec, *, home=None
               ) -> tuple[ResultRecord, dict[str, np.ndarray] | None, str]:
    """(record, per-direction matrices or None, label) for a record JSON or a submission."""
    from var_bench.scoring.score import score
    from var_bench.tasks.retrieval.submission import read_submission

    if isinstance(path_or_array, (str, os.PathLike)) and str(path_or_array).lower().endswith(".json"):
        record = ResultRecord.load(path_or_array)
        if record.benchmark != spec.name:
            raise InputError(f"{path_or_array}: expected a record of {spec.name}, got one of "
                             f"{record.benchmark!r}")
        return record, None, Path(path_or_array).name
    record = score(path_or_array, spec, home=home)
    with read_submission(path_or_array, spec) as sub:
        matrices = _direction_matrices(sub)
    label = Path(path_or_array).name if isinstance(path_or_array, (str, os.PathLike)) else "submission"
    return record, matrices, label


def _items(spec: BenchmarkSpec, table: Any) -> list[Item] | None:
    if table is None:
        return None
    ids = [str(v) for v in table["video_id"]]
    classes = [str(v) for v in table["class"]] if "class" in table else [None] * len(ids)
    text = spec.text_column if spec.text_column and spec.text_column in table else None
    captions = [one_line(v) for v in table[text]] if text else [None] * len(ids)
    return [Item(i, c, t) for i, c, t in zip(ids, classes, captions)]


def _groups(per_query: Mapping[str, Any], items: list[Item] | None, spec: BenchmarkSpec) -> list[Group]:
    if items is None:
        return []
    labels = np.array([it.cls for it in items])
    anomalous = labels != spec.normal_class
    sets = [(c, labels == c) for c in spec.classes if c != spec.normal_class and np.any(labels == c)]
    sets += [("anomalous", anomalous), ("normal", ~anomalous)]
    out = []
    for label, where in sets:
        n = int(where.sum())
        if n == 0:
            continue
        recall, interval = {}, {}
        for d, q in per_query.items():
            credit = ranks.recall_credit(q, GROUP_K, DEFAULT_TIES)[where]
            r = 100.0 * float(credit.mean())
            recall[d] = r
            interval[d] = percent_interval(r, n)
        out.append(Group(label, n, recall, interval))
    return out


def _hardest(spec, per_query, matrices, items) -> list[HardQuery]:
    n = spec.test_size
    items = items or [Item(str(i)) for i in range(n)]
    captions = [it.caption for it in items]
    counts: dict[str | None, int] = {}
    for c in captions:
        counts[c] = counts.get(c, 0) + 1
    out = []
    for d in spec.directions:
        q = per_query[d.name]
        r = ranks.rank(q, DEFAULT_TIES)
        tied = np.asarray(q.tied)
        order = np.argsort(-r, kind="stable")[:HARDEST]
        for i in order:
            i = int(i)
            # Pair i: query i of a direction is item i of the query modality, its truth item i.
            query = items[i] if d.query == spec.query_modality else Item(items[i].id, items[i].cls)
            truth = items[i]
            top: tuple = ()
            if matrices is not None and d.name in matrices:
                row = matrices[d.name][i]
                best = np.argsort(-row, kind="stable")[:TOP]
                top = tuple((items[int(j)], int(j) == i) for j in best)
            dup = query.caption is not None and counts.get(query.caption, 0) > 1
            out.append(HardQuery(d.name, i, query, truth, float(r[i]), int(tied[i]), dup, top))
    return out


def build_report(
    submission: Any,
    benchmark: str | BenchmarkSpec,
    *,
    compare: Any = None,
    metadata: Any = None,
    home: str | os.PathLike | None = None,
    ids_hash: IdsHash | None = None,
    results_dir: str | os.PathLike | None = None,
) -> Report:
    """The report of ``submission`` (a record ``.json``, a submission file or an array) on
    ``benchmark``; ``compare``: a second one; ``metadata``: the test table (else the built one,
    if any); ``results_dir``: records to place it among on the leaderboard."""
    spec = get_benchmark(benchmark)
    if metadata is None:
        from var_bench.leaderboard.metadata import local_test_table

        metadata = local_test_table(spec.name, home)
    items = _items(spec, metadata)
    report = _one(submission, spec, items, metadata, home, ids_hash, results_dir)
    if compare is not None:
        other = _one(compare, spec, items, metadata, home, ids_hash, results_dir)
        report.other = other
        report.comparison = paired_compare(report.record.per_query, other.record.per_query,
                                           replicates=REPLICATES)
        rows = []
        for d in spec.direction_names:
            gap = report.ranks[d] - other.ranks[d]
            for i in np.argsort(-np.abs(gap), kind="stable")[:DIFFER]:
                i = int(i)
                it = items[i] if items else Item(str(i))
                rows.append((d, i, float(report.ranks[d][i]), float(other.ranks[d][i]), it))
        report.differ = rows
    return report


def _one(submission, spec, items, metadata, home, ids_hash, results_dir) -> Report:
    record, matrices, label = load_input(submission, spec, home=home)
    name = one_line(record.name or label)
    board = build_leaderboard(spec, results_dir, records=[(label, record)], ids_hash=ids_hash,
                              metadata=metadata)
    index = next(i for i, e in enumerate(board.entries) if not e.is_published and e.source == label)
    entry = board.entries[index]
    if entry.ci is None:
        # The report always shows intervals, even for a record scored without --ci.
        entry_ci = bootstrap.bootstrap_ci(record.per_query, DEFAULT_TIES, replicates=REPLICATES)
        entry = dataclasses.replace(entry, ci=entry_ci)
    lo, hi = max(0, index - NEIGHBOURS), index + NEIGHBOURS + 1
    per_query = record.per_query
    notes = []
    if matrices is None:
        notes.append("a result record holds no scores: the hardest queries show the true item's "
                     "rank but not what was retrieved instead (report the submission file for that)")
    if items is None:
        notes.append(f"no built {spec.name} test table here: captions and classes are not shown "
                     f"(run 'var-bench download {spec.name}')")
    return Report(
        spec=spec, name=name, source=label, record=record, entry=entry, board=board,
        nearest=list(board.entries[lo:hi]),
        ranks={d: ranks.rank(q, DEFAULT_TIES) for d, q in per_query.items()},
        curves={d: np.asarray(ranks.recall_curve(q, ties=DEFAULT_TIES)) for d, q in per_query.items()},
        groups=_groups(per_query, items, spec),
        hardest=_hardest(spec, per_query, matrices, items),
        has_matrix=matrices is not None, has_table=items is not None, notes=notes,
    )
