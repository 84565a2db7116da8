"""The data stage: pinned upstream files -> verified cache -> assembled Parquet tables + card.

``download`` fetches and assembles; ``ids`` and ``load_table`` read the assembled tables.
"""

from var_bench.data.prepare import download, ensure_built, ids, load_table  # noqa: F401

__all__ = ["download", "ensure_built", "ids", "load_table"]
