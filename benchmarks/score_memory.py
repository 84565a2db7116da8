"""Peak resident memory of scoring a memory-mapped 30,000 x 30,000 float32 .npy (3.6 GB).

Target: under 1 GB peak RSS while counting both directions and summarising them, i.e. the
scorer holds row blocks, never the matrix. The matrix is written in row chunks to a temporary
folder on disk (never held in memory here), scored in a child process that reports its own
peak RSS (``VmHWM`` from /proc/self/status on Linux: ``ru_maxrss`` would also count the parent's
memory at fork time), and deleted afterwards. A second child that only imports the toolkit and
opens the memmap gives the baseline in the same run. Exit status 1 if the target fails.

    python benchmarks/score_memory.py                  # ~1-2 minutes, 3.6 GB of free disk
    python benchmarks/score_memory.py --n 10000 --dir /var/tmp
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RSS_TARGET_BYTES = 1 << 30

CHILD = r"""
import json, resource, sys, time
import numpy as np
from var_bench.tasks.retrieval.counting import count_ranks
from var_bench.tasks.retrieval.ranks import summarise
S = np.load(sys.argv[1], mmap_mode="r")
t0 = time.perf_counter()
if sys.argv[2] == "score":
    rows, cols = count_ranks(S)
    summary = {"rows": summarise(rows), "cols": summarise(cols)}
else:
    summary = None
seconds = time.perf_counter() - t0
def peak_rss():
    # VmHWM: this process image's high-water mark. ru_maxrss also keeps the pre-exec image's peak,
    # i.e. the parent's RSS at fork time.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    kib = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib
print(json.dumps({"maxrss": peak_rss(), "seconds": seconds, "summary": summary}))
"""


def write_matrix(path: Path, n: int, seed: int, chunk_rows: int = 1000) -> None:
    """An n x n float32 .npy with a planted signal on the diagonal, written chunk by chunk."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, n))
    for i0 in range(0, n, chunk_rows):
        i1 = min(i0 + chunk_rows, n)
        block = rng.random((i1 - i0, n), dtype=np.float32)
        block[np.arange(i1 - i0), np.arange(i0, i1)] += 0.999  # true items mostly on top
        out[i0:i1] = block
    out.flush()
    del out


def run_child(path: Path, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=30000)
    p.add_argument("--dir", default=None, help="where to write the temporary .npy (on disk)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="var-bench-memory-", dir=args.dir) as tmp:
        path = Path(tmp) / "scores.npy"
        t0 = time.perf_counter()
        write_matrix(path, args.n, args.seed)
        size = path.stat().st_size
        print(
            f"wrote {args.n} x {args.n} float32 .npy: {size / 1e9:.2f} GB "
            f"({size / 2**30:.2f} GiB) in {time.perf_counter() - t0:.1f} s"
        )
        base = run_child(path, "open")
        scored = run_child(path, "score")
    rss = scored["maxrss"]
    print(f"baseline child (import + np.load mmap): peak RSS {base['maxrss'] / 2**20:.0f} MiB")
    print(
        f"scoring child (count_ranks + summarise): peak RSS {rss / 2**20:.0f} MiB in "
        f"{scored['seconds']:.1f} s; {rss / size * 100:.1f}% of the file, "
        f"+{(rss - base['maxrss']) / 2**20:.0f} MiB over baseline"
    )
    r1 = scored["summary"]["rows"]["R@1"]
    print(f"  (sanity: R@1 rows {r1:.2f}, cols {scored['summary']['cols']['R@1']:.2f})")
    ok = rss < RSS_TARGET_BYTES
    print(
        f"peak RSS {rss / 2**20:.0f} MiB   target < {RSS_TARGET_BYTES / 2**20:.0f} MiB   "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
