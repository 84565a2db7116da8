"""EvalAI: the evaluation script's return value, and a ready ``evaluate`` function.

EvalAI calls ``evaluate(test_annotation_file, user_submission_file, phase_codename, **kwargs)``
and puts on the leaderboard ``{"result": [{split_codename: {metric: value, ...}}, ...]}``; the
``submission_result`` entry is what the participant sees for the submission (EvalAI docs
"Writing an Evaluation Script"; EvalAI-Starters ``evaluation_script/main.py``). Metric labels
are :func:`var_bench.leaderboard.adapters.keys.score_keys`. A failure raises, as EvalAI asks.

In the challenge's ``evaluation_script/__init__.py``::

    from var_bench.leaderboard.adapters.evalai import evaluate
"""

from __future__ import annotations

import json
import os
from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.fsutil import atomic_write_text
from var_bench.leaderboard.adapters.keys import flat_scores, ranking_key_table
from var_bench.leaderboard.adapters.program import read_benchmark_file, score_submission
from var_bench.leaderboard.verify import IdsHash
from var_bench.scoring.record import ResultRecord

#: The dataset split codename the leaderboard shows (challenge_config.yaml ``dataset_splits``).
SPLIT_CODENAME = "test"


def evalai_result(
    record: ResultRecord, split_codename: str = SPLIT_CODENAME, ids_hash: IdsHash | None = None
) -> dict[str, Any]:
    """``{"result": [{split_codename: scores}], "submission_result": scores}``."""
    scores = flat_scores(record, ids_hash)
    return {"result": [{split_codename: scores}], "submission_result": dict(scores)}


def write_evalai_json(
    record: ResultRecord,
    path: str | os.PathLike,
    split_codename: str = SPLIT_CODENAME,
    ids_hash: IdsHash | None = None,
) -> None:
    """Write :func:`evalai_result` as JSON to ``path``, atomically."""
    text = json.dumps(evalai_result(record, split_codename, ids_hash), indent=1, allow_nan=False)
    atomic_write_text(path, text + "\n")


def leaderboard_schema(benchmark: str | BenchmarkSpec) -> dict[str, Any]:
    """The ``schema`` of a leaderboard in EvalAI's ``challenge_config.yaml``: labels (the main
    score first), ``default_order_by`` the main score (keep ``is_leaderboard_order_descending:
    True``), and per label ``sort_ascending`` / ``description`` metadata (MdR, MnR: lower is
    better)."""
    task = get_benchmark(benchmark).task()
    rows = ranking_key_table(task)
    return {
        "labels": [key for key, _, _ in rows],
        "default_order_by": rows[0][0],
        "metadata": {
            key: {"sort_ascending": sorting == "asc", "description": what}
            for key, what, sorting in rows
        },
    }


def evaluate(
    test_annotation_file: str, user_submission_file: str, phase_codename: str, **kwargs: Any
) -> dict[str, Any]:
    """EvalAI's entry point: ``test_annotation_file`` is a ``benchmark.txt`` naming the benchmark,
    ``user_submission_file`` the participant's score matrix. ``phase_codename`` does not change the
    scoring (every phase scores the test split under the same rule)."""
    spec = read_benchmark_file(test_annotation_file)
    return evalai_result(score_submission(user_submission_file, spec))
