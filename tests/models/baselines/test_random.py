"""Random: a seeded, blocking-independent random matrix that scores chance within its
bootstrap confidence interval."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from var_bench.benchmarks import get_benchmark
from var_bench.errors import InputError
from var_bench.models.baselines.random_baseline import RandomScores, random_scores, splitmix64
from var_bench.models.registry import get_model
from var_bench.scoring.score import score
from var_bench.tasks.retrieval.names import MEDIAN_RANK, RECALL_KS, RECALLS
from var_bench.training.config import load_config

from .fakebatch import UCF, XD, build, make_batch


def _matrix(model: RandomScores, n: int, block: int = 97) -> np.ndarray:
    """The model's matrix over indices 0..n-1, built in query blocks as the evaluator does."""
    gallery = model.encode_gallery({"index": torch.arange(n)})
    rows = [
        model.similarity(model.encode_query({"index": torch.arange(s, min(s + block, n))}), gallery)
        for s in range(0, n, block)
    ]
    return torch.cat(rows).numpy()


def test_registered_with_nothing_to_train():
    m, ctx = build("random", XD)
    assert get_model("random") is RandomScores and RandomScores.needs_training is False
    assert list(m.parameters()) == []
    assert m(make_batch(ctx, 3, 4))["loss"].item() == 0.0
    assert m.loader_options() == {"max_snippets": 1}


def test_scores_are_a_pure_function_of_seed_and_indices():
    m0, _ = build("random", UCF)
    again, _ = build("random", UCF)
    other, _ = build("random", UCF, seed=1)
    S = _matrix(m0, 50)
    assert np.array_equal(S, _matrix(again, 50, block=7))  # any blocking, same matrix
    assert np.array_equal(S[10:20, 5:9], random_scores(0, np.arange(10, 20), np.arange(5, 9)))
    assert not np.array_equal(S, _matrix(other, 50))
    assert ((S >= 0) & (S < 1)).all()


def test_scores_look_uniform_and_independent():
    S = random_scores(0, np.arange(400), np.arange(400))
    assert abs(S.mean() - 0.5) < 0.005 and abs(S.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(S[:, :-1].ravel(), S[:, 1:].ravel())[0, 1]) < 0.01
    hist = np.histogram(S, bins=10, range=(0, 1))[0] / S.size
    assert np.abs(hist - 0.1).max() < 0.005


def test_splitmix64_known_value():
    # SplitMix64's first output from state 0 (Vigna's reference implementation).
    assert int(splitmix64(np.array([0], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_scores_chance_within_its_confidence_interval(benchmark):
    spec = get_benchmark(benchmark)
    n = spec.test_videos
    m, _ = build("random", benchmark, **load_config("tiny", model="random").model_args)
    record = score(_matrix(m, n), spec, ci=True, replicates=2000, seed=0)
    assert record.details["tied_queries"][spec.task().directions[0].name] <= n // 10
    for direction in spec.task().groups:
        intervals = record.ci["intervals"][direction]
        for metric, k in zip(RECALLS, RECALL_KS):
            lo, hi = intervals[metric]
            assert lo <= 100.0 * k / n <= hi, (direction, metric, lo, hi)
        lo, hi = intervals[MEDIAN_RANK]
        assert lo <= (n + 1) / 2 <= hi, (direction, lo, hi)


def test_a_non_random_matrix_fails_the_same_check():
    """The chance check has teeth: the identity matrix (perfect retrieval) lies outside."""
    spec = get_benchmark(UCF)
    record = score(np.eye(spec.test_videos, dtype=np.float32), spec, ci=True, replicates=500)
    lo, hi = record.ci["intervals"][spec.task().groups[0]]["R@1"]
    assert not lo <= 100.0 / spec.test_videos <= hi


def test_bad_seed_is_refused():
    with pytest.raises(InputError, match="seed"):
        build("random", UCF, seed=-1)


def test_evaluator_path_gives_the_same_matrix():
    """Through the evaluator's batching (encode per batch, concatenate, similarity in blocks)."""
    from var_bench.training.encode import encode_split, similarity_matrix

    m, ctx = build("random", XD)
    batches = []
    for start in range(0, 10, 4):
        b = make_batch(ctx, min(4, 10 - start), 1)
        b["index"] = torch.arange(start, start + b["index"].shape[0])
        batches.append(b)
    q, g, _, _ = encode_split(m, batches, torch.device("cpu"))
    S = similarity_matrix(m, q, g, block=3)
    assert np.array_equal(S, random_scores(0, np.arange(10), np.arange(10)).astype(np.float32))


def test_checkpoint_without_weights_round_trips(tmp_path):
    """What a trainer writes for a model with ``needs_training = False`` (config, empty weights)
    rebuilds the same model: ``var-bench evaluate`` needs nothing else."""
    from var_bench.training import checkpoint as ckpt
    from var_bench.training.rebuild import load_trained_model

    m, ctx = build("random", XD, seed=3)
    cfg = load_config("xdviolence-ar", model="random", overrides=["model_args.seed=3"])
    ckpt.save_checkpoint(
        tmp_path,
        m,
        config=cfg.to_dict(),
        context=ctx.to_json(),
        state={"epoch": 0, "selection": "no training (random scores)"},
    )
    loaded, saved, _, _ = load_trained_model(tmp_path, get_benchmark(XD))
    assert isinstance(loaded, RandomScores) and loaded.seed == 3 and saved["model"] == "random"
