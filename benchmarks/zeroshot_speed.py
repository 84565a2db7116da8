"""Zero-shot encoding speed: the whole pipeline vs the model's forward pass alone, decode speed,
the text tower on 290 captions, a cached rerun and (``--ucf``) a 290-video UCFCrime-AR run.

    python benchmarks/zeroshot_speed.py [--device cpu|cuda] [--model clip-vit-b16]
        [--videos 8] [--seconds 8] [--fps 2] [--max-frames 16] [--repeats 2] [--threads N]
        [--ucf --home DATA_HOME]

Setup (not timed): ``--videos`` synthetic H.264 videos (320 x 240, 30 fps, ``--seconds`` long, a
moving square) in a temporary folder; the model is the exact architecture with random weights
(``--weights random``: speed does not depend on the values).

Measured in one run (best of ``--repeats``; every figure labelled with its device):

  decode     sampled frames/s of decoding alone (PyAV, the index rule), one thread
  forward    frames/s of the model's forward pass alone on the same frames, preprocessed
             beforehand (the baseline: what the device can do)
  pipeline   frames/s of the whole zero-shot step (decode ahead in threads, preprocessing,
             forward, pooling), no cache
  overhead   forward / pipeline (target <= 1.2 on a GPU, where decoding overlaps the model;
             PASS / FAIL printed only with --device cuda)
  text       seconds for 290 captions through the text tower
  cached     seconds of the same pipeline again with a warm embedding cache (nothing encoded)

``--ucf``: 290 synthetic videos named by UCFCrime-AR's test ids (metadata built in ``--home``, e.g.
``var-bench download --mirror ../shared/data``) through ``var-bench zeroshot``'s library call and
``score``: end-to-end seconds and videos/s (what ``benchmarks/gpu_check.sh`` runs on a GPU).
Exit status 1 when a printed target fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402


def best(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def sync(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default="clip-vit-b16")
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--max-frames", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--ucf", action="store_true", help="also the 290-video UCFCrime-AR run")
    ap.add_argument("--home", default=None, help="data home with UCFCrime-AR built (--ucf)")
    args = ap.parse_args()

    import torch
    from support.videos import write_video

    from var_bench.zeroshot import get_encoder
    from var_bench.zeroshot.cache import EmbeddingCache, model_key
    from var_bench.zeroshot.run import frame_entries
    from var_bench.zeroshot.sampling import decode_video

    if args.threads:
        torch.set_num_threads(args.threads)
    label = "GPU" if args.device.startswith("cuda") else "CPU"
    enc = get_encoder(args.model, "random", args.device, fps=args.fps, max_frames=args.max_frames)
    rows, ok = [], True
    with tempfile.TemporaryDirectory(prefix="zs-speed-") as tmp:
        tmp = Path(tmp)
        n = int(args.seconds * 30)
        paths = {
            f"v{i}": write_video(tmp / f"v{i}.mp4", n, fps=30, height=240, width=320, seed=i)
            for i in range(args.videos)
        }
        t_dec, decoded = best(
            lambda: [decode_video(p, args.fps, args.max_frames) for p in paths.values()],
            args.repeats,
        )
        frames = sum(len(f) for f in decoded)
        rows.append(("decode", frames / t_dec, "sampled frames/s (one thread)"))
        pre = [enc.preprocess(f) for f in decoded]
        sync(args.device)

        def forward():
            out = [enc.encode_preprocessed(x) for x in pre]
            sync(args.device)
            return out

        forward()  # warm-up (cuDNN autotune, allocator)
        t_fwd, _ = best(forward, args.repeats)
        rows.append(("forward", frames / t_fwd, "frames/s, model alone"))
        key = model_key(enc.sampling)
        t_pipe, _ = best(
            lambda: frame_entries(enc, paths, EmbeddingCache(None, key), progress=False),
            args.repeats,
        )
        rows.append(("pipeline", frames / t_pipe, "frames/s, decode + preprocess + forward"))
        overhead = t_pipe / t_fwd
        captions = [f"A person number {i} does something unusual near a car." for i in range(290)]
        t_text, _ = best(lambda: enc.encode_text(captions), args.repeats)
        cache = EmbeddingCache(tmp / "cache", key)
        frame_entries(enc, paths, cache, progress=False)
        t_cached, _ = best(
            lambda: frame_entries(enc, paths, EmbeddingCache(tmp / "cache", key), progress=False),
            args.repeats,
        )
    print(
        f"{args.model} on {label} ({args.device}), {args.videos} videos x {args.seconds:g} s at "
        f"30 fps, sampled at {args.fps:g} fps (max {args.max_frames}): {frames} frames"
    )
    for name, value, unit in rows:
        print(f"  {label} {name:9s} {value:10.1f} {unit}")
    print(f"  {label} overhead  {overhead:10.2f} x (pipeline time / forward time)")
    print(f"  {label} text      {t_text:10.2f} s for 290 captions")
    print(f"  {label} cached    {t_cached:10.3f} s for the {args.videos} videos (nothing encoded)")
    if label == "GPU":
        passed = overhead <= 1.2
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}: GPU overhead {overhead:.2f} <= 1.2")
    if args.ucf:
        ok &= ucf_run(enc, args, label)
    return 0 if ok else 1


def ucf_run(enc, args, label) -> bool:
    from support.videos import write_video

    from var_bench.data.prepare import ids
    from var_bench.errors import VarBenchError
    from var_bench.zeroshot.run import zeroshot

    try:
        test_ids = ids("ucfcrime-ar", "test", home=args.home, download=False)
    except VarBenchError as e:
        print(f"  {label} ucfcrime-ar zero-shot: skipped ({e})")
        return True
    with tempfile.TemporaryDirectory(prefix="zs-ucf-") as tmp:
        tmp = Path(tmp)
        n = int(args.seconds * 30)
        for i, vid in enumerate(test_ids):
            write_video(tmp / "v" / f"{vid}.mp4", n, fps=30, height=240, width=320, seed=i)
        t0 = time.perf_counter()
        res = zeroshot(
            args.model, "ucfcrime-ar", tmp / "v", tmp / "zs.npz", encoder=enc, cache=False,
            home=args.home, progress=False,
        )  # fmt: skip
        sync(args.device)
        seconds = time.perf_counter() - t0
    main = res.record.main_score
    print(
        f"  {label} ucfcrime-ar zero-shot: 290 synthetic videos ({args.seconds:g} s each) in "
        f"{seconds:.1f} s end to end ({290 / seconds:.1f} videos/s, self-check and score "
        f"included); {main} {res.record.summary[main]:.1f} (random weights: chance level)"
    )
    return bool(np.isfinite(res.record.summary[main]))


if __name__ == "__main__":
    sys.exit(main())
