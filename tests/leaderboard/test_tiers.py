"""Tiers, tracks, order, deduplication and provenance flags on constructed boards whose truth
is known."""

from __future__ import annotations

import copy
import json
import logging

import pytest
from support.records_factory import fake_ids_hash, make_record

from var_bench.benchmarks import get_benchmark
from var_bench.errors import InputError
from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.tiers import PAIRED, WILSON


def _twin(record, name):
    other = copy.deepcopy(record)
    other.name = name
    return other


def test_two_identical_models_share_a_tier_and_a_much_better_one_does_not() -> None:
    a = make_record(seed=1, skill=0.05, name="a")
    board = build_leaderboard(
        "ucfcrime-ar",
        records=[
            ("a.json", a),
            ("b.json", _twin(a, "b")),
            ("c.json", make_record(seed=2, skill=0.4, name="c")),
        ],
        ids_hash=fake_ids_hash,
    )
    tier = {e.method: e.tier for e in board.entries}
    assert tier["a"] == tier["b"] and tier["c"] == 1 and tier["a"] > 1
    pair = next(
        t
        for t in board.tests
        if {board.entries[t.a].method, board.entries[t.b].method} == {"a", "b"}
    )
    assert pair.method == PAIRED and pair.better is None and pair.p_value == 1.0
    assert all(
        t.method == WILSON
        for t in board.tests
        if board.entries[t.a].is_published or board.entries[t.b].is_published
    )


def test_published_rows_close_together_share_a_tier() -> None:
    board = build_leaderboard("ucfcrime-ar")
    tier = {e.method: e.tier for e in board.entries}
    # ALAN 160.7 and X-CLIP 150.1: 26 vs 24 correct queries at R@1 - not told apart.
    assert tier["ALAN"] == tier["X-CLIP"] == 1 and tier["Random"] > 1
    data = json.loads(render(board, "json"))
    assert [e["tier"] for e in data["entries"]] == [e.tier for e in board.entries]
    assert {c["method"] for c in data["comparisons"]} == {WILSON}


def test_order_by_tier_and_track(tmp_path) -> None:
    strong = make_record(
        seed=2,
        skill=0.4,
        name="clip-run",
        disclosure={"features": "CLIP ViT-B/16", "training_data": "train"},
    )
    board = build_leaderboard(
        "ucfcrime-ar", records=[("s.json", strong)], ids_hash=fake_ids_hash, order="tier"
    )
    tiers = [e.tier for e in board.entries]
    assert tiers == sorted(tiers) and board.order == "tier"
    assert set(board.tracks) == {"CLIP ViT-B/16", "I3D RGB+Flow"}
    only = build_leaderboard(
        "ucfcrime-ar", records=[("s.json", strong)], ids_hash=fake_ids_hash, track="clip vit-b/16"
    )
    assert [e.method for e in only.entries] == ["clip-run"]
    assert only.entries[0].feature_origin == "declared"
    assert "CLIP ViT-B/16 (declared)" in render(only, "md")
    with pytest.raises(InputError, match="--track: expected one of the feature sets"):
        build_leaderboard("ucfcrime-ar", track="VGG")
    with pytest.raises(InputError, match="--order"):
        build_leaderboard("ucfcrime-ar", order="name")


def test_same_submission_counts_once() -> None:
    a = make_record(seed=1, name="first")
    a.submission_sha256 = "ab" * 32
    b = _twin(a, "again")
    b.date = "2026-12-01T00:00:00Z"
    board = build_leaderboard(
        "ucfcrime-ar", records=[("a.json", a), ("b.json", b)], ids_hash=fake_ids_hash
    )
    assert [e.method for e in board.user_entries] == ["again"]
    assert board.dropped == (("a.json", "b.json"),) and board.user_entries[0].duplicates == (
        "a.json",
    )
    assert "Duplicates dropped" in render(board, "md")


def test_synthetic_leakage_and_provenance_flags() -> None:
    rec = make_record(
        seed=3,
        disclosure={
            "features": "synthetic features (var_bench.synth, seed 0)",
            "training_data": "train + UCA captions",
        },
    )
    entry = build_leaderboard(
        "ucfcrime-ar", records=[("s.json", rec)], ids_hash=fake_ids_hash
    ).user_entries[0]
    assert entry.synthetic and "synthetic features" in entry.flags
    assert any(
        f.startswith("leakage: UCA training data holds 214 test videos") for f in entry.flags
    )
    xd = make_record("xdviolence-ar", seed=3, disclosure={"training_data": "UCA"})
    assert not any(
        "leakage" in f
        for f in build_leaderboard(
            "xdviolence-ar", records=[("x.json", xd)], ids_hash=fake_ids_hash
        )
        .user_entries[0]
        .flags
    )


def test_evaluate_features_string_names_the_track() -> None:
    rec = make_record(seed=3, disclosure={"features": "real features (rgb, flow)"})
    entry = build_leaderboard(
        "ucfcrime-ar", records=[("r.json", rec)], ids_hash=fake_ids_hash
    ).user_entries[0]
    assert entry.feature_set == "I3D RGB+Flow" and not entry.synthetic


def test_provenance_identity_wins_over_the_declared_field() -> None:
    rec = make_record(seed=3, disclosure={"features": "real I3D"})
    rec.provenance = {"feature_set": "CLIP ViT-B/16", "synthetic": False}
    entry = build_leaderboard(
        "ucfcrime-ar", records=[("r.json", rec)], ids_hash=fake_ids_hash
    ).user_entries[0]
    assert (entry.feature_set, entry.feature_origin) == ("CLIP ViT-B/16", "record")


def test_a_non_record_json_is_one_warning_line(tmp_path, caplog) -> None:
    make_record().save(tmp_path / "a.json")
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    with caplog.at_level(logging.WARNING):
        board = build_leaderboard("ucfcrime-ar", tmp_path, ids_hash=fake_ids_hash)
    assert len(board.user_entries) == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "notes.json: skipped, not a result record" in lines[0]


@pytest.mark.shared_data
def test_uca_overlap_count_matches_the_upstream_files(shared_data) -> None:
    import pandas as pd

    from var_bench.data.splits import expected_ids_sha256
    from var_bench.fsutil import sha256_lines
    from var_bench.leaderboard.published import published_table

    table = pd.read_excel(shared_data / "Roc-Ng-VAR" / "ucf_crime_test.xlsx")
    ids = [s.strip().split("/")[-1].removesuffix(".mp4") for s in table.iloc[:, 0].astype(str)]
    if sha256_lines(ids) != expected_ids_sha256(get_benchmark("ucfcrime-ar"), "test"):
        pytest.skip("the raw test list does not hash to the canonical ids here")
    uca = json.loads(
        (
            shared_data / "Xuange923-Surveillance-Video-Understanding" / "UCFCrime_Train.json"
        ).read_text()
    )
    overlap = published_table("ucfcrime-ar").overlaps[0]
    assert len(set(ids) & set(uca)) == overlap.test_videos == 214 and len(ids) == 290


def test_feature_stores_are_told_apart_by_digest_and_tracked_by_it() -> None:
    """Two runs named I3D RGB+Flow on different stores (digests) and one on CLIP: the board shows
    the digest beside the name, notes the split, and --track takes a name or a digest prefix."""
    identity = {"kind": "real", "streams": ["rgb", "flow"]}
    a = make_record(
        seed=1, skill=0.3, name="on-a", disclosure={"features": "real features (rgb, flow)"}
    )
    a.provenance, a.features_digest = {"features": identity}, "a" * 64
    b = make_record(
        seed=2, skill=0.2, name="on-b", disclosure={"features": "real features (rgb, flow)"}
    )
    b.provenance, b.features_digest = {"features": identity}, "b" * 64
    c = make_record(
        seed=3, skill=0.2, name="clip", disclosure={"features": "real features (rgb, flow, clip)"}
    )
    c.provenance = {"features": {"kind": "real", "streams": ["rgb", "flow", "clip"]}}
    records = [("a.json", a), ("b.json", b), ("c.json", c)]
    board = build_leaderboard("ucfcrime-ar", records=records, ids_hash=fake_ids_hash)
    by = {e.method: e for e in board.user_entries}
    assert by["on-a"].track == "I3D RGB+Flow #aaaaaaaa" and by["on-a"].feature_origin == "record"
    assert (
        by["clip"].feature_set == "I3D RGB+Flow, CLIP" and by["clip"].track == "I3D RGB+Flow, CLIP"
    )
    assert {
        "I3D RGB+Flow",
        "I3D RGB+Flow #aaaaaaaa",
        "I3D RGB+Flow #bbbbbbbb",
        "I3D RGB+Flow, CLIP",
    } <= set(board.tracks)
    md = render(board, "md")
    assert (
        r"I3D RGB+Flow \#aaaaaaaa" in md and "rows on 2 different feature stores" in md
    )  # md escapes #
    data = json.loads(render(board, "json"))
    assert {e["method"]: e["features_digest"] for e in data["entries"]}["on-b"] == "b" * 64
    # The name keeps the paper rows and both stores; a digest prefix keeps one store's rows.
    named = build_leaderboard(
        "ucfcrime-ar", records=records, ids_hash=fake_ids_hash, track="i3d rgb+flow"
    )
    assert {e.method for e in named.user_entries} == {"on-a", "on-b"} and any(
        e.is_published for e in named.entries
    )
    for track in ("I3D RGB+Flow #bbbbbbbb", "#bbbbbbbb", "bbbbbbbbbbbb"):
        one = build_leaderboard("ucfcrime-ar", records=records, ids_hash=fake_ids_hash, track=track)
        assert [e.method for e in one.entries] == ["on-b"], track
    with pytest.raises(InputError, match="--track: expected one of the feature sets"):
        build_leaderboard("ucfcrime-ar", records=records, ids_hash=fake_ids_hash, track="#bbbb")


def test_stream_names_make_feature_set_names() -> None:
    from var_bench.leaderboard.entries import feature_label, streams_label

    assert streams_label(["rgb", "flow"]) == "I3D RGB+Flow"
    assert streams_label(["clip"]) == "CLIP"
    assert streams_label(["rgb", "audio"]) == "I3D RGB, VGGish audio"
    assert streams_label(["rgb", "swin"]) == "I3D RGB, swin"
    assert feature_label("real features (clip)") == "CLIP"  # was "I3D clip"
