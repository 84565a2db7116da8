"""var_bench.tables: plain and Markdown tables."""

from __future__ import annotations

import numpy as np
import pytest

from var_bench.errors import InputError
from var_bench.tables import MISSING, format_cell, markdown_table, plain_table, render_table


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (None, 1, MISSING),
        (float("nan"), 1, MISSING),
        (144.0, 1, "144.0"),
        (0.3, 1, "0.3"),
        (8.96551724, 2, "8.97"),
        (7, 1, "7"),
        (np.int64(290), 1, "290"),
        (np.float32(2.5), 1, "2.5"),
        ("T->V", 1, "T->V"),
        (True, 1, "True"),
    ],
)
def test_format_cell(value, digits, text) -> None:
    assert format_cell(value, digits) == text


def test_plain_table_aligns_numbers_right_and_text_left() -> None:
    out = plain_table(["method", "SumR"], [["ALAN", 160.7], ["Random", 10.2]])
    lines = out.splitlines()
    assert lines[0] == "method   SumR"
    assert set(lines[1]) == {"-", " "}
    assert lines[2] == "ALAN    160.7"
    assert lines[3] == "Random   10.2"
    # Every line is as wide as the widest (no trailing spaces: the last column is right-aligned).
    assert len({len(x) for x in lines}) == 1


def test_plain_table_missing_values_keep_the_column_numeric() -> None:
    out = plain_table(["m", "MnR"], [["a", None], ["b", 12.0]])
    assert out.splitlines()[2].endswith(MISSING)
    assert out.splitlines()[3].endswith("12.0")


def test_markdown_table_alignment_row_and_escaping() -> None:
    out = markdown_table(["method", "R@1 ↑"], [["a|b", 9.0]])
    assert out.splitlines() == ["| method | R@1 ↑ |", "|:---|---:|", "| a\\|b | 9.0 |"]


def test_explicit_alignment_and_digits() -> None:
    out = markdown_table(["k", "v"], [[1, 2.346]], align=["left", "left"], digits=2)
    assert out.splitlines()[1] == "|:---|:---|"
    assert out.splitlines()[2] == "| 1 | 2.35 |"


def test_empty_table_has_header_only() -> None:
    assert render_table(["a", "b"], [], style="markdown").splitlines() == [
        "| a | b |",
        "|:---|:---|",
    ]
    assert len(render_table(["a", "b"], []).splitlines()) == 2


def test_bad_input_is_one_line_input_error() -> None:
    with pytest.raises(InputError, match="expected 2 cells, got 1"):
        plain_table(["a", "b"], [["x"]])
    with pytest.raises(InputError, match="expected 2 entries"):
        markdown_table(["a", "b"], [["x", 1]], align=["left"])
    with pytest.raises(InputError, match="expected 'plain' or 'markdown'"):
        render_table(["a"], [["x"]], style="html")  # type: ignore[arg-type]
