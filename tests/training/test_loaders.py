"""Loaders: epochs of N samples from replacement-free reshuffles, data.max_snippets as a cap, one
config shape on the train and eval paths, the worker warning once."""

from __future__ import annotations

import os
import warnings

import torch

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.training import loaders
from var_bench.training.config import load_config
from var_bench.training.loaders import (
    EpochSampler,
    build_eval_loader,
    build_train_loader,
    collate_options,
    infer_context,
)
from var_bench.training.rebuild import build_model
from var_bench.training.runtime import Dist

from .tiny import FakeFeatureDataset


def test_epoch_sampler_passes_are_permutations_that_straddle_epochs():
    n, k = 10, 4
    drawn = [list(EpochSampler(n, k, seed=1, epoch=e)) for e in range(5)]  # 20 samples = 2 passes
    assert all(len(d) == k for d in drawn)
    flat = sum(drawn, [])
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:]) == list(range(10))
    assert flat[:10] != flat[10:]  # a fresh shuffle per pass
    assert list(EpochSampler(n, k, seed=1, epoch=3)) == drawn[3]  # pure: resumes identically
    assert list(EpochSampler(n, k, seed=2, epoch=0)) != drawn[0]


def test_collate_options_cap_with_data_max_snippets():
    capped = load_config(model="tiny-test", overrides=["data.max_snippets=4"])
    plain = load_config(model="tiny-test")
    assert collate_options({"sample": "uniform", "n": 8, "streams": ("rgb",)}, plain) == {
        "sample": "uniform",
        "n": 8,
    }
    assert collate_options({}, capped) == {"max_snippets": 4}
    assert collate_options({"max_snippets": 16}, capped) == {"max_snippets": 4}
    assert collate_options({"max_snippets": 2}, capped) == {"max_snippets": 2}


def _setup(overrides):
    cfg = load_config(model="tiny-test", overrides=["train.batch_size=8", *overrides])
    data = FakeFeatureDataset(40, seed=1, t_min=6, t_max=9)
    ctx = infer_context(UCFCRIME_AR, data, cfg.text_model, torch.device("cpu"))
    return cfg, data, ctx, build_model(cfg, ctx)


def test_data_max_snippets_reaches_train_and_eval_batches():
    # Regression (fidelity.md): data.max_snippets was validated but never read.
    cfg, data, ctx, model = _setup(["data.max_snippets=3"])
    train = next(iter(build_train_loader(model, data, ("rgb",), cfg, 0, Dist(), 0)))
    evalb = next(iter(build_eval_loader(model, data, ctx, cfg)))
    assert train["rgb"].shape[1] == 3 and evalb["rgb"].shape[1] == 3
    cfg, data, ctx, model = _setup([])
    assert next(iter(build_eval_loader(model, data, ctx, cfg)))["rgb"].shape[1] > 3


def test_samples_per_epoch_sets_the_epoch_length():
    cfg, data, ctx, model = _setup(["train.samples_per_epoch=56"])
    loader = build_train_loader(model, data, ("rgb",), cfg, 0, Dist(), 0)
    batches = list(loader)
    assert len(batches) == 7 and all(len(b["video_id"]) == 8 for b in batches)
    ids = [v for b in batches for v in b["video_id"]]
    assert len(set(ids[:40])) == 40  # the first 40 samples are one full pass


def test_worker_warning_is_given_once(monkeypatch):
    monkeypatch.setattr(loaders, "_WORKERS_CHECKED", set())
    many = (os.cpu_count() or 1) + 3
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(3):
            loaders._DataLoader(
                FakeFeatureDataset(4), num_workers=many
            ).check_worker_number_rationality()
    assert sum("worker processes" in str(w.message) for w in seen) == 1
