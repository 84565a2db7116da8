"""Train a registered model on the synthetic feature stores and score it on the official test
set."""

from __future__ import annotations

from pathlib import Path

from var_bench.benchmarks import get_benchmark
from var_bench.tasks.retrieval.names import RECALL_KS


def chance_sumr(benchmark: str) -> float:
    """SumR of a random ranking: sum over both directions of 100 * K / N for K in R@1, R@5, R@10."""
    n = get_benchmark(benchmark).test_videos
    return 2 * sum(100.0 * k / n for k in RECALL_KS)


def train_and_score(
    model: str,
    benchmark: str,
    home: Path,
    out: Path,
    *,
    config: str,
    overrides: tuple[str, ...] = (),
):
    """``var-bench train`` then ``var-bench evaluate`` (library calls); returns the test record."""
    from var_bench.training.evaluate import evaluate
    from var_bench.training.trainer import train

    result = train(
        model,
        benchmark,
        config=config,
        out=out,
        home=home,
        device="cpu",
        overrides=overrides,
        progress=False,
    )
    return evaluate(
        result.checkpoint,
        benchmark,
        split="test",
        out=out / "submission.npz",
        home=home,
        device="cpu",
    )
