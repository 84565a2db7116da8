"""Time and peak memory of building both benchmarks from a warm cache.

    python benchmarks/build_bench.py [--mirror ../shared/data] [--repeats 3]

Each measurement runs in a fresh child process (so imports and peak RSS are its own):
  baseline   import the toolkit and parse the raw files with openpyxl / plain reads (the floor)
  build      var_bench.download(rebuild=True) with every raw file already verified in the cache
             (no network): verify (sha256) + parse + check + write Parquet and card, both benchmarks
  no-op      var_bench.download() again: the second run, which must do no work but verification
Prints wall seconds (median of --repeats), peak RSS (MiB), and ratios against the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import var_bench.data.prepare as data
from var_bench.benchmarks import BENCHMARKS
from var_bench.data.paths import raw_dir
from var_bench.benchmarks import source
mode, home = sys.argv[1], sys.argv[2]
t1 = time.perf_counter()
if mode == "baseline":
    import openpyxl
    for spec in BENCHMARKS.values():
        for key in spec.sources.values():
            p = raw_dir(home) / source(key).key
            if p.suffix == ".xlsx":
                wb = openpyxl.load_workbook(p, read_only=True)
                rows = list(wb.worksheets[0].iter_rows(values_only=True))
                wb.close()
            else:
                p.read_text("utf-8").split()
elif mode == "build":
    data.download(home=home, rebuild=True, progress=False)
else:
    data.download(home=home, progress=False)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t0, "work": t2 - t1,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(mode: str, home: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, home], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--mirror", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import var_bench.data.prepare as data

    with tempfile.TemporaryDirectory() as home:
        data.download(home=home, mirror=args.mirror, progress=False)  # warm the cache
        rows = {}
        for mode in ("baseline", "build", "no-op"):
            runs = [child(mode, home) for _ in range(args.repeats)]
            rows[mode] = {
                "seconds": statistics.median(r["seconds"] for r in runs),
                "work": statistics.median(r["work"] for r in runs),
                "peak_mib": max(r["peak_mib"] for r in runs),
            }
    base = rows["baseline"]
    print(
        f"{'run':<10}{'total s':>9}{'work s':>9}{'work x baseline':>17}{'peak MiB':>10}"
        f"{'x baseline':>12}"
    )
    for mode, r in rows.items():
        print(
            f"{mode:<10}{r['seconds']:>9.3f}{r['work']:>9.3f}{r['work'] / base['work']:>17.2f}"
            f"{r['peak_mib']:>10.1f}{r['peak_mib'] / base['peak_mib']:>12.2f}"
        )
    print(
        "total = process incl. imports; work = after imports; both benchmarks, warm cache, "
        "no network"
    )


if __name__ == "__main__":
    main()
