"""Codabench: ``scores.json`` and a ready scoring program.

Codabench reads the scoring program's ``OUTPUT_DIR/scores.json``, a JSON object whose keys are the
``key``s of the leaderboard columns in ``competition.yaml`` (docs.codabench.org, "Leaderboard
Functionality" and "Competition Bundle Structure"). Keys:
:func:`var_bench.leaderboard.adapters.keys.score_keys`.

Scoring program (``metadata.yaml``:
``command: python3 -m var_bench.leaderboard.adapters.codabench /app/input /app/output``)::

    python -m var_bench.leaderboard.adapters.codabench INPUT_DIR OUTPUT_DIR [--benchmark NAME]
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

SCORES_FILE = "scores.json"


def codabench_scores(record: ResultRecord, ids_hash: IdsHash | None = None) -> dict[str, float]:
    """``{key: value}`` for every leaderboard column."""
    return flat_scores(record, ids_hash)


def write_codabench_scores(
    record: ResultRecord, path: str | os.PathLike, ids_hash: IdsHash | None = None
) -> None:
    """Write Codabench's ``scores.json`` for ``record`` to ``path``, atomically."""
    text = json.dumps(codabench_scores(record, ids_hash), indent=1, allow_nan=False)
    atomic_write_text(path, text + "\n")


def leaderboard_yaml(benchmark: str | BenchmarkSpec) -> str:
    """The ``leaderboard:`` section of a Codabench ``competition.yaml`` (v2) for ``benchmark``.

    The main score (SumR) is column 0, the primary (ranking) column; MdR and MnR sort ascending.
    """
    spec = get_benchmark(benchmark)
    rows = ranking_key_table(spec.task())  # main score first: Codabench ranks by column 0
    lines = [
        "leaderboard:",
        f"  - title: {json.dumps(spec.title + ' test')}",
        "    key: main",
        "    columns:",
    ]
    for index, (key, title, sorting) in enumerate(rows):
        lines += [
            f"      - title: {json.dumps(title)}",
            f"        key: {key}",
            f"        index: {index}",
            f"        sorting: {sorting}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return run_program(
        argv, "var_bench.leaderboard.adapters.codabench", write_codabench_scores, SCORES_FILE
    )


if __name__ == "__main__":
    sys.exit(main())
