"""Regression tests for the leaderboard cases of the red-team report (issue 11,
``shared/spec/findings/redteam.md``): class 5 (user fields not escaped: L1-L4), class 6 (fields
shown as verified that were not: L7-L11) and class 7's ``ci.replicates`` (L24)."""

from __future__ import annotations

import json
import re
import time

import pytest

from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.verify import MAX_REPLICATES
from var_bench.scoring.stats import bootstrap

from support.records_factory import fake_ids_hash, make_record, record_metadata

HOSTILE_NAME = '<script>alert("name")</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)> ![x](http://attacker.example/t.png)'
INJECTED = "none\n\n# INJECTED HEADING\n\n| fake | row |\n|---|---|\n| ALAN | 999 |"


def _hostile_board():
    record = make_record(seed=11, name=HOSTILE_NAME, warnings=["w1\n# WARN HEADING\n| x | y |"],
                         disclosure={"test_time_normalisation": INJECTED,
                                     "extra_training_data": '"><img src=x onerror=alert(1)>',
                                     "checkpoint_selection": "val", "<b>key</b>": "[l](javascript:x)"})
    record.date = "<svg/onload=alert(1)>"
    record.versions["var_bench"] = "<script>v</script>"
    return build_leaderboard("ucfcrime-ar", records=[("evil.json", record)], ids_hash=fake_ids_hash)


# Class 5 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["L2-raw-html", "L2-links-images", "L3-newline-structure"])
def test_class5_markdown_neutralises_user_fields(case) -> None:
    md = render(_hostile_board(), "md")
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


@pytest.mark.parametrize("case", ["L1-html-escaped", "L4-json-valid"])
def test_class5_html_and_json_hold(case) -> None:
    board = _hostile_board()
    if case == "L1-html-escaped":
        html = render(board, "html")
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg/onload" not in html
        assert "&lt;script&gt;" in html
    else:
        data = json.loads(render(board, "json"))
        entry = next(e for e in data["entries"] if e["kind"] == "user")
        assert entry["method"] == " ".join(HOSTILE_NAME.split())
        assert "\n" not in json.dumps(entry["disclosure"]).replace("\\n", "")
        assert all("\n" not in v for v in entry["disclosure"].values())


def test_class5_platform_outputs_carry_no_user_strings() -> None:
    from var_bench.leaderboard.adapters.codalab import codalab_scores_text
    from var_bench.leaderboard.adapters.evalai import evalai_result

    record = make_record(seed=11, name=HOSTILE_NAME)
    text = codalab_scores_text(record, fake_ids_hash)
    assert all(re.fullmatch(r"\w+: [-\d.e+]+", line) for line in text.splitlines())
    assert HOSTILE_NAME not in json.dumps(evalai_result(record, ids_hash=fake_ids_hash))


# Class 6 -----------------------------------------------------------------------------------


def _user(board):
    return board.user_entries[0]


@pytest.mark.parametrize("case", ["L8-forged-ci", "L9-forged-by-class", "L10-deleted-warning",
                                  "L11-hand-added-reproduction", "L7-forged-consistent"])
def test_class6_unverifiable_fields_are_recomputed_dropped_or_declared(case) -> None:
    if case == "L8-forged-ci":
        record = make_record(seed=3, ci=True)
        honest = list(record.ci["intervals"]["t2v"]["R@1"])
        record.ci["intervals"]["t2v"]["R@1"] = [99.0, 100.0]
        record.ci["intervals"]["SumR"] = [590.0, 600.0]
        entry = _user(build_leaderboard("ucfcrime-ar", records=[("f.json", record)],
                                        ids_hash=fake_ids_hash))
        assert entry.interval("t2v", "R@1") == pytest.approx(tuple(honest))
        assert entry.interval(None, "SumR")[1] < 590
    elif case == "L9-forged-by-class":
        record = make_record(seed=6, by_class=True)
        record.by_class["classes"][next(iter(record.by_class["classes"]))]["summary"]["SumR"] = 600.0
        dropped = _user(build_leaderboard("ucfcrime-ar", records=[("f.json", record)],
                                          ids_hash=fake_ids_hash))
        assert dropped.by_class is None and any("dropped" in n for n in dropped.notes)
        assert "by class" not in render(build_leaderboard(
            "ucfcrime-ar", records=[("f.json", record)], ids_hash=fake_ids_hash), "md")
        redone = _user(build_leaderboard("ucfcrime-ar", records=[("f.json", record)],
                                         ids_hash=fake_ids_hash,
                                         metadata=record_metadata(seed=6)))
        assert all(g["summary"]["SumR"] < 600 for g in redone.by_class["classes"].values())
    elif case == "L10-deleted-warning":
        # A deleted scorer warning cannot be detected from the counts; what the counts support is
        # recomputed, and the record's warnings are labelled as the record's own.
        record = make_record(seed=5, tie_rate=0.6, warnings=[])
        entry = _user(build_leaderboard("ucfcrime-ar", records=[("f.json", record)],
                                        ids_hash=fake_ids_hash))
        assert "many tied queries" in entry.flags and entry.checks
        md = render(build_leaderboard("ucfcrime-ar", records=[("f.json", make_record(
            seed=5, warnings=["normalised"]))], ids_hash=fake_ids_hash), "md")
        assert "warning (from the record): normalised" in md
    elif case == "L11-hand-added-reproduction":
        record = make_record(seed=7, skill=0.01)
        record.disclosure.update({"reference_model": "alan", "features": "real I3D"})
        board = build_leaderboard("ucfcrime-ar", records=[("r.json", record)], ids_hash=fake_ids_hash)
        alan = next(e for e in board.entries if e.method == "ALAN")
        assert alan.kind == "published" and alan.score == 160.7 and alan.source_kind == "paper"
        md = render(board, "md")
        row = next(line for line in md.splitlines() if line.startswith("| ") and "| ALAN |" in line)
        assert "(declared)" in row and "Reproduced" not in md
        assert "claims a rerun of alan (declared)" in "; ".join(_user(board).flags)
    else:
        record = make_record(seed=8, skill=1.0, tie_rate=0.0)  # every true item first: SumR 600
        entry = _user(build_leaderboard("ucfcrime-ar", records=[("o.json", record)],
                                        ids_hash=fake_ids_hash))
        assert entry.score == pytest.approx(600.0)
        assert "implausible" in entry.flags


# Class 7 (replicates) ----------------------------------------------------------------------


@pytest.mark.parametrize("replicates", [10 ** 9, 1e12, MAX_REPLICATES + 1])
def test_class7_replicates_are_capped(replicates, monkeypatch) -> None:
    record = make_record(seed=9, ties="optimistic")
    record.ci = {"replicates": replicates, "level": 0.95, "seed": 0, "intervals": {}}
    asked = []
    real = bootstrap.bootstrap_ci
    monkeypatch.setattr(bootstrap, "bootstrap_ci",
                        lambda *a, **k: asked.append(k["replicates"]) or real(*a, **k))
    t0 = time.perf_counter()
    entry = _user(build_leaderboard("ucfcrime-ar", records=[("d.json", record)], ids_hash=fake_ids_hash))
    assert asked == [MAX_REPLICATES] and time.perf_counter() - t0 < 60
    assert any(f"{MAX_REPLICATES} bootstrap replicates" in n for n in entry.notes)


@pytest.mark.parametrize("ci", [{"replicates": "many"}, {"level": 7}, {"seed": -1},
                                {"replicates": float("nan")}, {"level": "<script>"}])
def test_class7_malformed_ci_settings_drop_the_intervals(ci) -> None:
    record = make_record(seed=9)
    record.ci = {"intervals": {"SumR": [1.0, 2.0]}, **ci}
    entry = _user(build_leaderboard("ucfcrime-ar", records=[("d.json", record)], ids_hash=fake_ids_hash))
    assert entry.ci is None and any("dropped" in n for n in entry.notes)
