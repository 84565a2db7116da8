"""Feature stores are kept per video collection: a store built for UCFCrime-AR is the UCF-Crime
store, a third benchmark over UCF-Crime videos reads it by video id without a rebuild, a data
home of the earlier layout (``features/<benchmark>/<version>``) is moved once, and a video the
store lacks is one InputError line."""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
import pytest
from support.featuretrees import write_tree
from support.rawdata import RULE

import var_bench
from var_bench.benchmarks import UCFCRIME_AR, register_benchmark, unregister_benchmark
from var_bench.benchmarks.collections import UCF_CRIME
from var_bench.benchmarks.kit import Assembled
from var_bench.benchmarks.ucfcrime_ar.assemble import assemble as assemble_ucf
from var_bench.data.assembly.pipeline import assemble_into
from var_bench.data.paths import built_dir, data_home, features_dir
from var_bench.data.splits import SplitInfo
from var_bench.errors import InputError
from var_bench.features import build_features
from var_bench.features.labels import snippet_labels
from var_bench.fsutil import sha256_lines

UCF = "ucfcrime-ar"
THIRD = "ucfcrime-swapped"
#: The third benchmark's segments for its test videos (UCFCrime-AR train videos, unannotated there).
SEGMENTS = [[0, 32]]


def _store(built_home, tmp_path, **kw):
    ids = built_home[UCF].expected
    values = write_tree(
        tmp_path / "ucf", "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]}
    )
    return build_features(UCF, tmp_path / "ucf", progress=False, **kw), values


def _swapped(spec, raw, rule):
    """UCFCrime-AR with train and test exchanged and its new test videos annotated: every video
    of its test split lies in the store's train split, and the other way round."""
    a = assemble_ucf(spec, raw, rule).splits
    test = a["train"].assign(
        segments=[SEGMENTS] * len(a["train"]), num_frames=[64] * len(a["train"])
    )
    train = a["test"].assign(segments=[None] * len(a["test"]), num_frames=[None] * len(a["test"]))
    return Assembled({"train": train, "val": a["val"], "test": test})


@pytest.fixture
def third(built_home):
    """A third benchmark over the UCF-Crime videos, registered and built in the data home."""
    fx = built_home[UCF]
    ids = {"train": fx.expected["test"], "val": fx.expected["val"], "test": fx.expected["train"]}
    spec = dataclasses.replace(fx.spec, name=THIRD, version="0.1.0", assembler=_swapped)
    assert spec.videos is UCF_CRIME
    register_benchmark(spec)
    try:
        info = SplitInfo(THIRD, RULE, {s: sha256_lines(v) for s, v in ids.items()})
        assemble_into(spec, fx.raw, built_dir(spec, data_home()), info)
        yield spec, ids
    finally:
        unregister_benchmark(THIRD)


def test_a_store_built_for_ucfcrime_ar_is_the_ucf_crime_store(built_home, tmp_path):
    m, _ = _store(built_home, tmp_path)
    home = data_home()
    assert features_dir(UCFCRIME_AR) == home / "features" / "ucf-crime"
    assert (home / "features" / "ucf-crime" / "manifest.json").is_file()
    assert sorted(p.name for p in (home / "features").iterdir() if not p.name.startswith(".")) == [
        "ucf-crime"
    ]
    assert m.benchmark == UCF


def _lines(caplog) -> list[logging.LogRecord]:
    """What the store lookup logged (other stages log too)."""
    return [r for r in caplog.records if r.name == "var_bench.data.paths"]


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_a_third_benchmark_reads_the_store_by_video_id_without_a_rebuild(
    built_home, tmp_path, third
):
    spec, ids = third
    m, values = _store(built_home, tmp_path, crops="train=mean,test=all")
    before = _snapshot(data_home() / "features")
    test = var_bench.load_dataset(THIRD, "test", features=True, download=False)
    assert test["video_id"] == ids["test"]  # stored under train / val: found by id
    rows = test.with_format("numpy")
    for i, vid in enumerate(ids["test"]):
        want = values[vid].mean(axis=1, dtype=np.float32)
        np.testing.assert_array_equal(rows[i]["rgb"], want)
        # labels of this benchmark's metadata (the store has none for these train videos)
        assert (
            rows[i]["snippet_labels"].tolist()
            == snippet_labels(SEGMENTS, len(want), m.snippet_frames).tolist()
        )
    assert test["video_label"] == [int(not v.startswith("Normal")) for v in ids["test"]]
    train = var_bench.load_dataset(THIRD, "train", features=True, download=False)
    assert train["video_id"] == ids["train"] and train["snippet_labels"] == [None] * len(
        ids["train"]
    )
    assert np.shape(train.with_format("numpy")[0]["rgb"])[1:] == (10, 1024)  # stored [T, C, D]
    own = var_bench.load_dataset(UCF, "test", features=True, download=False)
    assert (
        own["video_id"] == built_home[UCF].expected["test"] and own["snippet_labels"][0] is not None
    )
    assert _snapshot(data_home() / "features") == before  # nothing rebuilt, nothing written


def test_a_video_the_store_lacks_is_one_line(built_home, tmp_path, third):
    ids = built_home[UCF].expected
    write_tree(
        tmp_path / "ucf", "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]}
    )
    gone = ids["train"][0]
    for p in (tmp_path / "ucf").rglob(f"{gone}__*.npy"):
        p.unlink()
    build_features(UCF, tmp_path / "ucf", allow_missing=True, progress=False)
    with pytest.raises(InputError) as e:
        var_bench.load_dataset(THIRD, "test", features=True, download=False)
    msg = str(e.value)
    assert (
        "\n" not in msg and f"1 of {len(ids['train'])} videos are not in the feature store" in msg
    )
    assert f"e.g. {gone}" in msg and f"'var-bench build {THIRD} --features DIR'" in msg


def _earlier_layout(built_home, tmp_path):
    """A UCF-Crime store built, then put where the earlier layout kept UCFCrime-AR's; returns
    (the new place, the old place)."""
    _store(built_home, tmp_path)
    new = data_home() / "features" / "ucf-crime"
    old = data_home() / "features" / UCF / UCFCRIME_AR.version
    old.parent.mkdir(parents=True)
    os.rename(new, old)
    return new, old


def test_an_old_layout_home_is_moved_once_with_a_line(built_home, tmp_path, third, caplog):
    new, old = _earlier_layout(built_home, tmp_path)
    with caplog.at_level(logging.INFO, logger="var_bench.data.paths"):
        ds = var_bench.load_dataset(
            THIRD, "test", features=True, download=False
        )  # another benchmark
        assert features_dir(UCFCRIME_AR) == new
    assert len(ds) == len(third[1]["test"])
    moved = [r for r in _lines(caplog) if "moved" in r.getMessage()]
    assert (
        len(moved) == 1 and str(old) in moved[0].getMessage() and str(new) in moved[0].getMessage()
    )
    assert (new / "manifest.json").is_file() and not old.exists() and not old.parent.exists()


def test_when_both_places_hold_a_store_the_new_one_wins(built_home, tmp_path, caplog):
    _store(built_home, tmp_path)
    home = data_home()
    old = home / "features" / UCF / UCFCRIME_AR.version
    old.mkdir(parents=True)
    (old / "manifest.json").write_text("{}")
    with caplog.at_level(logging.INFO, logger="var_bench.data.paths"):
        for _ in range(3):
            assert features_dir(UCFCRIME_AR) == home / "features" / "ucf-crime"
    said = [r.getMessage() for r in _lines(caplog)]
    assert (
        len(said) == 1 and "left alone" in said[0] and (old / "manifest.json").read_text() == "{}"
    )


def test_a_store_that_cannot_be_moved_is_read_where_it_is(
    built_home, tmp_path, caplog, monkeypatch
):
    new, old = _earlier_layout(built_home, tmp_path)

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)  # a read-only home
    with caplog.at_level(logging.INFO, logger="var_bench.data.paths"):
        ds = var_bench.load_dataset(UCF, "test", features=True, download=False)
    assert len(ds) == len(built_home[UCF].expected["test"]) and old.is_dir() and not new.exists()
    assert [r.levelname for r in _lines(caplog)] == ["WARNING"]
    assert "read at its old place" in _lines(caplog)[0].getMessage()


def test_the_old_place_inside_a_collection_of_the_benchmarks_own_name_stays(tmp_path, caplog):
    spec = dataclasses.replace(UCFCRIME_AR, name="solo-ar", videos=None)  # its own collection
    assert spec.videos.name == "solo-ar"
    old = tmp_path / "features" / "solo-ar" / spec.version
    old.mkdir(parents=True)
    with caplog.at_level(logging.INFO, logger="var_bench.data.paths"):
        assert features_dir(spec, tmp_path) == old
    assert "kept at its old place" in _lines(caplog)[0].getMessage()
    old.rmdir()
    assert features_dir(spec, tmp_path) == tmp_path / "features" / "solo-ar"
