"""The test table (video id, class, anomalous) a leaderboard recomputes per-class tables from.

Only a dataset already built in the data home is used: the leaderboard never downloads. Without
one, records' own per-class tables are dropped (with a note), never shown as stated.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from var_bench.errors import VarBenchError

log = logging.getLogger(__name__)


def local_test_table(
    benchmark: str, home: str | os.PathLike | None = None, *, videos: bool = False
) -> Any:
    """The built test split of ``benchmark`` as a DataFrame (``videos``: its video table), or
    None when it is not built here."""
    from var_bench.data.prepare import load_table

    try:
        return load_table(benchmark, "test", home=home, download=False, videos=videos)
    except (VarBenchError, OSError) as e:
        log.info(
            "%s: no built test table (%s); per-class tables of records are dropped",
            benchmark,
            " ".join(str(e).split()),
        )
        return None


def local_class_tables(
    benchmark: str, task: str | None = None, home: str | os.PathLike | None = None
) -> Any:
    """The class labels per query of a benchmark task's test split: the test table when query i
    of every group is video i (a paired task), else per group its query table or video table;
    None when the benchmark is not built here."""
    from var_bench.benchmarks import get_benchmark

    t = get_benchmark(benchmark).task(task)
    queries = local_test_table(benchmark, home)
    if queries is None or t.paired:
        return queries
    videos = local_test_table(benchmark, home, videos=True)
    return {g: queries if t.query_side(g) else videos for g in t.groups}
