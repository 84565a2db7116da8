"""Search speed: query latency and index build time, exact vs approximate, on synthetic embeddings.

Galleries of N videos (default 290, 10k, 100k, 1M) of unit vectors in d dimensions (default 512,
ALAN's two streams x (g, h) at d = 128 each), clustered around 1000 centres so nearest neighbours
are meaningful. Queries are gallery vectors plus noise. For each N it prints the build time of the
exact index (copying the float32 matrix) and of the HNSW graph, the p50 / p95 latency of one
query (top 10), and the approximate recall@10 against exact search, with the ratio approx/exact.

    python benchmarks/search_speed.py [--sizes 290,10000,100000,1000000] [--dim 512] [--queries 200]

Targets (on a 2-core machine): p50 < 5 ms at 100k exact, < 10 ms at 1M approximate.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from var_bench.search.vectors import VectorIndex, have_usearch


def gallery(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(1000, d)).astype(np.float32)
    x = centres[rng.integers(0, 1000, n)] + 0.8 * rng.normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def latency(index: VectorIndex, queries: np.ndarray, exact: bool) -> tuple[float, float, list]:
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        idx, _ = index.search(q, 10, exact=exact)
        times.append(time.perf_counter() - t0)
        found.append(set(idx.tolist()))
    ms = np.array(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95)), found


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="290,10000,100000,1000000")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"{'N':>9} {'build exact s':>13} {'build hnsw s':>12} {'exact p50 ms':>12} {'p95':>7} "
        f"{'approx p50 ms':>13} {'p95':>7} {'approx/exact':>12} {'recall@10':>9}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        x = gallery(n, args.dim, rng)
        q = x[rng.integers(0, n, args.queries)] + 0.05 * rng.normal(
            size=(args.queries, args.dim)
        ).astype(np.float32)
        t0 = time.perf_counter()
        index = VectorIndex(x.copy())
        build_exact = time.perf_counter() - t0
        e50, e95, exact = latency(index, q, exact=True)
        row = f"{n:>9} {build_exact:>13.3f}"
        if have_usearch():
            t0 = time.perf_counter()
            index.approximate()
            build_hnsw = time.perf_counter() - t0
            a50, a95, approx = latency(index, q, exact=False)
            recall = np.mean([len(a & e) / 10 for a, e in zip(approx, exact)])
            row += (
                f" {build_hnsw:>12.2f} {e50:>12.2f} {e95:>7.2f} {a50:>13.2f} {a95:>7.2f} "
                f"{a50 / e50:>12.2f} {recall:>9.3f}"
            )
        else:
            row += (
                f" {'-':>12} {e50:>12.2f} {e95:>7.2f}  "
                f"(usearch not installed: no approximate index)"
            )
        print(row, flush=True)


if __name__ == "__main__":
    main()
