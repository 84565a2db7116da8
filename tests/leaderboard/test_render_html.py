"""var_bench.leaderboard.render_html: one self-contained page (the browser test renders it)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from support.html import URL_ATTRS
from support.records_factory import fake_ids_hash, hostile_board, make_record

from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.layout import table_content


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.in_leaderboard = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table" and ("class", "leaderboard") in attrs:
            self.in_leaderboard = True
        elif tag == "tr" and self.in_leaderboard:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_leaderboard = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _board():
    records = [
        ("a.json", make_record(seed=1, skill=0.3, name="<b>bold</b> & co", ci=True)),
        ("b.json", make_record(seed=2, skill=0.05, name="second")),
    ]
    return build_leaderboard("ucfcrime-ar", records=records, ids_hash=fake_ids_hash)


def test_page_is_self_contained() -> None:
    html = render(_board(), "html")
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    assert (
        "http://" not in html
        and "https://" not in html
        and "//" not in html.replace("<!DOCTYPE", "")
    )
    assert not URL_ATTRS.search(html)
    parsed = _Collect()
    parsed.feed(html)
    assert {"script", "link", "img", "iframe", "object", "embed"}.isdisjoint(parsed.tags)
    assert "@import" not in html and not re.search(r"url\((?!#)", html)  # url(#clip) is in-page
    assert parsed.tags.count("svg") == 1 and "style" in parsed.tags


def test_table_has_the_same_content_as_markdown() -> None:
    board = _board()
    parsed = _Collect()
    parsed.feed(render(board, "html"))
    header, rows, _ = table_content(board)
    assert parsed.rows[0] == header
    # HTML puts the interval under the value, Markdown beside it: compare without the space.
    assert [[c.replace(" [", "[") for c in r] for r in parsed.rows[1:]] == [
        [c.replace(" [", "[") for c in r] for r in rows
    ]


def test_user_text_is_escaped() -> None:
    html = render(_board(), "html")
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html


def test_hostile_user_fields_are_escaped() -> None:
    """Issue 11, class 5 (L1): the page shows user fields as text, never as markup."""
    html = render(hostile_board(), "html")
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg/onload" not in html
    assert "&lt;script&gt;" in html


def test_tiers_are_a_compact_table_one_row_per_row_that_beats_others() -> None:
    from var_bench.leaderboard.layout import tier_lines, tier_table

    board = _board()
    html = render(board, "html")
    section = html.split("<h2>Tiers</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<ul>" not in section and section.count("<table>") == 1
    head, header, rows = tier_table(board)
    pairs = tier_lines(board)[1:]  # the old list: one line per pair told apart
    assert head == tier_lines(board)[0] and header[0] == "Row"
    assert len(rows) < len(pairs) and len({r[0] for r in rows}) == len(rows)
    # every pair told apart is in its winner's row, under the test that told them apart
    for line in pairs:
        hi, rest = line.split(" above ", 1)
        lo, how = rest.rsplit(": ", 1)
        how = how.split(",")[0]
        cell = next(r[1] for r in rows if r[0] == hi)
        assert f"{how}: " in cell and lo in cell, (line, cell)
