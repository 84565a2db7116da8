"""The leaderboard: the paper's published table merged with verified user result records.

``build_leaderboard`` (:mod:`.board`) ranks the entries; ``render`` / ``write_leaderboard``
(:mod:`.write`) turn a board into Markdown, HTML or JSON; :mod:`.adapters` export a record to
challenge platforms.
"""

from var_bench.leaderboard.board import ORDERS, Leaderboard, build_leaderboard, rank_entries
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.published import PublishedRow, PublishedTable, published_table
from var_bench.leaderboard.verify import IdsHash, VerifiedRecord, load_records, verify_record
from var_bench.leaderboard.write import FORMATS, RENDERERS, render, write_leaderboard

__all__ = [
    "FORMATS",
    "ORDERS",
    "RENDERERS",
    "Entry",
    "IdsHash",
    "Leaderboard",
    "PublishedRow",
    "PublishedTable",
    "VerifiedRecord",
    "build_leaderboard",
    "load_records",
    "published_table",
    "rank_entries",
    "render",
    "verify_record",
    "write_leaderboard",
]
