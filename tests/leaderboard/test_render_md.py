"""var_bench.leaderboard.render_md (and the shared layout): the Markdown leaderboard."""

from __future__ import annotations

import re

import pytest
from support.leaderboard_md import SUMR_COL, md_rows
from support.protocol_tables import protocol_tables
from support.records_factory import fake_ids_hash, hostile_board, make_record, record_metadata

from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.layout import table_content
from var_bench.leaderboard.published import published_table
from var_bench.tables import MISSING


@pytest.mark.parametrize("name", list(protocol_tables()))
def test_md_prints_every_published_number_as_published(name: str) -> None:
    rows = md_rows(render(build_leaderboard(name), "md"))
    for method, cells, sumr in protocol_tables()[name]:
        row = rows[method]
        assert row[3] == "paper"
        # Per direction: R@1 R@5 R@10 MdR as printed, then MnR (not published).
        printed = [row[4 + 5 * i : 4 + 5 * i + 4] for i in range(len(cells))]
        assert printed == cells, method
        assert [row[4 + 5 * i + 4] for i in range(len(cells))] == [MISSING] * len(cells)
        assert row[SUMR_COL] == sumr


def test_header_has_direction_and_better_direction_arrows() -> None:
    header, _, align = table_content(build_leaderboard("xdviolence-ar"))
    assert header[:4] == ["#", "Tier", "Method", "Source"]
    assert header[4:9] == ["A->V R@1 ↑", "A->V R@5 ↑", "A->V R@10 ↑", "A->V MdR ↓", "A->V MnR ↓"]
    assert header[9] == "V->A R@1 ↑"
    assert header[SUMR_COL:] == [
        "SumR ↑",
        "Features",
        "Training data",
        "Reference model",
        "Claimed rerun SumR",
        "Flags",
    ]
    assert align[4 : SUMR_COL + 1] == ["right"] * 11
    assert align[SUMR_COL + 1 :] == ["left", "left", "left", "right", "left"]


def test_user_entries_with_ci_flags_and_provenance() -> None:
    record = make_record(
        seed=3,
        skill=0.5,
        name="mine",
        ci=True,
        disclosure={
            "test_time_normalisation": "QB-Norm",
            "extra_training_data": "none",
            "checkpoint_selection": None,
        },
    )
    board = build_leaderboard(
        "ucfcrime-ar", records=[("mine.json", record)], ids_hash=fake_ids_hash
    )
    md = render(board, "md")
    row = md_rows(md)["mine"]
    assert row[0] == "1" and row[1] == "1" and row[3] == "verified"
    lo, hi = record.ci["intervals"]["t2v"]["R@1"]
    assert row[4] == f"{record.metrics['t2v']['R@1']:.1f} [{lo:.1f}, {hi:.1f}]"
    assert row[SUMR_COL].startswith(f"{record.main_value:.1f} [")
    assert row[-1] == (
        "test-time re-scoring: QB-Norm; undisclosed: checkpoint, tuned on test, training data"
    )
    assert "95% bootstrap interval recomputed" in md
    assert "## User entries" in md and "| mine | mine.json | expected | 0.1.0 | 1.0.0 |" in md
    assert "mine: disclosure (declared): test\\_time\\_normalisation: QB-Norm" in md
    assert "checkpoint\\_selection: not stated" in md


def test_published_only_document_has_sources_and_no_user_section() -> None:
    md = render(build_leaderboard("ucfcrime-ar"), "md")
    assert md.startswith("# UCFCrime-AR leaderboard\n") and md.endswith("\n")
    assert published_table("ucfcrime-ar").source in md and "word2vec" in md
    assert "## User entries" not in md


def test_by_class_breakdown_is_recomputed_from_the_class_labels() -> None:
    record = make_record("xdviolence-ar", seed=6, name="classy", by_class=True)
    metadata = record_metadata("xdviolence-ar", seed=6)
    board = build_leaderboard(
        "xdviolence-ar", records=[("c.json", record)], ids_hash=fake_ids_hash, metadata=metadata
    )
    md = render(board, "md")
    section = md.split("### classy: by class\n\n", 1)[1]
    lines = section.strip().splitlines()
    assert lines[0].startswith("| Group | n | A->V R@1 ↑ |") and lines[0].endswith("| SumR ↑ |")
    groups = {line.split("|")[1].strip(): line for line in lines[2:]}
    assert set(groups) == {*record.by_class["classes"], "anomalous", "normal"}
    normal = record.by_class["normal"]
    assert groups["normal"].split("|")[2].strip() == str(normal["n"])
    assert groups["normal"].split("|")[-2].strip() == f"{normal['summary']['SumR']:.1f}"
    assert "classy: by class" in render(board, "html")


@pytest.mark.parametrize("case", ["L2-raw-html", "L2-links-images", "L3-newline-structure"])
def test_markdown_neutralises_user_fields(case) -> None:
    """Issue 11, class 5 (L2, L3): no user field can add HTML, a link, an image, a heading or a
    table row to the Markdown document."""
    md = render(hostile_board(), "md")
    if case == "L2-raw-html":
        assert not re.search(r"<\s*(script|img|svg|b)\b", md, re.I)
    elif case == "L2-links-images":
        # No link or image can form: every "[" of a user field is escaped.
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", md)
        assert not re.search(r"(?<!\\)\]\(", md) and not re.search(r"(?<!\\)!(?<!\\)\[", md)
    else:
        assert not re.search(r"^#+ (INJECTED|WARN)", md, re.M)
        assert "\n| ALAN | 999 |" not in md and "\n| fake | row |" not in md
        # Every table line of the leaderboard has the header's number of cells.
        table = md.split("\n\n")[1].splitlines()
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in table}
        assert len(widths) == 1
