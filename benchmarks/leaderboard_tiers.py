"""What tiers cost: building a leaderboard with K verified user records, with and without the
pairwise tier tests, and rendering it as HTML (the matplotlib plot).

    python benchmarks/leaderboard_tiers.py [--users 5 10 20] [--benchmark ucfcrime-ar]

Baseline (same run): verification + ranking only (``pair_tests`` replaced by no tests). Prints per
K: seconds for the baseline, with tiers, their ratio, the number of paired tests (K (K - 1) / 2,
Holm over them) and the HTML render time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from leaderboard.records_factory import fake_ids_hash, make_record  # noqa: E402

from var_bench.leaderboard import board as board_mod  # noqa: E402
from var_bench.leaderboard import build_leaderboard, render  # noqa: E402


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, nargs="+", default=[5, 10, 20])
    ap.add_argument("--benchmark", default="ucfcrime-ar")
    args = ap.parse_args()
    real = board_mod.pair_tests
    print(
        f"{'users':>5} {'baseline s':>10} {'tiers s':>8} {'ratio':>6} {'paired':>6} {'html s':>7}"
    )
    for k in args.users:
        records = [
            (
                f"u{i}.json",
                make_record(args.benchmark, seed=i, skill=0.02 + 0.01 * i, name=f"user {i}"),
            )
            for i in range(k)
        ]
        board_mod.pair_tests = lambda *a, **kw: []
        base = _time(
            lambda records=records: build_leaderboard(
                args.benchmark, records=records, ids_hash=fake_ids_hash
            )
        )
        board_mod.pair_tests = real
        built = {}
        tiers = _time(
            lambda built=built, records=records: built.setdefault(
                "b", build_leaderboard(args.benchmark, records=records, ids_hash=fake_ids_hash)
            )
        )
        paired = sum(1 for t in built["b"].tests if t.p_value is not None)
        html = _time(lambda built=built: render(built["b"], "html"))
        print(f"{k:>5} {base:>10.2f} {tiers:>8.2f} {tiers / base:>6.1f} {paired:>6} {html:>7.2f}")


if __name__ == "__main__":
    main()
