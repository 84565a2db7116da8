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


def local_test_table(benchmark: str, home: str | os.PathLike | None = None) -> Any:
    """The built test split of ``benchmark`` as a DataFrame, or None when it is not built here."""
    from var_bench.data.prepare import load_table

    try:
        return load_table(benchmark, "test", home=home, download=False)
    except (VarBenchError, OSError) as e:
        log.info("%s: no built test table (%s); per-class tables of records are dropped",
                 benchmark, " ".join(str(e).split()))
        return None
