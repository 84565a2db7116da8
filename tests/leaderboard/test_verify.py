"""var_bench.leaderboard.verify: records are re-verified before they are ranked."""

from __future__ import annotations

import json
import logging

import pytest
from support.records_factory import FAKE_IDS_SHA256, fake_ids_hash, make_record, record_metadata

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR, get_benchmark
from var_bench.data.splits import expected_ids_sha256
from var_bench.errors import InputError
from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.verify import (
    MAX_REPLICATES,
    default_ids_hash,
    load_records,
    recompute,
    verify_record,
)
from var_bench.scoring.stats import bootstrap
from var_bench.tasks.retrieval import ranks
from var_bench.tasks.retrieval.counts import RankCounts

TASK = UCFCRIME_AR.task()


def test_a_consistent_record_passes_unchanged() -> None:
    record = make_record(ci=True)
    v = verify_record(record, UCFCRIME_AR, "a.json", fake_ids_hash)
    assert v.metrics == record.metrics and v.score == record.main_value
    assert v.rescored_from is None and v.ci == record.ci and v.label == "a.json"


def test_tampered_metric_is_refused() -> None:
    record = make_record()
    record.metrics["v2t"]["R@5"] += 0.5
    message = r"^record b.json: metrics do not match its per-query ranks \(v2t R@5"
    with pytest.raises(InputError, match=message):
        verify_record(record, UCFCRIME_AR, "b.json", fake_ids_hash)


def test_tampered_sumr_is_refused() -> None:
    record = make_record()
    record.summary["SumR"] += 1.0
    with pytest.raises(InputError, match="metrics do not match its per-query ranks \\(SumR"):
        verify_record(record, UCFCRIME_AR, "c.json", fake_ids_hash)


def test_tampered_per_query_counts_are_refused() -> None:
    record = make_record(tie_rate=0.0)
    q = record.per_query["t2v"]
    higher = q.higher.copy()
    higher[higher > 0] -= 1  # every imperfect query moves up one place: metrics no longer match
    record.per_query["t2v"] = RankCounts(higher, q.tied)
    with pytest.raises(InputError, match="metrics do not match its per-query ranks"):
        verify_record(record, UCFCRIME_AR, "d.json", fake_ids_hash)


def test_a_record_of_another_id_list_is_refused() -> None:
    record = make_record(ids_sha256="0" * 64)
    with pytest.raises(InputError, match=f"expected ids_sha256 {FAKE_IDS_SHA256} .*got 0000"):
        verify_record(record, UCFCRIME_AR, "e.json", fake_ids_hash)


def test_default_id_hash_is_the_shipped_checksum() -> None:
    spec = get_benchmark("xdviolence-ar")
    assert default_ids_hash(spec, "test") == expected_ids_sha256(spec, "test")
    good = make_record("xdviolence-ar", ids_sha256=expected_ids_sha256(XDVIOLENCE_AR, "test"))
    assert verify_record(good, XDVIOLENCE_AR, "f.json").score == good.main_value
    with pytest.raises(InputError, match="ids_sha256"):
        verify_record(make_record("xdviolence-ar"), XDVIOLENCE_AR, "g.json")


@pytest.mark.parametrize("ties", ["optimistic", "pessimistic"])
def test_other_tie_rules_are_rescored_under_expected(ties: str) -> None:
    record = make_record(ties=ties, tie_rate=0.5, ci=True)
    v = verify_record(record, UCFCRIME_AR, "h.json", fake_ids_hash)
    want, want_sumr = recompute(TASK, record.per_query, "expected")
    assert v.rescored_from == ties
    assert v.metrics == want and v.score == pytest.approx(want_sumr["SumR"])
    assert v.score != pytest.approx(record.main_value)  # half the queries tie: the rules differ
    # The record's interval was for its own rule: recomputed under expected with its settings.
    assert v.ci == bootstrap.bootstrap_ci(
        TASK, record.per_query, "expected", replicates=200, seed=0
    )
    assert v.by_class is None


def test_wrong_directions_or_query_counts_are_refused() -> None:
    record = make_record()
    del record.metrics["v2t"]
    with pytest.raises(InputError, match="expected metrics for directions t2v, v2t, got t2v"):
        verify_record(record, UCFCRIME_AR, "i.json", fake_ids_hash)
    xd = make_record("xdviolence-ar")
    with pytest.raises(InputError, match="expected metrics for directions t2v, v2t, got a2v, v2a"):
        verify_record(xd, UCFCRIME_AR, "j.json", fake_ids_hash)
    short = make_record()
    short.per_query["t2v"] = short.per_query["t2v"].subset(slice(0, 100))
    with pytest.raises(InputError, match="expected 290 per-query ranks for t2v, got 100"):
        verify_record(short, UCFCRIME_AR, "k.json", fake_ids_hash)


def test_load_records_reads_this_benchmark_test_records_only(tmp_path, caplog) -> None:
    make_record(name="ucf").save(tmp_path / "b.json")
    make_record("xdviolence-ar", name="xd").save(tmp_path / "a.json")
    val = make_record(name="val").to_dict()
    val["split"] = "val"
    (tmp_path / "c.json").write_text(json.dumps(val))
    (tmp_path / "notes.txt").write_text("not a record")
    with caplog.at_level(logging.INFO, logger="var_bench.leaderboard.verify"):
        found = load_records(tmp_path, UCFCRIME_AR)
    assert [(p.name, r.name) for p, r in found] == [("b.json", "ucf")]
    assert "a.json: skipped, a record of benchmark 'xdviolence-ar'" in caplog.text
    assert "c.json: skipped, a record of split 'val'" in caplog.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "bad.json: expected a result record \\(JSON\\), got an unreadable file"),
        ("[1, 2]", "bad.json: expected a result record \\(a JSON object\\), got list"),
        ('{"benchmark": "ucfcrime-ar", "split": "test"}', "bad.json: result record: expected keys"),
        (
            '{"benchmark": "ucfcrime-ar", "split": "test", "ties": "expected", "metrics": {}, '
            '"SumR": 1, "per_query": {"t2v": {"higher": [1]}}}',
            "bad.json: result record: per_query.t2v.tied: expected a list",
        ),
    ],
)
def test_a_malformed_file_is_one_line_naming_it(tmp_path, content: str, message: str) -> None:
    make_record().save(tmp_path / "a.json")
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(InputError, match=message) as err:
        load_records(tmp_path, UCFCRIME_AR)
    assert "\n" not in str(err.value)


def test_missing_results_folder(tmp_path) -> None:
    with pytest.raises(InputError, match="--results: expected a folder of result records"):
        load_records(tmp_path / "nowhere", UCFCRIME_AR)


def test_recompute_matches_the_metric_functions() -> None:
    record = make_record(seed=5)
    metrics, sumr = recompute(TASK, record.per_query, "pessimistic")
    assert metrics["t2v"] == ranks.summarise(record.per_query["t2v"], "pessimistic")
    assert sumr == {"SumR": ranks.sum_recall(metrics)}


# ---------------------------------------------------------------- fields shown as verified
# Issue 11, class 6 (L7-L10): what the leaderboard shows is recomputed from the per-query
# counts, dropped, or declared as the record's own; class 7 (L24): the record's ci settings.


def _user(board):
    return board.user_entries[0]


def test_a_forged_ci_is_recomputed() -> None:
    """L8."""
    record = make_record(seed=3, ci=True)
    honest = list(record.ci["intervals"]["t2v"]["R@1"])
    record.ci["intervals"]["t2v"]["R@1"] = [99.0, 100.0]
    record.ci["intervals"]["SumR"] = [590.0, 600.0]
    entry = _user(
        build_leaderboard("ucfcrime-ar", records=[("f.json", record)], ids_hash=fake_ids_hash)
    )
    assert entry.interval("t2v", "R@1") == pytest.approx(tuple(honest))
    assert entry.interval(None, "SumR")[1] < 590


def test_a_forged_by_class_table_is_dropped_or_recomputed() -> None:
    """L9: dropped without the class labels, recomputed with them."""
    record = make_record(seed=6, by_class=True)
    record.by_class["classes"][next(iter(record.by_class["classes"]))]["summary"]["SumR"] = 600.0
    dropped = _user(
        build_leaderboard("ucfcrime-ar", records=[("f.json", record)], ids_hash=fake_ids_hash)
    )
    assert dropped.by_class is None and any("dropped" in n for n in dropped.notes)
    assert "by class" not in render(
        build_leaderboard("ucfcrime-ar", records=[("f.json", record)], ids_hash=fake_ids_hash), "md"
    )
    redone = _user(
        build_leaderboard(
            "ucfcrime-ar",
            records=[("f.json", record)],
            ids_hash=fake_ids_hash,
            metadata=record_metadata(seed=6),
        )
    )
    assert all(g["summary"]["SumR"] < 600 for g in redone.by_class["classes"].values())


def test_a_deleted_warning_is_recomputed_and_record_warnings_are_labelled() -> None:
    """L10: a deleted scorer warning cannot be detected from the counts; what the counts support
    is recomputed, and the record's warnings are labelled as the record's own."""
    record = make_record(seed=5, tie_rate=0.6, warnings=[])
    entry = _user(
        build_leaderboard("ucfcrime-ar", records=[("f.json", record)], ids_hash=fake_ids_hash)
    )
    assert "many tied queries" in entry.flags and entry.checks
    md = render(
        build_leaderboard(
            "ucfcrime-ar",
            records=[("f.json", make_record(seed=5, warnings=["normalised"]))],
            ids_hash=fake_ids_hash,
        ),
        "md",
    )
    assert "warning (from the record): normalised" in md


def test_a_forged_consistent_perfect_record_is_flagged_implausible() -> None:
    """L7: counts forged consistently (every true item first, SumR 600) pass the recomputation
    and are flagged."""
    record = make_record(seed=8, skill=1.0, tie_rate=0.0)  # every true item first: SumR 600
    entry = _user(
        build_leaderboard("ucfcrime-ar", records=[("o.json", record)], ids_hash=fake_ids_hash)
    )
    assert entry.score == pytest.approx(600.0)
    assert "implausible" in entry.flags


@pytest.mark.parametrize("replicates", [10**9, 1e12, MAX_REPLICATES + 1])
def test_ci_replicates_are_capped(replicates, monkeypatch) -> None:
    """L24: a record asking for more bootstrap replicates gets MAX_REPLICATES, with a note."""
    record = make_record(seed=9, ties="optimistic")
    record.ci = {"replicates": replicates, "level": 0.95, "seed": 0, "intervals": {}}
    asked = []
    real = bootstrap.bootstrap_ci
    monkeypatch.setattr(
        bootstrap, "bootstrap_ci", lambda *a, **k: asked.append(k["replicates"]) or real(*a, **k)
    )
    entry = _user(
        build_leaderboard("ucfcrime-ar", records=[("d.json", record)], ids_hash=fake_ids_hash)
    )
    assert asked == [MAX_REPLICATES]
    assert any(f"{MAX_REPLICATES} bootstrap replicates" in n for n in entry.notes)


@pytest.mark.parametrize(
    "ci",
    [
        {"replicates": "many"},
        {"level": 7},
        {"seed": -1},
        {"replicates": float("nan")},
        {"level": "<script>"},
    ],
)
def test_malformed_ci_settings_drop_the_intervals(ci) -> None:
    """L24."""
    record = make_record(seed=9)
    record.ci = {"intervals": {"SumR": [1.0, 2.0]}, **ci}
    entry = _user(
        build_leaderboard("ucfcrime-ar", records=[("d.json", record)], ids_hash=fake_ids_hash)
    )
    assert entry.ci is None and any("dropped" in n for n in entry.notes)
