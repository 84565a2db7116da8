"""The leaderboard as Markdown: title, ranked table, notes, then for user entries their
provenance, disclosures, warnings and per-class breakdowns."""

from __future__ import annotations

from var_bench.tables import markdown_table
from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.layout import by_class_tables, detail_lines, legend_lines, provenance_rows, table_content


def render_markdown(board: Leaderboard) -> str:
    """A Markdown document (ends with a newline); published numbers appear exactly as printed."""
    header, rows, align = table_content(board)
    parts = [
        f"# {board.spec.title} leaderboard",
        markdown_table(header, rows, align),
        "\n".join(f"- {line}" for line in legend_lines(board)),
    ]
    if board.user_entries:
        p_header, p_rows = provenance_rows(board)
        parts += ["## User entries", markdown_table(p_header, p_rows)]
        details = detail_lines(board)
        if details:
            parts.append("\n".join(f"- {line}" for line in details))
        for title, header, rows in by_class_tables(board):
            parts += [f"### {title}", markdown_table(header, rows)]
    return "\n\n".join(parts) + "\n"
