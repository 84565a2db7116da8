"""UCA search speed: index UCA's 310 test videos and answer its 4,331 test sentences.

A temporary data home gets UCFCrime-AR and UCA from the mirror and a synthetic UCFCrime-AR feature
store (the ``ucf-crime`` collection's, which UCA reads by video id); a tiny ALAN (``alan-tiny``,
one epoch on a few train videos: the weights do not change the cost) is the trained model. Then:

1. ``Index.build(ckpt, "uca", split="test")``: 310 videos, whole and in windows; baseline in the
   same run: encoding the 310 whole videos once (what ``evaluate`` does);
2. ``Index.moments`` for every test sentence (top 100 videos, each with its best window: the
   moment submission ``var-bench search --moments`` writes); baseline in the same run: the same
   answers by brute force in numpy on the model's search vectors (query x video and query x
   window inner products, argsort, per-video argmax), after the same query encoding;
3. one query's latency (``Index.search``, top 10, exact), p50 over ``--latency`` queries.

    python benchmarks/uca_search_speed.py [--mirror ../shared/data] [--snippets 32]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def brute_force(qv, gv, wv, spans, videos, sec, top):
    """The moments of ``Index.moments`` in plain numpy: top videos by ``qv @ gv.T``, each with
    its best window by ``qv @ wv.T``."""
    S = qv @ gv.T
    W = qv @ wv.T
    order = np.argsort(-S, axis=1, kind="stable")[:, :top]
    by_video = [np.flatnonzero(spans[:, 0] == j) for j in range(len(videos))]
    out = []
    for i in range(len(qv)):
        row = []
        for j in order[i]:
            rows = by_video[j]
            best = rows[int(np.argmax(W[i, rows]))]
            row.append([videos[j], spans[best, 1] * sec, spans[best, 2] * sec, float(S[i, j])])
        out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mirror", default="../shared/data")
    ap.add_argument("--snippets", type=int, default=32, help="Snippets per synthetic video.")
    ap.add_argument("--top", type=int, default=100)
    ap.add_argument("--latency", type=int, default=20, help="Single queries timed.")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    torch.set_num_threads(2)

    from var_bench import load_table
    from var_bench.data.prepare import download
    from var_bench.features import build_features
    from var_bench.loaders import FeatureDataset
    from var_bench.loaders.hf import load_dataset
    from var_bench.search import Index
    from var_bench.synth import synthesize
    from var_bench.training.trainer import train

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = root / "home"
        t0 = time.perf_counter()
        download(["ucfcrime-ar", "uca"], home=home, mirror=args.mirror, progress=False)
        made = synthesize(
            root / "tree", "ucfcrime-ar", home=home, progress=False, crops=1, snippets=args.snippets
        )
        build_features("ucfcrime-ar", made.paths["features"], home=home, progress=False)
        small = {
            s: FeatureDataset(
                load_dataset("ucfcrime-ar", s, features=True, home=home).select(range(n)),
                text_column="caption_en",
            )
            for s, n in (("train", 64), ("val", 32))
        }
        result = train(
            "alan",
            "ucfcrime-ar",
            config="tiny",
            out=root / "run",
            home=home,
            device="cpu",
            overrides=("train.epochs=1",),
            data=small,
            progress=False,
        )
        print(f"setup (download, synth store, 1-epoch alan-tiny): {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        index = Index.build(
            result.best_checkpoint, "uca", root / "index", home=home, device="cpu", progress=False
        )
        build_s = time.perf_counter() - t0
        from var_bench.search import store_gallery

        gallery = store_gallery("uca", "test", home=home)
        t0 = time.perf_counter()
        index._encode_gallery([gallery.items[i] for i in range(len(gallery))])
        encode_s = time.perf_counter() - t0
        n_win = len(index.info.windows)
        print(
            f"index build: {len(index.info.videos)} videos, {n_win} windows: {build_s:.2f} s; "
            f"baseline (the 310 whole videos encoded once): {encode_s:.2f} s; "
            f"ratio {build_s / encode_s:.1f}x"
        )

        sentences = load_table("uca", "test", home=home)["sentence"].tolist()
        t0 = time.perf_counter()
        found = index.moments(sentences, top=args.top)
        moments_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        q = index._encode_queries(sentences)
        enc_q = time.perf_counter() - t0
        m = index.model
        with torch.no_grad():
            qv = m.search_vectors(q, "query").float().numpy()
            gv = m.search_vectors(index._gallery, "gallery").float().numpy()
            wv = m.search_vectors(index._windows, "gallery").float().numpy()
        spans = np.asarray(index.info.windows, dtype=np.int64).reshape(-1, 3)
        sec = index.info.snippet_frames / index.info.fps
        t0 = time.perf_counter()
        ref = brute_force(qv, gv, wv, spans, index.info.videos, sec, args.top)
        numpy_s = time.perf_counter() - t0
        same_video = np.mean([a[0][0] == b[0][0] for a, b in zip(found, ref)])
        same_span = np.mean(
            [
                abs(a[0][1] - round(b[0][1], 3)) < 1e-6 and abs(a[0][2] - round(b[0][2], 3)) < 1e-6
                for a, b in zip(found, ref)
            ]
        )
        base = enc_q + numpy_s
        print(
            f"moments: {len(sentences)} sentences x {args.top}: {moments_s:.2f} s; baseline "
            f"(same query encoding {enc_q:.2f} s + numpy brute force {numpy_s:.2f} s): "
            f"{base:.2f} s; ratio {moments_s / base:.2f}x; top-1 video agrees "
            f"{100 * same_video:.1f} %, its span {100 * same_span:.1f} %"
        )

        times = []
        for s in sentences[: args.latency]:
            t0 = time.perf_counter()
            index.search(s, top=10)
            times.append(time.perf_counter() - t0)
        print(
            f"one query (search, top 10, exact): p50 {1e3 * np.median(times):.1f} ms over "
            f"{len(times)} queries"
        )


if __name__ == "__main__":
    main()
