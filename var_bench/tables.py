"""Plain-text and Markdown tables: one small, general formatter for every table the toolkit prints.

Cells are strings, numbers or None. Floats are written with a fixed number of decimals
(``digits``), integers as they are, None as :data:`MISSING`. A column whose cells are all numbers
(or missing) is right-aligned, any other column left-aligned, unless ``align`` says otherwise.

>>> print(plain_table(["method", "R@1"], [["a", 9.0], ["bb", 12.25]]))
method   R@1
------  ----
a        9.0
bb      12.2
>>> print(markdown_table(["method", "R@1"], [["a", 9.0]]))
| method | R@1 |
|:---|---:|
| a | 9.0 |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Literal

from var_bench.errors import InputError

Cell = str | int | float | None
Align = Literal["left", "right"]

#: What a missing value (None, NaN) looks like in a table.
MISSING = "-"


def format_cell(value: Cell, digits: int = 1) -> str:
    """``value`` as table text: floats with ``digits`` decimals, None and NaN as :data:`MISSING`."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        v = float(value)
        return MISSING if math.isnan(v) else f"{v:.{digits}f}"
    return str(value)


def _is_number(value: Cell) -> bool:
    return value is None or (isinstance(value, Real) and not isinstance(value, bool))


def _prepare(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    align: Sequence[Align] | None,
    digits: int,
) -> tuple[list[str], list[list[str]], list[Align]]:
    width = len(header)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise InputError(f"table row {i}: expected {width} cells, got {len(row)}")
    if align is None:
        align = [
            "right" if rows and all(_is_number(r[c]) for r in rows) else "left"
            for c in range(width)
        ]
    elif len(align) != width:
        raise InputError(f"table align: expected {width} entries, got {len(align)}")
    text = [[format_cell(c, digits) for c in row] for row in rows]
    return [str(h) for h in header], text, list(align)


def plain_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    align: Sequence[Align] | None = None,
    digits: int = 1,
) -> str:
    """Columns padded to their widest cell, two spaces apart, a dashed rule under the header."""
    head, body, align = _prepare(header, rows, align, digits)
    widths = [max([len(head[c])] + [len(r[c]) for r in body]) for c in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if a == "right" else cell.ljust(w)
            for cell, w, a in zip(cells, widths, align)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in body)])


def markdown_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    align: Sequence[Align] | None = None,
    digits: int = 1,
) -> str:
    """A GitHub-flavoured Markdown pipe table; ``|`` inside a cell is escaped."""
    head, body, align = _prepare(header, rows, align, digits)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    rule = "|" + "|".join("---:" if a == "right" else ":---" for a in align) + "|"
    return "\n".join([line(head), rule, *(line(r) for r in body)])


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    style: Literal["plain", "markdown"] = "plain",
    align: Sequence[Align] | None = None,
    digits: int = 1,
) -> str:
    """:func:`plain_table` or :func:`markdown_table`, chosen by ``style``."""
    if style == "plain":
        return plain_table(header, rows, align, digits)
    if style == "markdown":
        return markdown_table(header, rows, align, digits)
    raise InputError(f"table style: expected 'plain' or 'markdown', got {style!r}")
