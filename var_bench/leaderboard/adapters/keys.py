"""Flat score keys shared by every challenge platform, generated from the task's groups and metrics.

A key is ``<group>_<metric without "@">``: for retrieval ``t2v_R1``, ``t2v_R5``, ``t2v_R10``,
``t2v_MdR``, ``t2v_MnR``, then the second direction, then the summaries (``SumR``). Platforms want
identifier-like column keys (CodaLab ``scores.txt`` keys, Codabench leaderboard column ``key``s,
EvalAI metric labels), and "@" is not one.
"""

from __future__ import annotations

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.leaderboard.verify import IdsHash, verify_record
from var_bench.scoring.record import ResultRecord
from var_bench.tasks import Task


def score_key(direction: str | None, metric: str) -> str:
    """``t2v_R1`` for (``t2v``, ``R@1``); the bare metric name when ``direction`` is None (SumR)."""
    name = metric.replace("@", "")
    return name if direction is None else f"{direction}_{name}"


def score_keys(benchmark: str | BenchmarkSpec, task: str | None = None) -> list[str]:
    """Every key of a benchmark task, in the order platforms should show them."""
    t = get_benchmark(benchmark).task(task)
    return [score_key(g, m.name) for g in t.groups for m in t.metrics] + [
        score_key(None, s.name) for s in t.summaries
    ]


def key_table(task: Task) -> list[tuple[str, str, str]]:
    """``(key, what it is, sorting)`` rows documenting the mapping; sorting is desc/asc."""
    rows = [
        (
            score_key(g, m.name),
            f"{task.group_label(g)} {m.name}",
            "desc" if m.higher_is_better else "asc",
        )
        for g in task.groups
        for m in task.metrics
    ]
    return rows + [
        (score_key(None, s.name), s.name, "desc" if s.higher_is_better else "asc")
        for s in task.summaries
    ]


def ranking_key_table(task: Task) -> list[tuple[str, str, str]]:
    """:func:`key_table` with the main score first: platforms rank by their first (primary)
    column."""
    rows = key_table(task)
    main = [r for r in rows if r[1] == task.main_score or r[0] == score_key(None, task.main_score)]
    return main[:1] + [r for r in rows if r not in main[:1]]


def flat_scores(record: ResultRecord, ids_hash: IdsHash | None = None) -> dict[str, float]:
    """The record's scores under the task's official rule, keyed by :func:`score_key`.

    The record is verified first (metrics against its per-query counts, its id-list hashes) and
    re-scored under the official rule (retrieval: ``expected`` ties) when it was scored otherwise,
    exactly as the leaderboard does.
    """
    spec = get_benchmark(record.benchmark)
    verified = verify_record(record, spec, record.name or record.benchmark, ids_hash)
    t = verified.task
    scores = {
        score_key(g, m.name): float(verified.metrics[g][m.name])
        for g in t.groups
        for m in t.metrics
    }
    scores.update({score_key(None, k): float(v) for k, v in verified.summary.items()})
    return scores
