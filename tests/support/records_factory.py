"""Result records built directly from random per-query counts, for leaderboard and adapter tests.

Metrics come from ``var_bench.tasks.retrieval.ranks`` (the scorer's own functions), so a record made
here is exactly what ``var-bench score --json`` would write for the same counts.
"""

from __future__ import annotations

import numpy as np

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.scoring.record import DISCLOSURE_KEYS, RECORD_SCHEMA, ResultRecord
from var_bench.scoring.stats import bootstrap
from var_bench.scoring.stats.breakdown import by_class as breakdown_by_class
from var_bench.tasks.retrieval import ranks
from var_bench.tasks.retrieval.counts import RankCounts

#: The id-list hash the fake checksum lookup below accepts.
FAKE_IDS_SHA256 = "f" * 64


def fake_ids_hash(spec: BenchmarkSpec, split: str) -> str:
    """Stands in for splitinfo.expected_ids_sha256 in tests."""
    return FAKE_IDS_SHA256


def random_counts(
    n: int, rng: np.random.Generator, skill: float, tie_rate: float = 0.0
) -> RankCounts:
    """b ~ geometric-ish ranks (smaller for higher ``skill``), e > 0 on about ``tie_rate`` of
    queries."""
    b = np.minimum(rng.geometric(skill, size=n) - 1, n - 1)
    e = np.where(rng.random(n) < tie_rate, rng.integers(1, 4, size=n), 0)
    e = np.minimum(e, n - 1 - b)
    return RankCounts(b, e)


def _metadata(spec: BenchmarkSpec, rng: np.random.Generator) -> dict:
    """Made-up class labels: each test video gets a random class."""
    labels = rng.choice(np.array(spec.classes), size=spec.test_videos)
    return {"class": labels, "anomalous": labels != spec.normal_class}


def _breakdown(spec: BenchmarkSpec, per_query, ties: str, rng: np.random.Generator) -> dict:
    """The scorer's per-class breakdown for made-up classes."""
    return breakdown_by_class(
        spec.task(), per_query, _metadata(spec, rng), ties, classes=spec.classes
    )


def record_metadata(benchmark: str = "ucfcrime-ar", *, seed: int = 0) -> dict:
    """The class labels ``make_record(benchmark, seed=seed, by_class=True)`` was scored with."""
    spec = get_benchmark(benchmark)
    rng = np.random.default_rng(seed)
    for _ in spec.task().groups:  # replay the draws of make_record before the labels
        random_counts(spec.test_videos, rng, 0.08, 0.2)
    return _metadata(spec, rng)


def make_record(
    benchmark: str = "ucfcrime-ar",
    *,
    seed: int = 0,
    skill: float = 0.08,
    tie_rate: float = 0.2,
    ties: str = "expected",
    name: str | None = "my-model",
    ci: bool = False,
    by_class: bool = False,
    warnings: list[str] | None = None,
    disclosure: dict[str, str | None] | None = None,
    ids_sha256: str = FAKE_IDS_SHA256,
) -> ResultRecord:
    spec = get_benchmark(benchmark)
    task = spec.task()
    rng = np.random.default_rng(seed)
    per_query = {d: random_counts(spec.test_videos, rng, skill, tie_rate) for d in task.groups}
    metrics = {d: ranks.summarise(q, ties) for d, q in per_query.items()}
    return ResultRecord(
        benchmark=spec.name,
        split="test",
        ties=ties,
        metrics=metrics,
        summary={"SumR": ranks.sum_recall(metrics)},
        main_score=task.main_score,
        bounds={},
        details={"tied_queries": {d: ranks.tied_query_count(q) for d, q in per_query.items()}},
        per_query=per_query,
        query_ids_sha256=ids_sha256,
        gallery_ids_sha256=ids_sha256,
        versions={"var_bench": "0.1.0", "benchmark": spec.version, "record_schema": RECORD_SCHEMA},
        date="2026-11-21T12:00:00Z",
        ci=bootstrap.bootstrap_ci(task, per_query, ties, replicates=200, seed=seed) if ci else None,
        by_class=_breakdown(spec, per_query, ties, rng) if by_class else None,
        name=name,
        disclosure=disclosure if disclosure is not None else {k: "none" for k in DISCLOSURE_KEYS},
        warnings=list(warnings or []),
    )


#: A method name that tries raw HTML, a javascript: link, an event handler and a remote image
#: (the red-team report's class 5, issue 11).
HOSTILE_NAME = (
    '<script>alert("name")</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)> '
    "![x](http://attacker.example/t.png)"
)
#: A disclosure value that would add a heading and table rows to a Markdown document.
INJECTED = "none\n\n# INJECTED HEADING\n\n| fake | row |\n|---|---|\n| ALAN | 999 |"


def hostile_board():
    """A UCFCrime-AR leaderboard with one user record whose every free-text field (name,
    warnings, disclosure keys and values, date, version) tries to inject HTML or Markdown."""
    from var_bench.leaderboard import build_leaderboard

    record = make_record(
        seed=11,
        name=HOSTILE_NAME,
        warnings=["w1\n# WARN HEADING\n| x | y |"],
        disclosure={
            "test_time_normalisation": INJECTED,
            "extra_training_data": '"><img src=x onerror=alert(1)>',
            "checkpoint_selection": "val",
            "<b>key</b>": "[l](javascript:x)",
        },
    )
    record.date = "<svg/onload=alert(1)>"
    record.versions["var_bench"] = "<script>v</script>"
    return build_leaderboard("ucfcrime-ar", records=[("evil.json", record)], ids_hash=fake_ids_hash)
