"""var_bench.leaderboard.board: merging and ranking by SumR."""

from __future__ import annotations

from var_bench.leaderboard.board import build_leaderboard, rank_entries
from var_bench.leaderboard.entries import PUBLISHED, USER, Entry

from .records_factory import fake_ids_hash, make_record


def _entry(method: str, sumr: float) -> Entry:
    return Entry(method=method, kind=USER, metrics={}, sumr=sumr, source="x")


def test_rank_entries_sorts_by_sumr_with_competition_ranks() -> None:
    ranked = rank_entries([_entry("a", 10.0), _entry("b", 30.0), _entry("c", 10.0), _entry("d", 20.0)])
    assert [(e.method, e.rank) for e in ranked] == [("b", 1), ("d", 2), ("a", 3), ("c", 3)]


def test_published_only_board_follows_the_paper() -> None:
    board = build_leaderboard("ucfcrime-ar")
    assert [e.method for e in board.entries] == [
        "ALAN", "X-CLIP", "XML", "T2VLAD", "MMT", "HL-Net", "CE", "Random"]
    assert [e.rank for e in board.entries] == list(range(1, 9))
    assert all(e.kind == PUBLISHED for e in board.entries) and board.user_entries == ()
    assert board.ties == "expected" and board.split == "test"


def test_user_records_are_merged_by_sumr(tmp_path) -> None:
    strong = make_record(seed=1, skill=0.5, name="strong")   # most true items first: SumR near 600
    weak = make_record(seed=2, skill=0.005, name="weak")     # SumR far below every baseline but Random
    strong.save(tmp_path / "strong.json")
    board = build_leaderboard("ucfcrime-ar", tmp_path, records=[("weak.json", weak)],
                              ids_hash=fake_ids_hash)
    names = [e.method for e in board.entries]
    assert names[0] == "strong" and names.index("weak") > names.index("CE")
    assert len(board.entries) == 10 and [e.method for e in board.user_entries] == ["strong", "weak"]
    sumrs = [e.sumr for e in board.entries]
    assert sumrs == sorted(sumrs, reverse=True)
    assert board.entries[0].source == "strong.json"
