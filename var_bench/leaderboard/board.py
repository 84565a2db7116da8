"""The leaderboard: published rows and verified user records of one benchmark task, ranked by the
task's main score, grouped in tiers."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.leaderboard.adapters.eee import declared_entry
from var_bench.leaderboard.entries import (
    DIGEST_SHOWN,
    USER,
    Entry,
    published_entry,
    reproduces,
    user_entry,
)
from var_bench.leaderboard.published import PublishedTable, published_table
from var_bench.leaderboard.tiers import PairTest, assign_tiers, pair_tests
from var_bench.leaderboard.verify import (
    LEADERBOARD_SPLIT,
    IdsHash,
    leaderboard_gold,
    load_records,
    verify_record,
)
from var_bench.scoring.record import ResultRecord
from var_bench.tasks import Task

log = logging.getLogger(__name__)

#: Row orders ``--order`` knows: by the main score (competition ranks) or by tier, then score.
ORDERS: tuple[str, ...] = ("score", "tier")
#: Older spellings ``--order`` still takes.
ORDER_ALIASES = {"sumr": "score"}


@dataclass(frozen=True)
class Leaderboard:
    """Ranked entries of one benchmark task's test split, under the task's official rule.

    ``tests``: every pairwise tier comparison, as indices into ``entries``; ``track``: the
    feature set the board is restricted to (None: all); ``dropped``: ``(file, kept file)`` for
    records dropped as duplicates of the same submission.
    """

    spec: BenchmarkSpec
    task: Task
    published: PublishedTable
    entries: tuple[Entry, ...]
    #: Queries per group of the test split.
    sizes: Mapping[str, int] = field(default_factory=dict)
    split: str = LEADERBOARD_SPLIT
    tests: tuple[PairTest, ...] = ()
    order: str = "score"
    track: str | None = None
    tracks: tuple[str, ...] = ()
    dropped: tuple[tuple[str, str], ...] = ()

    @property
    def ties(self) -> str | None:
        """The rule every entry is ranked under (the task's official one)."""
        return self.task.official_rule

    @property
    def user_entries(self) -> tuple[Entry, ...]:
        """The verified rows of result records (not paper rows, not imported declared rows)."""
        return tuple(e for e in self.entries if e.kind == USER)


def rank_entries(entries: Sequence[Entry], higher_is_better: bool = True) -> tuple[Entry, ...]:
    """Sort by the main score, best first, and number them with competition ranking (1, 2, 2, 4).

    Equal scores keep the input order (published rows first, in the paper's order).
    """
    sign = -1.0 if higher_is_better else 1.0
    ordered = sorted(entries, key=lambda e: sign * e.score)
    ranked: list[Entry] = []
    for i, entry in enumerate(ordered):
        rank = ranked[-1].rank if ranked and ranked[-1].score == entry.score else i + 1
        ranked.append(dataclasses.replace(entry, rank=rank))
    return tuple(ranked)


def attach_reproductions(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """Attach to each published row the user entry that *claims* to rerun it on real features.

    A claim is a user entry whose disclosure names the row's reference model and real features
    (as ``var-bench evaluate`` writes them). It is declared, not verified: the published row keeps
    its published numbers and source. Several: the newest by date, then the highest score.
    """
    out = []
    for entry in entries:
        if entry.is_published and entry.reference_model:
            runs = [e for e in entries if reproduces(e, entry.reference_model)]
            if runs:
                best = max(runs, key=lambda e: (e.date or "", e.score))
                entry = dataclasses.replace(entry, reproduced=best)
        out.append(entry)
    return tuple(out)


def deduplicate(entries: Sequence[Entry]) -> tuple[list[Entry], list[tuple[str, str]]]:
    """One entry per submission: entries with the same ``submission_sha256`` collapse into the
    newest (by date; then the first given). Returns (kept, [(dropped file, kept file)])."""
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        if e.submission_sha256:
            groups.setdefault(e.submission_sha256, []).append(e)
    keep_of = {}
    for digest, group in groups.items():
        keep_of[digest] = max(enumerate(group), key=lambda ie: (ie[1].date or "", -ie[0]))[1]
    kept, dropped = [], []
    for e in entries:
        best = keep_of.get(e.submission_sha256) if e.submission_sha256 else None
        if best is None or best is e:
            if best is not None:
                dups = tuple(o.source for o in groups[e.submission_sha256] if o is not e)
                e = dataclasses.replace(e, duplicates=dups) if dups else e
            kept.append(e)
        else:
            dropped.append((e.source, best.source))
            log.info("%s: dropped, the same submission (sha256) as %s", e.source, best.source)
    return kept, dropped


def on_track(entry: Entry, track: str) -> bool:
    """Whether ``entry`` is on feature set ``track`` (case-insensitive): a name (``I3D
    RGB+Flow``: every row of that name, whatever its digest), a name with a digest prefix
    (``I3D RGB+Flow #54927e8d``) or a digest prefix alone (``#54927e8d`` or ``54927e8d``, at
    least :data:`DIGEST_SHOWN` hex characters): only rows computed on that feature store."""
    want = " ".join(track.split()).casefold()
    if "#" in want:
        name, prefix = (part.strip() for part in want.rsplit("#", 1))
    elif re.fullmatch(rf"[0-9a-f]{{{DIGEST_SHOWN},64}}", want):
        name, prefix = "", want
    else:
        name, prefix = want, ""
    if name and name != (entry.feature_set or "").casefold():
        return False
    if prefix:
        return len(prefix) >= DIGEST_SHOWN and (entry.features_digest or "").startswith(prefix)
    return bool(name)


def track_names(entries: Sequence[Entry]) -> tuple[str, ...]:
    """The feature sets on a board: each name, and each name with a digest that rows carry."""
    names = {e.feature_set for e in entries if e.feature_set}
    names |= {e.track for e in entries if e.features_digest}
    return tuple(sorted(names, key=str.casefold))


def declared_entries(results_dir: str | os.PathLike, spec: BenchmarkSpec) -> list[Entry]:
    """The imported Every Eval Ever records (``*.eee.json``, ``var-bench import``) in
    ``results_dir`` that hold results of ``spec``, as declared rows; sorted by file name."""
    from var_bench.leaderboard.adapters.eee import IMPORTED_SUFFIX, read_eee

    out = []
    for path in sorted(Path(results_dir).glob(f"*{IMPORTED_SUFFIX}")):
        names = {
            r.source_data.dataset_name.strip().lower() for r in read_eee(path).evaluation_results
        }
        if names & {spec.name, spec.title.lower()}:
            out.append(declared_entry(path, spec))
    return out


def build_leaderboard(
    benchmark: str | BenchmarkSpec,
    results_dir: str | os.PathLike | None = None,
    records: Sequence[tuple[str, ResultRecord]] = (),
    ids_hash: IdsHash | None = None,
    *,
    task: str | None = None,
    order: str = "score",
    track: str | None = None,
    metadata: Any = None,
    home: Any = None,
) -> Leaderboard:
    """The published table of a benchmark task merged with user records, verified, ranked, tiered.

    Args:
        benchmark: the benchmark (name or spec).
        results_dir: every ``*.json`` record in it is a candidate (:func:`verify.load_records`).
        records: more ``(label, record)`` pairs.
        ids_hash: replaces the shipped id-list checksum lookup (tests).
        task: the benchmark's task (default: the published table's, else its first).
        order: ``score`` (the main score) or ``tier`` (tier, then score).
        track: keep only rows on this feature set (:func:`on_track`: a name, or a features digest
            prefix for the rows of one feature store).
        metadata: the test table per-class breakdowns are recomputed from.
        home: where the built dataset is, for a task whose gold is a built table.

    Returns:
        The :class:`Leaderboard`. Each record must pass :func:`verify.verify_record`; records of
        one submission (same ``submission_sha256``) count once.

    Raises:
        InputError: a bad option, or a record that fails verification.
    """
    order = ORDER_ALIASES.get(order, order)
    if order not in ORDERS:
        raise InputError(f"--order: expected one of {', '.join(ORDERS)}, got {order!r}")
    spec = get_benchmark(benchmark)
    table = published_table(spec)
    t = spec.task(task if task is not None else table.task)
    gold = leaderboard_gold(spec, t, ids_hash, home)
    pairs = [(label, r) for label, r in records]
    if results_dir is not None:
        pairs += [(path.name, r) for path, r in load_records(results_dir, spec, t)]
    users = [
        user_entry(verify_record(r, spec, label, ids_hash, metadata, gold), table)
        for label, r in pairs
    ]
    users, dropped = deduplicate(users)
    if results_dir is not None and t.name == spec.task().name:
        users += declared_entries(results_dir, spec)
    rows = table.rows if table.task == t.name else ()
    entries = [published_entry(table, row) for row in rows] + users
    tracks = track_names(entries)
    if track is not None:
        entries = [e for e in entries if on_track(e, track)]
        if not entries:
            raise InputError(
                f"--track: expected one of the feature sets on the board "
                f"({', '.join(tracks) or 'none'}), got {track!r}"
            )
    higher = t.higher_is_better(t.main_score)
    ranked = list(rank_entries(entries, higher))
    sizes = t.group_sizes(gold)
    tests = pair_tests(t, ranked, sizes)
    tiers = assign_tiers(ranked, tests)
    ranked = [dataclasses.replace(e, tier=tier) for e, tier in zip(ranked, tiers)]
    if order == "tier":
        sign = -1.0 if higher else 1.0
        index = sorted(
            range(len(ranked)), key=lambda i: (ranked[i].tier, sign * ranked[i].score, i)
        )
        remap = {old: new for new, old in enumerate(index)}
        ranked = [ranked[i] for i in index]
        tests = [dataclasses.replace(x, a=remap[x.a], b=remap[x.b]) for x in tests]
    return Leaderboard(
        spec=spec,
        task=t,
        published=table,
        entries=attach_reproductions(ranked),
        sizes=sizes,
        tests=tuple(tests),
        order=order,
        track=track,
        tracks=tracks,
        dropped=tuple(dropped),
    )
