"""The shared trainer's overhead: steps/s of ``var-bench train``
(``var_bench.training.trainer.train``) against a bare PyTorch loop over the same model, batches and
optimiser. Target: >= 0.9x.

    PYTHONPATH=. python benchmarks/trainer_overhead.py [--videos 512] [--epochs 3] [--batch 64]

Both sides: ALAN (d = 128, N = 16, two streams, frozen cached offline text model, VPMPM off) built
by the trainer's own ``build_model`` from the same seed, Adam from ``make_optimizer``, batches
from the trainer's ``build_train_loader`` (same collate, same shuffling), gradient clipping 1.0,
float32 on CPU. The trainer's time per epoch excludes its validation pass (reported apart); the
first epoch of each side is a warm-up and not counted. Prints steps/s of both and the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ["red", "blue", "man", "car", "fire", "shop", "road", "crowd", "door", "night"]


class MemoryDataset:
    """``n`` random videos in the loader's item format (rgb + flow 1024-d, T in [8, 64])."""

    def __init__(self, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.items = []
        for i in range(n):
            t = int(rng.integers(8, 65))
            self.items.append(
                {
                    "index": i,
                    "video_id": f"v{seed}_{i}",
                    "rgb": rng.normal(size=(t, 1024)).astype(np.float32),
                    "flow": rng.normal(size=(t, 1024)).astype(np.float32),
                    "video_label": float(i % 2),
                    "snippet_labels": np.full(t, -1, np.int8),
                    "text": f"a {WORDS[i % 10]} {WORDS[(i // 10) % 10]} number {i}",
                    "class": "x",
                }
            )

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


MODEL_ARGS = [
    "model_args.d=128",
    "model_args.n=16",
    "model_args.self_layers=2",
    "model_args.heads=4",
    "model_args.vpmpm=false",
    "model_args.text_freeze=true",
    "model_args.text_cache=true",
    "text_model=offline",
    'train.amp="off"',
    "train.grad_clip=1.0",
    "train.lr=1e-4",
    "train.log_every=1000",
]


def bare_loop(cfg, ctx, data, epochs: int) -> tuple[float, int]:
    """(seconds, steps) of epochs 2..E of a plain loop: zero_grad, forward, backward, clip, step."""
    import torch

    from var_bench.training.loaders import build_train_loader, collate_streams
    from var_bench.training.optim import make_optimizer
    from var_bench.training.rebuild import build_model
    from var_bench.training.runtime import Dist, seed_everything

    seed_everything(cfg.train.seed)
    model = build_model(cfg, ctx)
    opt = make_optimizer(model, cfg.train)
    streams = collate_streams(model, ctx.streams, ctx.query_modality)
    params = [p for g in opt.param_groups for p in g["params"]]
    secs = steps = 0
    for epoch in range(epochs):
        loader = build_train_loader(model, data, streams, cfg.train, epoch, Dist(), epoch)
        model.train()
        t0 = time.perf_counter()
        n = 0
        for batch in loader:
            loss = model(batch)["loss"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.train.grad_clip)
            opt.step()
            n += 1
        if epoch > 0:
            secs += time.perf_counter() - t0
            steps += n
    return secs, steps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()

    import tempfile

    import torch

    from var_bench.benchmarks import get_benchmark
    from var_bench.training.config import load_config
    from var_bench.training.loaders import infer_context
    from var_bench.training.trainer import train

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = MODEL_ARGS + [f"train.epochs={args.epochs}", f"train.batch_size={args.batch}"]
    data = {"train": MemoryDataset(args.videos), "val": MemoryDataset(16, seed=1)}
    spec = get_benchmark("ucfcrime-ar")
    cfg = load_config("tiny", model="alan", overrides=overrides)
    ctx = infer_context(spec, data["train"], cfg.text_model, torch.device("cpu"))

    b_secs, b_steps = bare_loop(cfg, ctx, data["train"], args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(
            "alan",
            spec,
            config="tiny",
            out=Path(tmp) / "run",
            device="cpu",
            overrides=overrides,
            data=data,
            progress=False,
            resume=False,
        )
    hist = result.history[1:]
    t_secs = sum(e["seconds"] - e.get("val_seconds", 0.0) for e in hist)
    t_steps = sum(e["step"] - p["step"] for p, e in zip(result.history, hist))
    val = sum(e.get("val_seconds", 0.0) for e in hist)
    bare, ours = b_steps / b_secs, t_steps / t_secs
    print(
        f"videos {args.videos}, batch {args.batch}, epochs counted {args.epochs - 1}, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"bare loop     : {b_steps} steps in {b_secs:.2f} s = {bare:.3f} steps/s")
    print(
        f"var-bench train: {t_steps} steps in {t_secs:.2f} s = {ours:.3f} steps/s "
        f"(+ {val:.2f} s validation, not counted)"
    )
    ratio = ours / bare
    print(
        f"ratio trainer / bare = {ratio:.3f}x (target >= 0.9x): "
        f"{'PASS' if ratio >= 0.9 else 'FAIL'}"
    )
    return 0 if ratio >= 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
