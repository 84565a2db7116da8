"""The leaderboard: the paper's published table merged with verified user result records.

>>> from var_bench.leaderboard import build_leaderboard, render
>>> board = build_leaderboard("ucfcrime-ar")
>>> [e.method for e in board.entries][:2]
['ALAN', 'X-CLIP']
>>> render(board, "md").splitlines()[0]
'# UCFCrime-AR leaderboard'
"""

from __future__ import annotations

import os
from typing import Any, Callable

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.leaderboard.board import ORDERS, Leaderboard, build_leaderboard, rank_entries
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.published import PublishedRow, PublishedTable, published_table
from var_bench.leaderboard.render_html import render_html
from var_bench.leaderboard.render_json import render_json
from var_bench.leaderboard.render_md import render_markdown
from var_bench.leaderboard.verify import IdsHash, VerifiedRecord, load_records, verify_record

RENDERERS: dict[str, Callable[[Leaderboard], str]] = {
    "md": render_markdown,
    "html": render_html,
    "json": render_json,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)

__all__ = [
    "FORMATS", "ORDERS", "Entry", "IdsHash", "Leaderboard", "PublishedRow", "PublishedTable",
    "VerifiedRecord", "build_leaderboard", "load_records", "published_table", "rank_entries",
    "render", "verify_record", "write_leaderboard",
]


def _renderer(fmt: str) -> Callable[[Leaderboard], str]:
    if fmt not in RENDERERS:
        raise InputError(f"leaderboard format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    return RENDERERS[fmt]


def render(board: Leaderboard, fmt: str = "md") -> str:
    """``board`` as text in ``fmt`` (``md``, ``html`` or ``json``)."""
    return _renderer(fmt)(board)


def write_leaderboard(
    benchmark: str,
    results_dir: str | os.PathLike | None = None,
    fmt: str = "md",
    output: str | os.PathLike | None = None,
    ids_hash: IdsHash | None = None,
    *,
    order: str = "sumr",
    track: str | None = None,
    metadata: Any = None,
) -> str:
    """Build, render and (when ``output`` is given) atomically write the leaderboard; return the text.

    ``order``/``track``/``metadata``: see :func:`build_leaderboard`.
    """
    renderer = _renderer(fmt)  # refuse a bad format before reading any record
    text = renderer(build_leaderboard(benchmark, results_dir, ids_hash=ids_hash, order=order,
                                      track=track, metadata=metadata))
    if output is not None:
        atomic_write_text(output, text)
    return text
