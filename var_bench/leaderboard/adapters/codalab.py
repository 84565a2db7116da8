"""CodaLab Competitions: ``scores.txt`` and a ready scoring program.

CodaLab reads the scoring program's ``OUTPUT_DIR/scores.txt``, one ``key: value`` line per
leaderboard column (the keys are the ``columns`` of the competition YAML's ``leaderboard``); see
the CodaLab wiki pages "Building a Scoring Program for a Competition" and "Organizer Leaderboard".
Keys: :func:`var_bench.leaderboard.adapters.keys.score_keys` (``t2v_R1`` ... ``SumR``).

Scoring program (``metadata``:
``command: python -m var_bench.leaderboard.adapters.codalab $input $output``)::

    python -m var_bench.leaderboard.adapters.codalab INPUT_DIR OUTPUT_DIR [--benchmark NAME]
"""

from __future__ import annotations

import json
import os
import sys

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.fsutil import atomic_write_text
from var_bench.leaderboard.adapters.keys import flat_scores, ranking_key_table
from var_bench.leaderboard.adapters.program import run_program
from var_bench.leaderboard.verify import IdsHash
from var_bench.scoring.record import ResultRecord

SCORES_FILE = "scores.txt"


def codalab_scores_text(record: ResultRecord, ids_hash: IdsHash | None = None) -> str:
    """``key: value`` lines (full float precision, shortest round-trip form), newline-terminated."""
    return "".join(f"{k}: {v!r}\n" for k, v in flat_scores(record, ids_hash).items())


def write_codalab_scores(
    record: ResultRecord, path: str | os.PathLike, ids_hash: IdsHash | None = None
) -> None:
    """Write CodaLab's ``scores.txt`` for ``record`` to ``path``, atomically."""
    atomic_write_text(path, codalab_scores_text(record, ids_hash))


def leaderboard_yaml(benchmark: str | BenchmarkSpec, decimals: int = 2) -> str:
    """The ``leaderboard:`` section of a CodaLab ``competition.yaml`` for ``benchmark``: one table,
    one column per score key (``label``, ``numeric_format``, ``rank``), the main score first.

    Lower-is-better columns (MdR, MnR) need their sort order set to ascending in the competition
    editor: the wiki pages this follows document no sort field.
    """
    spec = get_benchmark(benchmark)
    rows = ranking_key_table(spec.task())
    lines = [
        "leaderboard:",
        "  leaderboards:",
        "    RESULTS: &RESULTS",
        f"      label: {json.dumps(spec.title + ' test')}",
        "      rank: 1",
        "  columns:",
    ]
    for rank, (key, label, _) in enumerate(rows, start=1):
        lines += [
            f"    {key}:",
            "      leaderboard: *RESULTS",
            f"      label: {json.dumps(label)}",
            f"      numeric_format: {decimals}",
            f"      rank: {rank}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return run_program(
        argv, "var_bench.leaderboard.adapters.codalab", write_codalab_scores, SCORES_FILE
    )


if __name__ == "__main__":
    sys.exit(main())
