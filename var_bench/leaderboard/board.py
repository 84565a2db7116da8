"""The leaderboard: published rows and verified user records, ranked by SumR."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Sequence

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.scoring.record import ResultRecord
from var_bench.leaderboard.entries import Entry, published_entry, reproduces, user_entry
from var_bench.leaderboard.published import PublishedTable, published_table
from var_bench.leaderboard.verify import LEADERBOARD_SPLIT, LEADERBOARD_TIES, IdsHash, load_records, verify_record


@dataclass(frozen=True)
class Leaderboard:
    """Ranked entries of one benchmark's test split, under the ``expected`` tie rule."""

    spec: BenchmarkSpec
    published: PublishedTable
    entries: tuple[Entry, ...]
    split: str = LEADERBOARD_SPLIT
    ties: str = LEADERBOARD_TIES

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
    """Mark each published row with the user entry that reproduces it on real features.

    A reproduction is a user entry whose disclosure names the row's reference model and real
    features (as ``var-bench evaluate`` writes them). Several: the newest by date, then the
    highest SumR.
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


def build_leaderboard(
    benchmark: str | BenchmarkSpec,
    results_dir: str | os.PathLike | None = None,
    records: Sequence[tuple[str, ResultRecord]] = (),
    ids_hash: IdsHash | None = None,
) -> Leaderboard:
    """The published table of ``benchmark`` merged with user records, verified and ranked.

    User records come from every ``*.json`` in ``results_dir`` (see :func:`verify.load_records`)
    and from ``records`` (``(label, record)`` pairs); each must pass :func:`verify.verify_record`
    (``ids_hash`` replaces the shipped id-list checksum lookup, for tests).
    """
    spec = get_benchmark(benchmark)
    table = published_table(spec)
    pairs = [(label, r) for label, r in records]
    if results_dir is not None:
        pairs += [(path.name, r) for path, r in load_records(results_dir, spec)]
    users = [user_entry(verify_record(r, spec, label, ids_hash)) for label, r in pairs]
    entries = [published_entry(table, row) for row in table.rows] + users
    return Leaderboard(spec=spec, published=table,
                       entries=attach_reproductions(rank_entries(entries)))
