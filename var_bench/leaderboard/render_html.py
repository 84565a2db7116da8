"""The leaderboard as one self-contained HTML page: inline CSS, the inline SVG plot, the table.

Nothing is fetched: no scripts, no external stylesheets, fonts, images or URLs of any kind, so
the page renders offline and can be attached to an e-mail or served as a static file. The table
shows the same cells as the Markdown one; an interval sits under its value in smaller type.
Below 1300 px the plot scales down with the window; from 1000 px up the table fits the window
(compact cells, wrapped headers and flags); below 1000 px each row becomes a card whose cells
wrap, each named by its column, so no column is ever cut off and the page never scrolls sideways.
Every string is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.layout import (
    DIGITS,
    by_class_tables,
    columns,
    detail_lines,
    legend_lines,
    provenance_rows,
    row_parts,
    tier_table,
)
from var_bench.leaderboard.plot import recall_plot_svg, series_colours
from var_bench.tables import format_cell

CSS = """
body { font-family: sans-serif; color: #222222; background: #ffffff; margin: 16px 24px;
       max-width: 1600px; }
h1 { font-size: 22px; margin: 0 0 8px 0; }
h2 { font-size: 17px; margin: 20px 0 6px 0; }
svg.recall-plot { display: block; width: 100%; height: auto; max-width: 1080px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
th, td { border: 1px solid #cccccc; padding: 2px 5px; }
th { background: #f2f2f2; font-weight: bold; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.num .ci { display: block; font-size: 10px; color: #555555; }
td.method { white-space: nowrap; position: sticky; left: 0; background: #ffffff; }
tr.user td.method { background: #fbf5df; }
td.tier { font-weight: bold; text-align: center; }
td.flags { min-width: 160px; max-width: 240px; font-size: 11px; }
td.flags { overflow-wrap: anywhere; }
td.features, td.training { min-width: 96px; overflow-wrap: break-word; }
tr.user td { background: #fbf5df; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; }
ul, p { font-size: 13px; overflow-wrap: anywhere; }
ul { padding-left: 20px; }
@media (max-width: 1300px) {
  body { margin: 10px 12px; }
  table { font-size: 11px; }
  td.flags { min-width: 120px; }
}
@media (max-width: 1500px) {
  table.leaderboard th, table.leaderboard td { padding: 2px 3px; }
  table.leaderboard th { font-size: 10px; }
  table.leaderboard td.flags { min-width: 90px; max-width: 170px; font-size: 10px; }
  table.leaderboard td.features, table.leaderboard td.training { min-width: 60px; }
}
@media (max-width: 999px) {
  table.leaderboard, table.leaderboard tbody, table.leaderboard tr { display: block; }
  table.leaderboard thead { display: none; }
  table.leaderboard tr { border: 1px solid #cccccc; margin: 0 0 6px 0; padding: 2px; }
  table.leaderboard td { display: inline-block; border: none; vertical-align: top;
                         margin: 1px 6px 1px 0; position: static; }
  table.leaderboard td::before { content: attr(data-label) ": "; color: #555555;
                                 font-size: 10px; }
  table.leaderboard td.num .ci { display: inline; margin-left: 3px; }
  table.leaderboard td.flags { max-width: none; min-width: 0; display: block; }
}
""".strip()

_CELL_CLASSES = frozenset({"method", "flags", "tier", "features", "training"})


def _leaderboard_table(board: Leaderboard) -> str:
    cols = columns(board)
    colours = series_colours(board.entries)
    head = "".join(f"<th>{escape(c.header)}</th>" for c in cols)
    rows = []
    for entry, colour in zip(board.entries, colours):
        cells = []
        for col, (text, ci) in zip(cols, row_parts(board, entry)):
            inner = escape(text)
            if col.key == "method":
                inner = f'<span class="swatch" style="background:{colour}"></span>{inner}'
            if ci is not None:
                inner += f'<span class="ci">{escape(ci)}</span>'
            cls = (
                "num"
                if col.align == "right" and col.key != "tier"
                else (col.key if col.key in _CELL_CLASSES else "")
            )
            label = escape(col.header, quote=True)
            cells.append(
                f'<td class="{cls}" data-label="{label}">{inner}</td>'
                if cls
                else f'<td data-label="{label}">{inner}</td>'
            )
        rows.append(f'<tr class="{entry.kind}">{"".join(cells)}</tr>')
    return (
        f'<div class="scroll"><table class="leaderboard">\n<thead><tr>{head}</tr></thead>\n'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table></div>"
    )


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f'<div class="scroll"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n'
        "</tbody>\n</table></div>"
    )


def _tiers(board: Leaderboard) -> str:
    """The tier comparisons: their count, then one row per row that beats others."""
    head, header, rows = tier_table(board)
    return f"<p>{escape(head)}</p>" + (plain_table(header, rows) if rows else "")


def html_list(lines: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def page(title: str, body: Sequence[str], css: str = CSS) -> str:
    """A complete HTML document around ``body`` (already-escaped HTML parts)."""
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{escape(title)}</title>",
                f"<style>\n{css}\n</style>",
                "</head>",
                "<body>",
                *body,
                "</body>",
                "</html>",
            ]
        )
        + "\n"
    )


def render_html(board: Leaderboard) -> str:
    """The page as a string (UTF-8, ends with a newline)."""
    title = f"{board.spec.title} leaderboard"
    parts = [
        f"<h1>{escape(title)}</h1>",
        recall_plot_svg(board),
        _leaderboard_table(board),
        html_list(legend_lines(board)),
        "<h2>Tiers</h2>",
        _tiers(board),
    ]
    if board.user_entries:
        parts += [
            "<h2>User entries</h2>",
            plain_table(*provenance_rows(board)),
            html_list(detail_lines(board)),
        ]
        for heading, header, rows in by_class_tables(board):
            text_rows = [[format_cell(c, DIGITS) for c in row] for row in rows]
            parts += [f"<h2>{escape(heading)}</h2>", plain_table(header, text_rows)]
    return page(title, parts)
