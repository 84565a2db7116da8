import hashlib
import json

import numpy as np
import pytest

from var_bench.data.contamination import (
    catalog,
    entry_overlaps,
    entry_videos,
    find_entry,
    parse_registry,
    registry_entries,
    training_overlaps,
)
from var_bench.errors import DataError

NAMED_IN_THE_ISSUE = [
    "HIVAU-70k",
    "VAU-Bench",
    "Hawk",
    "CUVA",
    "ECVA",
    "UCVL",
    "SurveillanceVQA-589K",
    "FineW3",
    "Vad-Reasoning",
    "UCA",
]


def test_the_shipped_registry_names_every_derived_dataset():
    entries = {e.name: e for e in registry_entries()}
    assert set(NAMED_IN_THE_ISSUE) <= set(entries)
    assert [n for n, e in entries.items() if e.pinned] == ["UCA"]
    assert entries["UCA"].training == ("train",)
    for e in entries.values():  # nothing typed in: no counts anywhere in the data
        assert "test_videos" not in json.dumps(e.__dict__, default=str)


def _uca_like(tmp_path, names):
    """A file in UCA's upstream format (a JSON object keyed by video name), laid out as a mirror,
    and a one-entry registry pinning it."""
    mirror = tmp_path / "mirror"
    folder = mirror / "someone-derived"
    folder.mkdir(parents=True)
    payload = {n: {"duration": 10.0, "timestamps": [[0.0, 1.0]], "sentences": ["x"]} for n in names}
    data = json.dumps(payload).encode()
    (folder / "Train.json").write_bytes(data)
    registry = {
        "schema": 1,
        "entries": [
            {
                "name": "Derived",
                "aliases": ["derived-set"],
                "title": "a derived set",
                "collections": ["ucf-crime"],
                "where": "a test",
                "format": "json-keys",
                "training": ["train"],
                "files": {
                    "train": {
                        "owner": "someone",
                        "repo": "derived",
                        "commit": "0" * 40,
                        "path": "ann/Train.json",
                        "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                },
            },
            {
                "name": "Closed",
                "title": "unpublished annotations",
                "collections": ["ucf-crime"],
                "where": "nowhere",
            },
        ],
    }
    return mirror, parse_registry(json.dumps(registry))


def test_overlap_computed_from_a_file_in_the_upstream_format(built_home, tmp_path):
    test_ids = built_home["ucfcrime-ar"].expected["test"]
    train_ids = built_home["ucfcrime-ar"].expected["train"]
    mirror, entries = _uca_like(tmp_path, [test_ids[0], test_ids[-1], train_ids[0], "Other_x264"])
    derived = entries[0]
    assert entry_videos(derived, "train", mirror=str(mirror)) == [
        test_ids[0],
        test_ids[-1],
        train_ids[0],
        "Other_x264",
    ]
    assert entry_overlaps(derived, "ucfcrime-ar", mirror=str(mirror)) == {"train": 2}
    assert entry_overlaps(derived, "xdviolence-ar", mirror=str(mirror)) is None  # other videos
    found = training_overlaps(
        "ucfcrime-ar",
        "train + derived-set + Closed + my notes",
        mirror=str(mirror),
        entries=entries,
    )
    assert [(o.name, o.kind, o.status, o.test_videos, o.of) for o in found] == [
        ("Derived", "registry", "overlap", 2, len(test_ids)),
        ("Closed", "registry", "unknown", None, None),
        ("my notes", "unregistered", "unknown", None, None),
    ]
    assert found[0].flag == f"in-training: Derived holds 2 of {len(test_ids)} test videos"
    assert found[1].flag.startswith("in-training unknown: Closed") and found[2].flag is None
    # the same set on XD-Violence videos holds nothing
    (o,) = training_overlaps("xdviolence-ar", "Derived", mirror=str(mirror), entries=entries)
    assert (o.status, o.test_videos) == ("none", 0)


def test_a_file_that_does_not_verify_is_unknown_not_counted(built_home, tmp_path):
    mirror, entries = _uca_like(tmp_path, ["a"])
    (mirror / "someone-derived" / "Train.json").write_text('{"b": 1}')
    (o,) = training_overlaps("ucfcrime-ar", "Derived", mirror=str(mirror), entries=entries)
    assert o.status == "unknown" and o.test_videos is None


def test_a_registered_benchmark_resolves_first(monkeypatch):
    """A benchmark named in the disclosure is compared by its train+val videos (here a stand-in
    for a benchmark registered later over the same videos, e.g. UCA)."""
    lists = {
        ("ucfcrime-ar", "test"): ["a", "b", "c"],
        ("ucfcrime-ar", "train+val"): ["x", "b"],
        ("ucfcrime-ar", "val"): ["v"],
        ("ucfcrime-ar", "train"): ["v", "x"],
    }
    monkeypatch.setattr(catalog, "_test_ids", lambda spec, split, *a: lists[(spec.name, split)])
    (o,) = training_overlaps("ucfcrime-ar", "ucfcrime-ar")
    assert (o.kind, o.status, o.test_videos, o.of) == ("benchmark", "overlap", 1, 3)
    # scoring val, its own benchmark trained on train only
    (o,) = training_overlaps("ucfcrime-ar", "ucfcrime-ar", split="val")
    assert (o.status, o.test_videos) == ("overlap", 1)
    (o,) = training_overlaps("ucfcrime-ar", "xdviolence-ar")
    assert (o.kind, o.status) == ("benchmark", "none")
    assert training_overlaps("ucfcrime-ar", "train + val") == []


def test_names_and_aliases():
    assert find_entry("trained on uca captions").name == "UCA"
    assert find_entry("Vad-R1").name == "Vad-Reasoning"
    assert find_entry("ucanoe") is None


def test_a_malformed_registry_is_refused():
    with pytest.raises(DataError, match="schema"):
        parse_registry('{"schema": 9, "entries": []}')
    bad = {
        "schema": 1,
        "entries": [
            {
                "name": "x",
                "title": "t",
                "collections": [],
                "where": "w",
                "files": {
                    "train": {
                        "owner": "o",
                        "repo": "r",
                        "commit": "c",
                        "path": "p",
                        "size": 1,
                        "sha256": "s",
                    }
                },
            }
        ],
    }
    with pytest.raises(DataError, match="format"):
        parse_registry(json.dumps(bad))


def test_uca_holds_214_of_the_290_ucfcrime_ar_test_videos(shared_data, tmp_path):
    (o,) = training_overlaps("ucfcrime-ar", "UCA", home=tmp_path, mirror=str(shared_data))
    assert (o.status, o.test_videos, o.of) == ("overlap", 214, 290)
    counts = entry_overlaps(
        find_entry("UCA"), "ucfcrime-ar", home=tmp_path, mirror=str(shared_data)
    )
    assert counts == {"train": 214, "val": 22, "test": 50}


def test_score_flags_the_record_and_prints_one_line(shared_data, tmp_path, capsys):
    from var_bench.cli import main
    from var_bench.scoring.record import ResultRecord

    sub = tmp_path / "s.npy"
    np.save(sub, np.random.default_rng(0).standard_normal((290, 290)).astype(np.float32))
    out = tmp_path / "r.json"
    args = ["score", str(sub), "-b", "ucfcrime-ar", "--home", str(tmp_path / "h")]
    args += ["--mirror", str(shared_data), "--json", str(out)]
    args += ["--disclose", "training_data=train + UCA"]
    args += ["--disclose", "model_written_test_descriptions=Holmes-VAU long captions"]
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "in-training: UCA holds 214 of 290 test videos" in text
    assert "uses model-written descriptions of the test videos: Holmes-VAU" in text
    rec = ResultRecord.load(out)
    assert rec.contamination[0]["test_videos"] == 214

    from var_bench.leaderboard import build_leaderboard

    entry = build_leaderboard("ucfcrime-ar", records=[("r.json", rec)]).user_entries[0]
    assert "in-training: UCA holds 214 test videos" in entry.flags
    assert any(f.startswith("uses model-written descriptions") for f in entry.flags)


def test_own_splits_and_bracketed_remarks_name_no_data():
    """What zero-shot records and trained runs disclose ("none (zero-shot)", "train (captions)")
    is the benchmark's own split or nothing: no overlap line, nothing unregistered."""
    from var_bench.data.contamination.catalog import training_overlaps

    for text in ("none (zero-shot)", "train (captions)", "train + val", "none"):
        assert training_overlaps("ucfcrime-ar", text, download=False) == [], text
    [other] = training_overlaps("ucfcrime-ar", "my crawl (2025)", download=False)
    assert other.name == "my crawl" and other.status == "unknown"


def test_a_benchmark_named_as_training_data_counts_what_its_models_train_on(shared_data, tmp_path):
    """UCA (its own val split): train only, 214 of UCFCrime-AR's 290 test videos, the figure the
    registry's pinned file gives; UCFCrime-AR (val carved from upstream train): train + val, 260
    of UCA's 310 test videos."""
    kw = {"home": tmp_path, "mirror": str(shared_data)}
    (o,) = training_overlaps("ucfcrime-ar", "uca", **kw)
    assert (o.kind, o.status, o.test_videos, o.of) == ("benchmark", "overlap", 214, 290)
    (o,) = training_overlaps("uca", "ucfcrime-ar", **kw)
    assert (o.kind, o.test_videos, o.of) == ("benchmark", 260, 310)
