"""Render a leaderboard as text (``md``, ``html``, ``json``) and write it atomically.

>>> from var_bench.leaderboard import build_leaderboard, render
>>> board = build_leaderboard("ucfcrime-ar")
>>> [e.method for e in board.entries][:2]
['ALAN', 'X-CLIP']
>>> render(board, "md").splitlines()[0]
'# UCFCrime-AR leaderboard'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from var_bench.benchmarks import BenchmarkSpec
from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.leaderboard.board import Leaderboard, build_leaderboard
from var_bench.leaderboard.render_html import render_html
from var_bench.leaderboard.render_json import render_json
from var_bench.leaderboard.render_md import render_markdown
from var_bench.leaderboard.verify import IdsHash

#: Output format -> renderer; ``var-bench leaderboard --format`` offers these keys.
RENDERERS: dict[str, Callable[[Leaderboard], str]] = {
    "md": render_markdown,
    "html": render_html,
    "json": render_json,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)


def renderer(fmt: str) -> Callable[[Leaderboard], str]:
    """The renderer for ``fmt``; an unknown format is one :class:`InputError` line."""
    if fmt not in RENDERERS:
        raise InputError(f"leaderboard format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    return RENDERERS[fmt]


def render(board: Leaderboard, fmt: str = "md") -> str:
    """``board`` as text in ``fmt`` (``md``, ``html`` or ``json``)."""
    return renderer(fmt)(board)


def write_leaderboard(
    benchmark: str | BenchmarkSpec,
    results_dir: str | os.PathLike | None = None,
    fmt: str = "md",
    output: str | os.PathLike | None = None,
    ids_hash: IdsHash | None = None,
    *,
    task: str | None = None,
    order: str = "score",
    track: str | None = None,
    metadata: Any = None,
    home: Any = None,
) -> str:
    """Build, render and (when ``output`` is given) atomically write the leaderboard; return the
    text. ``task``/``order``/``track``/``metadata``/``home``: see :func:`build_leaderboard`."""
    render_board = renderer(fmt)  # refuse a bad format before reading any record
    text = render_board(
        build_leaderboard(
            benchmark,
            results_dir,
            ids_hash=ids_hash,
            task=task,
            order=order,
            track=track,
            metadata=metadata,
            home=home,
        )
    )
    if output is not None:
        atomic_write_text(output, text)
    return text
