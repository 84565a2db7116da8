"""The leaderboard: published rows and verified user records, ranked by SumR, grouped in tiers."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Sequence

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.scoring.record import ResultRecord
from var_bench.leaderboard.entries import (DIGEST_SHOWN, Entry, published_entry, reproduces,
                                           user_entry)
from var_bench.leaderboard.published import PublishedTable, published_table
from var_bench.leaderboard.tiers import PairTest, assign_tiers, pair_tests
from var_bench.leaderboard.verify import LEADERBOARD_SPLIT, LEADERBOARD_TIES, IdsHash, load_records, verify_record

log = logging.getLogger(__name__)

#: Row orders ``--order`` knows: by SumR (competition ranks) or by tier, then SumR.
ORDERS: tuple[str, ...] = ("sumr", "tier")


@dataclass(frozen=True)
class Leaderboard:
    """Ranked entries of one benchmark's test split, under the ``expected`` tie rule.

    ``tests``: every pairwise tier comparison, as indices into ``entries``; ``track``: the
    feature set the board is restricted to (None: all); ``dropped``: ``(file, kept file)`` for
    records dropped as duplicates of the same submission.
    """

    spec: BenchmarkSpec
    published: PublishedTable
    entries: tuple[Entry, ...]
    split: str = LEADERBOARD_SPLIT
    ties: str = LEADERBOARD_TIES
    tests: tuple[PairTest, ...] = ()
    order: str = "sumr"
    track: str | None = None
    tracks: tuple[str, ...] = ()
    dropped: tuple[tuple[str, str], ...] = ()

    @property
    def user_entries(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if not e.is_published)


def rank_entries(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """Sort by SumR, highest first, and number them with competition ranking (1, 2, 2, 4).

    Equal SumR keeps the input order (published rows first, in the paper's order).
    """
    ordered = sorted(entries, key=lambda e: -e.sumr)
    ranked: list[Entry] = []
    for i, entry in enumerate(ordered):
        rank = ranked[-1].rank if ranked and ranked[-1].sumr == entry.sumr else i + 1
        ranked.append(dataclasses.replace(entry, rank=rank))
    return tuple(ranked)


def attach_reproductions(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """Attach to each published row the user entry that *claims* to rerun it on real features.

    A claim is a user entry whose disclosure names the row's reference model and real features
    (as ``var-bench evaluate`` writes them). It is declared, not verified: the published row keeps
    its published numbers and source. Several: the newest by date, then the highest SumR.
    """
    out = []
    for entry in entries:
        if entry.is_published and entry.reference_model:
            runs = [e for e in entries if reproduces(e, entry.reference_model)]
            if runs:
                best = max(runs, key=lambda e: (e.date or "", e.sumr))
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


def build_leaderboard(
    benchmark: str | BenchmarkSpec,
    results_dir: str | os.PathLike | None = None,
    records: Sequence[tuple[str, ResultRecord]] = (),
    ids_hash: IdsHash | None = None,
    *,
    order: str = "sumr",
    track: str | None = None,
    metadata: Any = None,
) -> Leaderboard:
    """The published table of ``benchmark`` merged with user records, verified, ranked, tiered.

    User records come from every ``*.json`` in ``results_dir`` (see :func:`verify.load_records`)
    and from ``records`` (``(label, record)`` pairs); each must pass :func:`verify.verify_record`
    (``ids_hash`` replaces the shipped id-list checksum lookup, for tests; ``metadata`` is the
    test table that per-class breakdowns are recomputed from). Records of one submission
    (same ``submission_sha256``) count once. ``order``: ``sumr`` or ``tier`` (tier, then SumR);
    ``track``: keep only rows on this feature set (:func:`on_track`: a name, or a features
    digest prefix for the rows of one feature store).
    """
    if order not in ORDERS:
        raise InputError(f"--order: expected one of {', '.join(ORDERS)}, got {order!r}")
    spec = get_benchmark(benchmark)
    table = published_table(spec)
    pairs = [(label, r) for label, r in records]
    if results_dir is not None:
        pairs += [(path.name, r) for path, r in load_records(results_dir, spec)]
    users = [user_entry(verify_record(r, spec, label, ids_hash, metadata), table)
             for label, r in pairs]
    users, dropped = deduplicate(users)
    entries = [published_entry(table, row) for row in table.rows] + users
    tracks = track_names(entries)
    if track is not None:
        entries = [e for e in entries if on_track(e, track)]
        if not entries:
            raise InputError(f"--track: expected one of the feature sets on the board "
                             f"({', '.join(tracks) or 'none'}), got {track!r}")
    ranked = list(rank_entries(entries))
    tests = pair_tests(ranked, spec.test_size, LEADERBOARD_TIES, spec.direction_names)
    tiers = assign_tiers(ranked, tests)
    ranked = [dataclasses.replace(e, tier=t) for e, t in zip(ranked, tiers)]
    if order == "tier":
        index = sorted(range(len(ranked)), key=lambda i: (ranked[i].tier, -ranked[i].sumr, i))
        remap = {old: new for new, old in enumerate(index)}
        ranked = [ranked[i] for i in index]
        tests = [dataclasses.replace(t, a=remap[t.a], b=remap[t.b]) for t in tests]
    return Leaderboard(spec=spec, published=table, entries=attach_reproductions(ranked),
                       tests=tuple(tests), order=order, track=track, tracks=tracks,
                       dropped=tuple(dropped))
