"""The leaderboard as Markdown: title, ranked table, notes, tier comparisons, then for user
entries their provenance, disclosures, warnings and per-class breakdowns.

Every string that comes from a record is neutralised (:func:`md_escape`): one line, ``&`` and ``<``
as HTML entities (no raw HTML, no autolinks), and Markdown's inline syntax characters backslash-
escaped, so a name or disclosure can neither inject HTML nor start a heading, a table row, a
link or an image.
"""

from __future__ import annotations

import re

from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.entries import one_line
from var_bench.leaderboard.layout import (
    by_class_tables,
    columns,
    detail_lines,
    legend_lines,
    provenance_rows,
    table_content,
    tier_lines,
)
from var_bench.tables import markdown_table

# Markdown inline syntax (CommonMark's ASCII punctuation that starts a construct); "|" is escaped
# by markdown_table inside cells and here elsewhere.
_SPECIAL = re.compile(r"([\\`*_\[\]#!~|])")


def md_escape(text: object, in_table: bool = False) -> str:
    """``text`` on one line, safe as Markdown inline text (see the module docstring).

    With ``[`` and ``]`` escaped no link or image can form (``[x](javascript:..)`` stays text);
    with ``<`` as an entity no raw HTML or ``<scheme:..>`` autolink can; the rendered text reads
    as the original.
    """
    s = one_line(text).replace("&", "&amp;").replace("<", "&lt;")
    s = _SPECIAL.sub(r"\\\1", s)
    if in_table:
        s = s.replace("\\|", "|")  # markdown_table escapes "|" itself
    return s


def _table(board: Leaderboard) -> str:
    header, rows, align = table_content(board)
    user = [c.user_text for c in columns(board)]
    rows = [[md_escape(cell, True) if u else cell for cell, u in zip(row, user)] for row in rows]
    return markdown_table(header, rows, align)


def render_markdown(board: Leaderboard) -> str:
    """A Markdown document (ends with a newline); published numbers appear exactly as printed."""
    parts = [
        f"# {board.spec.title} leaderboard",
        _table(board),
        "\n".join(f"- {md_escape(line)}" for line in legend_lines(board)),
        "## Tiers",
        "\n".join(f"- {md_escape(line)}" for line in tier_lines(board)),
    ]
    if board.user_entries:
        p_header, p_rows = provenance_rows(board)
        parts += [
            "## User entries",
            markdown_table(p_header, [[md_escape(c, True) for c in r] for r in p_rows]),
        ]
        details = detail_lines(board)
        if details:
            parts.append("\n".join(f"- {md_escape(line)}" for line in details))
        for title, header, rows in by_class_tables(board):
            rows = [[md_escape(c, True) if isinstance(c, str) else c for c in r] for r in rows]
            parts += [f"### {md_escape(title)}", markdown_table(header, rows)]
    return "\n\n".join(parts) + "\n"
