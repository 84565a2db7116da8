"""var_bench.leaderboard.board: merging and ranking by SumR."""

from __future__ import annotations

from support.records_factory import fake_ids_hash, make_record

from var_bench.leaderboard.board import build_leaderboard, rank_entries
from var_bench.leaderboard.entries import PUBLISHED, USER, Entry


def _entry(method: str, sumr: float) -> Entry:
    return Entry(
        method=method, kind=USER, metrics={}, summary={"SumR": sumr}, score=sumr, source="x"
    )


def test_rank_entries_sorts_by_sumr_with_competition_ranks() -> None:
    ranked = rank_entries(
        [_entry("a", 10.0), _entry("b", 30.0), _entry("c", 10.0), _entry("d", 20.0)]
    )
    assert [(e.method, e.rank) for e in ranked] == [("b", 1), ("d", 2), ("a", 3), ("c", 3)]


def test_published_only_board_follows_the_paper() -> None:
    board = build_leaderboard("ucfcrime-ar")
    assert [e.method for e in board.entries] == [
        "ALAN",
        "X-CLIP",
        "XML",
        "T2VLAD",
        "MMT",
        "HL-Net",
        "CE",
        "Random",
    ]
    assert [e.rank for e in board.entries] == list(range(1, 9))
    assert all(e.kind == PUBLISHED for e in board.entries) and board.user_entries == ()
    assert board.ties == "expected" and board.split == "test"


def test_user_records_are_merged_by_sumr(tmp_path) -> None:
    strong = make_record(seed=1, skill=0.5, name="strong")  # most true items first: SumR near 600
    weak = make_record(seed=2, skill=0.005, name="weak")  # SumR far below every baseline but Random
    strong.save(tmp_path / "strong.json")
    board = build_leaderboard(
        "ucfcrime-ar", tmp_path, records=[("weak.json", weak)], ids_hash=fake_ids_hash
    )
    names = [e.method for e in board.entries]
    assert names[0] == "strong" and names.index("weak") > names.index("CE")
    assert len(board.entries) == 10 and [e.method for e in board.user_entries] == ["strong", "weak"]
    sumrs = [e.score for e in board.entries]
    assert sumrs == sorted(sumrs, reverse=True)
    assert board.entries[0].source == "strong.json"


def _reproduction(spec_name: str, model: str, features: str, sumr_skill: float, date: str):
    record = make_record(spec_name, name=f"{model} rerun", skill=sumr_skill)
    record.disclosure.update({"reference_model": model, "features": features})
    record.date = date
    return record


def test_published_rows_name_their_reference_model_and_show_real_reproductions() -> None:
    real_old = _reproduction("ucfcrime-ar", "ce", "real (ucf-crops)", 0.3, "2026-01-01")
    real_new = _reproduction("ucfcrime-ar", "ce", "real (ucf-crops)", 0.2, "2026-02-01")
    synthetic = _reproduction(
        "ucfcrime-ar", "mmt", "synthetic (var_bench.synth)", 0.9, "2026-03-01"
    )
    board = build_leaderboard(
        "ucfcrime-ar",
        records=[("a", real_old), ("b", real_new), ("c", synthetic)],
        ids_hash=fake_ids_hash,
    )
    published = {e.method: e for e in board.entries if e.is_published}
    assert {e.reference_model for e in published.values()} == {
        "random",
        "ce",
        "mmt",
        "t2vlad",
        "xclip",
        "hlnet",
        "xml",
        "alan",
    }
    # The newest real-feature run is shown; a synthetic-feature run never counts as a reproduction.
    assert published["CE"].reproduced is not None
    assert published["CE"].reproduced.source == "b"
    assert published["MMT"].reproduced is None and published["ALAN"].reproduced is None
