"""The Ray Data path of ``var-bench extract --ray`` against one process with decoding threads.

    python benchmarks/ray_extract.py [--device cpu|cuda] [--model i3d-rgb|i3d-flow|clip-vit-b16]
        [--videos 6] [--frames 160] [--resize 40 --crop 32 --crops 1] [--batch 8]
        [--workers 2] [--encoders 2] [--address ADDRESS] [--threads N]

Setup (not timed): ``--videos`` synthetic H.264 videos of ``--frames`` frames (320 x 240) in a
temporary folder; the exact architecture with random weights (speed does not depend on them).

Measured in one run, on the same videos and model:

  one process   the single-process extractor (``var-bench extract --workers W``: W decoding
                threads ahead of the model in one process), snippets/s
  ray           ``map_videos`` with W decoding workers and E encoding workers on Ray Data (a
                local Ray unless ``--address``), snippets/s; Ray's start-up is timed apart
  equal         whether both produced the same features, array for array

On a CPU-only machine both sides share the same cores, so the ratio shows Ray's overhead, not
the GPU-cluster speed-up the path exists for; the output says which device ran.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default="i3d-rgb", choices=["i3d-rgb", "i3d-flow", "clip-vit-b16"])
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--frames", type=int, default=160)
    ap.add_argument("--resize", type=int, default=40)
    ap.add_argument("--crop", type=int, default=32)
    ap.add_argument("--crops", type=int, default=1, choices=[1, 5, 10])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--encoders", type=int, default=2)
    ap.add_argument("--address", default=None, help="a Ray cluster (default: a local Ray)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    a = ap.parse_args(argv)

    import numpy as np
    import ray
    import torch
    from support.videos import temp_videos

    from var_bench.extract import pipeline as P
    from var_bench.extract.distributed import RayOptions, map_videos
    from var_bench.extract.flow import make_flow
    from var_bench.extract.models import load_encoder
    from var_bench.extract.recipes import RECIPES

    if a.threads:
        torch.set_num_threads(a.threads)
    recipe = RECIPES["ucf-crime-release"].with_options(resize=a.resize, crop=a.crop, crops=a.crops)
    tmp, paths = temp_videos("ray-extract-", a.videos, a.frames, fps=30)
    enc = load_encoder(a.model, "random", device=a.device, recipe=recipe)
    flow = make_flow("tvl1") if a.model == "i3d-flow" else None

    # one process, W decoding threads (the code path of var-bench extract without --ray)
    plan = P._Plan(a.model, recipe, enc, flow, a.batch, tmp / "out")
    jobs = [P._Job(p.stem, p, []) for p in paths]
    t = time.perf_counter()
    single = {
        job.stem: P._encode_video(plan, items, lambda s: None)[0]
        for job, items in P._pipelined(jobs, P._produce_visual(plan), a.workers)
    }
    one_s = time.perf_counter() - t
    snippets = sum(len(f) for f in single.values())

    # Ray Data: W decoding workers, E encoding workers
    t = time.perf_counter()
    ray.init(
        address=a.address,
        num_cpus=None if a.address else max(2, a.workers + a.encoders),
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
    )
    start_s = time.perf_counter() - t
    gpus = 1 if a.device.startswith("cuda") else 0
    opts = RayOptions(a.address, a.workers, a.encoders, num_gpus=gpus)
    encoder = functools.partial(
        P._ray_encoder, a.model, "random", "cuda" if gpus else "cpu", recipe, "fp32", None, None,
        False,
    )  # fmt: skip
    t = time.perf_counter()
    on_ray = {
        stem: out["feats"]
        for stem, out in map_videos(
            [(p.stem, p) for p in paths],
            functools.partial(P._ray_decode, a.model, recipe, a.batch),
            encoder,
            ray=opts,
        )
    }
    ray_s = time.perf_counter() - t
    ray.shutdown()
    equal = sorted(single) == sorted(on_ray) and all(
        np.array_equal(single[k], on_ray[k]) for k in single
    )

    dev = torch.cuda.get_device_name(0) if gpus else "CPU only"
    print(
        f"device: {dev}; model {a.model} (exact architecture, random weights), "
        f"{a.crops} crop(s) of {a.crop} px, batch {a.batch}; {a.videos} videos x {a.frames} frames"
        f" = {snippets} snippets; torch threads {torch.get_num_threads()}"
    )
    print(f"one process, {a.workers} decoding threads : {snippets / one_s:8.2f} snippets/s")
    print(
        f"ray, {a.workers} decoders + {a.encoders} encoders : {snippets / ray_s:8.2f} snippets/s "
        f"(+ {start_s:.1f} s to start Ray)"
    )
    print(f"ratio ray / one process           : {one_s / ray_s:8.2f} x ({dev})")
    print(f"equal, array for array            : {equal}")
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
