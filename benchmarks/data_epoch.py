"""A training epoch's data path: batches/s of the store loader vs indexing in-memory tensors.

    python benchmarks/data_epoch.py [--mirror ../shared/data] [--videos 290] [--snippets 64]
                                    [--batch-size 32] [--epochs 5] [--crops mean|all]

Setup (not timed): the UCFCrime-AR metadata is built from the mirror into a temporary home, a raw
``ucf-crops`` tree (10 crops of ``[T, 1024]`` float32, T drawn around ``--snippets``) is written
for the first ``--videos`` test videos and converted by ``build_features`` (``--crops``).

Timed, alternating in one process (same page cache, best of ``--epochs``):
  memory   the items already in memory (every row's arrays copied into a list of dicts once),
           shuffled, batched by ``torch.utils.data.DataLoader`` over that list with the trainer's
           collate (``make_collate``: pad + masks, ``max_snippets`` 64)
  store    the same DataLoader and collate over ``FeatureDataset`` of the memory-mapped store
           (``crop="random"`` for an all-crops store, as training draws a crop per item)
The "model" does nothing (it touches one value per batch). Target (issue 13): store >= 0.8x the
batches/s of memory. Prints one PASS/FAIL line; exit status 1 if it fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--videos", type=int, default=290)
    ap.add_argument("--snippets", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--crops", default="mean", choices=["mean", "all"])
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    import torch
    from features_load import write_raw_tree
    from torch.utils.data import DataLoader

    import var_bench
    from var_bench.data.prepare import load_table
    from var_bench.features import build_features
    from var_bench.loaders import FeatureDataset, make_collate

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        var_bench.download("ucfcrime-ar", home=home, mirror=args.mirror, progress=False)
        test = load_table("ucfcrime-ar", "test", home=home, download=False).head(args.videos)
        write_raw_tree(tmp / "raw", list(test["video_id"]), list(test["class"]), args.snippets, 10)
        build_features(
            "ucfcrime-ar",
            tmp / "raw",
            crops=args.crops,
            allow_missing=True,
            home=home,
            progress=False,
        )
        crop = "random" if args.crops == "all" else "mean"
        store = FeatureDataset.from_benchmark("ucfcrime-ar", "test", home=home, crop=crop, seed=0)
        # The in-memory baseline: each item computed once, arrays copied out of the store.
        memory = [
            {k: (v.copy() if hasattr(v, "copy") else v) for k, v in store[i].items()}
            for i in range(len(store))
        ]
        collate = make_collate(streams=("rgb",), max_snippets=64, seed=0)

        def epoch(dataset) -> tuple[float, int]:
            g = torch.Generator().manual_seed(0)
            loader = DataLoader(
                dataset,
                batch_size=args.batch_size,
                shuffle=True,
                generator=g,
                collate_fn=collate,
                num_workers=0,
            )
            t0 = time.perf_counter()
            n = 0
            for batch in loader:
                n += 1
                _ = float(batch["rgb"][0, 0, 0])  # the model that does nothing
            return time.perf_counter() - t0, n

        best = {"memory": float("inf"), "store": float("inf")}
        batches = 0
        for _ in range(args.epochs):
            for name, ds in (("memory", memory), ("store", store)):
                seconds, batches = epoch(ds)
                best[name] = min(best[name], seconds)
    rate = {k: batches / v for k, v in best.items()}
    ratio = rate["store"] / rate["memory"]
    print(
        f"{len(memory)} videos, --crops {args.crops}, batch {args.batch_size}, {batches} "
        f"batches per epoch, best of {args.epochs}"
    )
    print(f"{'path':<8}{'epoch s':>10}{'batches/s':>12}")
    for k in ("memory", "store"):
        print(f"{k:<8}{best[k]:>10.4f}{rate[k]:>12.1f}")
    ok = ratio >= 0.8
    print(f"{'PASS' if ok else 'FAIL'} store batches/s >= 0.8x in-memory: {ratio:.2f}x")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
