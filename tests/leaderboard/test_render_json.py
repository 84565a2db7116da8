"""var_bench.leaderboard.render_json: every entry with all fields."""

from __future__ import annotations

import json

from support.records_factory import HOSTILE_NAME, fake_ids_hash, hostile_board, make_record

from var_bench.leaderboard import build_leaderboard, render
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import METRICS, SUMR


def test_json_has_all_entries_and_fields() -> None:
    record = make_record("xdviolence-ar", seed=4, ties="pessimistic", name="json-me", ci=True)
    board = build_leaderboard("xdviolence-ar", records=[("j.json", record)], ids_hash=fake_ids_hash)
    data = json.loads(render(board, "json"))
    assert data["benchmark"] == "xdviolence-ar" and data["ties"] == "expected"
    assert data["task"] == "retrieval" and data["main_score"] == SUMR
    assert [(g["name"], g["queries"]) for g in data["groups"]] == [("a2v", 800), ("v2a", 800)]
    assert [m["name"] for m in data["metrics"]] == [*METRICS]
    assert [s["name"] for s in data["summaries"]] == [SUMR]
    assert {m["name"]: m["higher_is_better"] for m in data["metrics"]}["MdR"] is False
    assert len(data["entries"]) == 9
    assert [e["rank"] for e in data["entries"]] == sorted(e["rank"] for e in data["entries"])
    alan = next(e for e in data["entries"] if e["method"] == "ALAN")
    assert alan["kind"] == "published" and alan["metrics"]["a2v"]["MnR"] is None
    assert (
        alan["score"] == 364.4 and alan["summary"] == {"SumR": 364.4} and alan["per_query"] is None
    )
    mine = next(e for e in data["entries"] if e["method"] == "json-me")
    entry = next(e for e in board.entries if e.method == "json-me")
    assert mine["score"] == entry.score and mine["rescored_from"] == "pessimistic"
    assert mine["submitted_ties"] == "pessimistic" and mine["ci"]["intervals"]["a2v"]["R@1"]
    # Per-query counts survive, so two entries can be compared from this file alone.
    q = RankCounts.from_dict(mine["per_query"]["v2a"])
    assert q.higher.tolist() == record.per_query["v2a"].higher.tolist()
    assert q.tied.tolist() == record.per_query["v2a"].tied.tolist()
    assert set(mine) >= {
        "flags",
        "warnings",
        "disclosure",
        "versions",
        "date",
        "ids_sha256",
        "by_class",
    }


def test_hostile_user_fields_stay_valid_json() -> None:
    """Issue 11, class 5 (L4): user fields come out as one-line JSON strings."""
    data = json.loads(render(hostile_board(), "json"))
    entry = next(e for e in data["entries"] if e["kind"] == "user")
    assert entry["method"] == " ".join(HOSTILE_NAME.split())
    assert "\n" not in json.dumps(entry["disclosure"]).replace("\\n", "")
    assert all("\n" not in v for v in entry["disclosure"].values())
