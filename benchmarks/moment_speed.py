"""Scoring speed of the moment tasks at UCA's test size, against a plain-Python scorer.

    python benchmarks/moment_speed.py [--queries 4331] [--videos 310] [--per-query 100]
                                      [--repeats 3]

A synthetic corpus-moment submission of UCA's shape (4,331 queries x 100 ranked (video, start,
end, score) predictions over 310 videos, scores rounded so that ties occur) is scored three ways:

* ``read``: the JSON Lines file parsed and checked (``read_moments``), reported, not targeted;
* ``kernel``: ``MomentRetrieval.score`` + every metric under the official rule on the read
  predictions (the vectorised kernel, ``var_bench.tasks.moments.kernel``);
* ``python``: the same counts and credits computed query by query in plain Python (the baseline,
  in the same run); both must give the same metrics.

Target: the kernel under 0.5 s. Prints the times, the ratio and one PASS/FAIL line; exits 1 on
FAIL.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_S = 0.5


def make(n_q: int, n_v: int, per: int, seed: int = 0):
    """(entries, gold) of a synthetic corpus-moment problem."""
    from var_bench.tasks import Gold, IdList

    r = np.random.default_rng(seed)
    videos = [f"v{j:04d}" for j in range(n_v)]
    gv = r.integers(n_v, size=n_q)
    gs = np.round(r.uniform(0, 100, n_q), 1)
    ge = np.round(gs + r.uniform(1, 30, n_q), 1)
    entries = []
    for i in range(n_q):
        vids = r.integers(n_v, size=per)
        vids[: per // 10] = gv[i]
        st = np.round(r.uniform(0, 120, per), 1)
        en = np.round(st + r.uniform(0.5, 30, per), 1)
        sc = np.round(r.standard_normal(per), 1)
        preds = {(int(v), float(s), float(e)): float(c) for v, s, e, c in zip(vids, st, en, sc)}
        entries.append(
            {
                "query_id": f"q{i}",
                "predictions": [[videos[v], s, e, c] for (v, s, e), c in preds.items()],
            }
        )
    gold = Gold(
        IdList.of([f"q{i}" for i in range(n_q)]),
        IdList.of(videos),
        (np.arange(n_q + 1), gv),
        segments=np.stack([gs, ge], axis=1),
    )
    return entries, gold


def python_scores(entries, gold) -> dict[str, float]:
    """Every corpus metric, query by query, in plain Python (expected tie rule)."""
    videos = {v: j for j, v in enumerate(gold.gallery.ids())}
    n_v = len(videos)
    gv = [int(x) for x in gold.positives[1]]
    segs = gold.segments.tolist()

    def iou(a, b):
        inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
        union = (a[1] - a[0]) + (b[1] - b[0]) - inter
        return inter / union if union > 0 else float(a == b)

    def cred(b, e, t, k):
        if t == 0:
            return 0.0
        j = min(max(k - b, 0), e + t)
        return 1.0 - math.comb(e, j) / math.comb(e + t, j)

    sums: dict[str, float] = {}
    for i, entry in enumerate(entries):
        preds = [(videos[p[0]], p[1], p[2], p[3]) for p in entry["predictions"]]
        best: dict[int, float] = {}
        for v, _, _, s in preds:
            best[v] = max(best.get(v, -math.inf), s)
        d = best.get(gv[i], -math.inf)
        if d == -math.inf:
            b, e, t = len(best), n_v - 1 - len(best), 1
        else:
            b = sum(1 for v, s in best.items() if v != gv[i] and s > d)
            e = sum(1 for v, s in best.items() if v != gv[i] and s == d)
            t = 1
        for k in (1, 5, 10):
            sums[f"R@{k}"] = sums.get(f"R@{k}", 0.0) + cred(b, e, t, k)
        for m in (0.3, 0.5, 0.7):
            hits = [v == gv[i] and iou((st, en), segs[i]) >= m for v, st, en, _ in preds]
            if any(hits):
                h = max(p[3] for p, hit in zip(preds, hits) if hit)
                b = sum(1 for p, hit in zip(preds, hits) if not hit and p[3] > h)
                e = sum(1 for p, hit in zip(preds, hits) if not hit and p[3] == h)
                t = sum(1 for p, hit in zip(preds, hits) if hit and p[3] == h)
            else:
                b, e, t = 100, 0, 0
            for k in (1, 5, 10):
                key = f"R@{k},IoU={m}"
                sums[key] = sums.get(key, 0.0) + cred(b, e, t, k)
    return {k: 100.0 * v / len(entries) for k, v in sums.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=4331)
    ap.add_argument("--videos", type=int, default=310)
    ap.add_argument("--per-query", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from var_bench.tasks.moments import MomentRetrieval

    task = MomentRetrieval("moments")
    entries, gold = make(args.queries, args.videos, args.per_query)
    tmp = Path(tempfile.mkdtemp(prefix="moments-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    path = tmp / "preds.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    n_pred = sum(len(e["predictions"]) for e in entries)

    read_s, kernel_s = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        pred = task.read(path, gold, benchmark="synthetic")
        t1 = time.perf_counter()
        per_query = task.score(pred, gold)["vcmr"]
        metrics = task.summarise(per_query, None)
        t2 = time.perf_counter()
        read_s.append(t1 - t0)
        kernel_s.append(t2 - t1)
    t0 = time.perf_counter()
    reference = python_scores(entries, gold)
    python_s = time.perf_counter() - t0
    same = all(abs(metrics[k] - reference[k]) < 1e-9 for k in reference)

    kernel = min(kernel_s)
    print(f"{args.queries} queries x {n_pred / args.queries:.1f} predictions, {args.videos} videos")
    print(f"read + check the JSONL file : {min(read_s):.3f} s")
    print(f"kernel (score + summarise)  : {kernel:.3f} s")
    print(f"plain Python, same metrics  : {python_s:.3f} s  ({python_s / kernel:.0f}x the kernel)")
    print(f"metrics equal to the plain-Python scorer: {same}")
    ok = kernel < TARGET_S and same
    print(f"{'PASS' if ok else 'FAIL'}: kernel {kernel:.3f} s < {TARGET_S} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
