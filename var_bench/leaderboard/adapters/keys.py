"""Flat score keys shared by every challenge platform, generated from the metric and direction names.

A key is ``<direction>_<metric without "@">``: ``t2v_R1``, ``t2v_R5``, ``t2v_R10``, ``t2v_MdR``,
``t2v_MnR``, then the second direction, then ``SumR``. Platforms want identifier-like column keys
(CodaLab ``scores.txt`` keys, Codabench leaderboard column ``key``s, EvalAI metric labels), and
"@" is not one.
"""

from __future__ import annotations

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.tasks.retrieval.names import METRICS, SUMR, higher_is_better
from var_bench.scoring.record import ResultRecord
from var_bench.leaderboard.verify import IdsHash, verify_record


def score_key(direction: str | None, metric: str) -> str:
    """``t2v_R1`` for (``t2v``, ``R@1``); the bare metric name when ``direction`` is None (SumR)."""
    name = metric.replace("@", "")
    return name if direction is None else f"{direction}_{name}"


def score_keys(benchmark: str | BenchmarkSpec) -> list[str]:
    """Every key of ``benchmark``, in the order platforms should show them."""
    spec = get_benchmark(benchmark)
    return [score_key(d, m) for d in spec.direction_names for m in METRICS] + [score_key(None, SUMR)]


def key_table(spec: BenchmarkSpec) -> list[tuple[str, str, str]]:
    """``(key, what it is, sorting)`` rows documenting the mapping; sorting is desc/asc."""
    rows = [
        (score_key(d.name, m), f"{d.arrow} {m}", "desc" if higher_is_better(m) else "asc")
        for d in spec.directions
        for m in METRICS
    ]
    return rows + [(score_key(None, SUMR), SUMR, "desc")]


def ranking_key_table(spec: BenchmarkSpec) -> list[tuple[str, str, str]]:
    """:func:`key_table` with SumR first: platforms rank by their first (primary) column."""
    rows = key_table(spec)
    return rows[-1:] + rows[:-1]


def flat_scores(record: ResultRecord, ids_hash: IdsHash | None = None) -> dict[str, float]:
    """The record's scores under the leaderboard tie rule, keyed by :func:`score_key`.

    The record is verified first (metrics against its per-query ranks, its id-list hash) and
    re-scored under ``expected`` ties when it was scored otherwise, exactly as the leaderboard does.
    """
    spec = get_benchmark(record.benchmark)
    verified = verify_record(record, spec, record.name or record.benchmark, ids_hash)
    scores = {
        score_key(d, m): float(verified.metrics[d][m]) for d in spec.direction_names for m in METRICS
    }
    scores[score_key(None, SUMR)] = float(verified.sumr)
    return scores
