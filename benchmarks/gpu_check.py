"""GPU check of the paper configs (run by benchmarks/gpu_check.sh; < 5 min on one GPU).

    python benchmarks/gpu_check.py [--home DATA_HOME] [--dry-run]

1. ALAN's paper config (``alan-ucfcrime-ar`` / ``alan-xdviolence-ar``) trains one epoch with AMP
   (bf16, fp16 where bf16 is unsupported) on synthetic in-memory data of the benchmark's size:
   UCFCrime-AR 1610 train videos (RGB + Flow, 1024-d), XDViolence-AR 3954 (RGB + Flow 1024-d,
   VGGish 128-d). Snippet counts T = num_frames / 16 from the built metadata in ``--home`` when
   it has frame counts; else seeded log-normal lengths (median 128 snippets, capped at the
   loader's 512), and the table says which. Text: the offline MiniLM (no BERT weights offline;
   a named deviation). Measures seconds per epoch, samples/s, peak GPU memory.
2. End-to-end test retrieval time (encode 290 / 800 test items, similarity, metrics) of the
   trained model (paper: 2.7 s for 290 pairs, 5.6 s for 800).
3. AMP vs fp32: the tiny config trained 3 epochs on learnable synthetic data (captions name a
   concept, snippets are its prototype plus noise), twice in fp32 (seeds 0, 1: the noise) and once
   with AMP: |SumR_amp - SumR_fp32| must be within max(3 |fp32 seed 0 - seed 1|, 5) points.
Prints one table. ``--dry-run``: CPU, 64 videos, lengths <= 32, tiny sizes (checks the script).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ADJ = ["red", "blue", "green", "black", "white", "small", "large", "fast"]
NOUN = ["car", "dog", "man", "door", "fire", "shop", "road", "crowd"]


class LazyVideos:
    """Videos generated on access (seeded per index): lengths ``lengths``, streams 1024-d,
    optional 128-d audio; ``concepts`` > 0 makes snippets = prototype + noise and the caption
    name the concept (learnable), else pure noise."""

    def __init__(self, lengths, *, audio=False, concepts=0, seed=0, dim=1024):
        self.lengths = [int(t) for t in lengths]
        self.audio, self.concepts, self.seed, self.dim = audio, concepts, seed, dim
        rng = np.random.default_rng(1234)
        self.protos = rng.normal(size=(max(concepts, 1), dim)).astype(np.float32)

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, i])
        t = self.lengths[i]
        c = i % max(self.concepts, 1)
        base = self.protos[c] if self.concepts else 0.0
        item = {
            "index": i,
            "video_id": f"s{self.seed}_{i}",
            "video_label": float(i % 2),
            "snippet_labels": np.full(t, -1, np.int8),
            "class": "x",
            "text": f"a {ADJ[c % 8]} {NOUN[(c // 8) % 8]} in scene {i % 7}",
        }
        for s in ("rgb", "flow"):
            item[s] = (base + rng.standard_normal((t, self.dim), dtype=np.float32)).astype(
                np.float32
            )
        if self.audio:
            item["audio"] = rng.standard_normal((t, 128), dtype=np.float32)
        return item


def lengths_for(bench, split, n, home, cap, dry):
    """Snippet counts from the metadata's num_frames (source 'metadata'), else log-normal."""
    if home and not dry:
        try:
            from var_bench.benchmarks import get_benchmark
            from var_bench.data.prepare import load_table

            t = load_table(bench, split, home=home)
            if "num_frames" in t.columns and t["num_frames"].notna().all():
                frames = t["num_frames"].to_numpy()
                f = get_benchmark(bench).snippet_frames
                return [max(1, min(cap, int(x) // f)) for x in frames][:n] or None, "metadata"
        except Exception as exc:  # no built metadata on this machine: fall back, say so
            print(f"(lengths for {bench} {split}: {type(exc).__name__}; using log-normal)")
    rng = np.random.default_rng([7, len(bench), n])
    return [
        int(min(cap, max(4, x))) for x in rng.lognormal(np.log(128 if not dry else 16), 0.8, n)
    ], "lognormal"


def run_paper(bench, n_train, n_test, home, dry, dev):
    import torch

    from var_bench.benchmarks import get_benchmark
    from var_bench.training.encode import encode_split, score_matrix, similarity_matrix
    from var_bench.training.loaders import build_eval_loader
    from var_bench.training.rebuild import load_trained_model
    from var_bench.training.runtime import amp_dtype
    from var_bench.training.trainer import train

    cap = 32 if dry else 512
    tr, src = lengths_for(bench, "train", n_train, home, cap, dry)
    te, _ = lengths_for(bench, "test", n_test, home, cap, dry)
    audio = get_benchmark(bench).query_modality == "audio"
    data = {
        "train": LazyVideos(tr, audio=audio, dim=64 if dry else 1024),
        "val": LazyVideos(te[:32], audio=audio, seed=1, dim=64 if dry else 1024),
    }
    config = "tiny" if dry else None
    sets = [
        "train.epochs=1",
        "train.num_workers=4" if not dry else "train.num_workers=0",
        "train.amp=auto",
        "text_model=offline",
    ]
    if dry:
        sets += ["model_args.max_snippets=32"]
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    with tempfile.TemporaryDirectory() as tmp:
        res = train(
            "alan",
            bench,
            config=config,
            out=Path(tmp) / "run",
            device=dev,
            overrides=sets,
            data=data,
            progress=False,
            resume=False,
        )
        e = res.history[0]
        secs = e["seconds"] - e.get("val_seconds", 0.0)
        peak = torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == "cuda" else None
        model, saved, _, _ = load_trained_model(Path(tmp) / "run" / "last", device=dev)
        test = LazyVideos(te, audio=audio, seed=2, dim=64 if dry else 1024)
        amp = amp_dtype("auto", dev)
        t0 = time.perf_counter()
        loader = build_eval_loader(model, test, saved["context"], saved["config"])
        q, g, _, _ = encode_split(model, loader, dev, amp)
        S = similarity_matrix(model, q, g, amp=amp, device=dev)
        score_matrix(get_benchmark(bench), S)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        retrieval = time.perf_counter() - t0
    return {
        "check": f"{bench} paper config, 1 epoch AMP",
        "videos": len(tr),
        "lengths": src,
        "s/epoch": secs,
        "samples/s": len(tr) / secs,
        "peak GiB": peak,
        "test retrieval s": retrieval,
        "test pairs": len(te),
    }


def amp_vs_fp32(dev, dry):
    from var_bench.benchmarks import get_benchmark
    from var_bench.training.encode import encode_split, score_matrix, similarity_matrix
    from var_bench.training.loaders import build_eval_loader
    from var_bench.training.rebuild import load_trained_model
    from var_bench.training.runtime import amp_dtype
    from var_bench.training.trainer import train

    n, dim = (64, 64) if dry else (1024, 1024)
    rng = np.random.default_rng(3)
    data = {
        "train": LazyVideos(rng.integers(8, 48, n), concepts=32, dim=dim),
        "val": LazyVideos(rng.integers(8, 48, 64), concepts=32, seed=1, dim=dim),
    }
    test = LazyVideos(rng.integers(8, 48, 290 if not dry else 64), concepts=32, seed=2, dim=dim)
    out = {}
    for label, amp_mode, seed in (
        ("fp32 seed 0", "off", 0),
        ("fp32 seed 1", "off", 1),
        ("amp seed 0", "auto", 0),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            train(
                "alan",
                "ucfcrime-ar",
                config="tiny",
                out=Path(tmp) / "r",
                device=dev,
                data=data,
                overrides=[
                    f"train.epochs={1 if dry else 3}",
                    f'train.amp="{amp_mode}"',
                    f"train.seed={seed}",
                    "model_args.vpmpm=false",
                ],
                progress=False,
                resume=False,
            )
            model, saved, _, _ = load_trained_model(Path(tmp) / "r" / "last", device=dev)
            amp = amp_dtype(amp_mode, dev)
            loader = build_eval_loader(model, test, saved["context"], saved["config"])
            q, g, _, _ = encode_split(model, loader, dev, amp)
            out[label] = score_matrix(
                get_benchmark("ucfcrime-ar"), similarity_matrix(model, q, g, amp=amp, device=dev)
            )[1]
    noise = max(3 * abs(out["fp32 seed 0"] - out["fp32 seed 1"]), 5.0)
    diff = out["amp seed 0"] - out["fp32 seed 0"]
    return out, diff, noise, abs(diff) <= noise


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default=None, help="data home with built metadata (frame counts)")
    ap.add_argument("--dry-run", action="store_true", help="CPU, small sizes: checks the script")
    args = ap.parse_args()

    import torch

    from var_bench.tables import render_table

    dev = torch.device("cuda" if torch.cuda.is_available() and not args.dry_run else "cpu")
    if dev.type != "cuda" and not args.dry_run:
        print("gpu_check: expected a CUDA device, got none (use --dry-run on CPU)")
        return 2
    t0 = time.perf_counter()
    small = args.dry_run
    rows = []
    for bench, n_train, n_test in (("ucfcrime-ar", 1610, 290), ("xdviolence-ar", 3954, 800)):
        r = run_paper(
            bench, 64 if small else n_train, 32 if small else n_test, args.home, small, dev
        )
        rows.append(
            [
                r["check"],
                r["videos"],
                r["lengths"],
                f"{r['s/epoch']:.1f}",
                f"{r['samples/s']:.1f}",
                "-" if r["peak GiB"] is None else f"{r['peak GiB']:.2f}",
                f"{r['test retrieval s']:.2f} ({r['test pairs']} pairs)",
            ]
        )
    sums, diff, noise, ok = amp_vs_fp32(dev, small)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU (dry run)"
    print(
        f"device: {name}; torch {torch.__version__}; text model: offline MiniLM (no BERT weights)"
    )
    print(
        render_table(
            ["check", "videos", "lengths", "s/epoch", "samples/s", "peak GiB", "test retrieval s"],
            rows,
        )
    )
    print(
        "AMP vs fp32 test SumR (tiny config, learnable synthetic data): "
        + ", ".join(f"{k} {v:.1f}" for k, v in sums.items())
        + f"; difference {diff:+.1f}, noise band +-{noise:.1f}: "
        f"{'within noise' if ok else 'OUTSIDE noise'}"
    )
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
