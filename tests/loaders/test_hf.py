"""load_dataset(..., features=True): metadata joined with the feature store, no copies."""

from __future__ import annotations

import json
import shutil

import datasets
import numpy as np
import pyarrow as pa
import pytest
from support.featuretrees import path_of, write_tree

import var_bench
from var_bench.benchmarks import get_benchmark
from var_bench.data.paths import features_dir
from var_bench.errors import NotBuiltError, VarBenchWarning
from var_bench.features import build_features
from var_bench.features.labels import snippet_labels
from var_bench.loaders import FeatureDataset


def _ucf_store(built_home, tmp_path, **kw):
    ids = built_home["ucfcrime-ar"].expected
    raw = tmp_path / "ucf"
    values = write_tree(raw, "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]})
    build_features("ucfcrime-ar", raw, **kw)
    return raw, values


def _float_buffer(chunk: pa.Array) -> pa.Buffer:
    """The flat float buffer of a [T, D] column chunk (extension type or plain nested lists)."""
    if isinstance(chunk, pa.ExtensionArray):
        chunk = chunk.storage
    return chunk.values.values.buffers()[1]


def test_features_join_metadata_in_canonical_order(built_home, tmp_path) -> None:
    _, values = _ucf_store(built_home, tmp_path)
    expected = built_home["ucfcrime-ar"].expected
    ds = var_bench.load_dataset("ucfcrime-ar", "test", features=True, download=False)
    meta = var_bench.load_dataset("ucfcrime-ar", "test", download=False)
    assert ds["video_id"] == expected["test"]
    assert ds.column_names[: len(meta.column_names)] == meta.column_names
    assert ds["caption_en"] == meta["caption_en"]  # metadata untouched
    assert ds.features["rgb"] == datasets.Array2D(shape=(None, 1024), dtype="float32")
    rows = ds.with_format("numpy")
    for i, vid in enumerate(expected["test"]):
        ref = values[vid].mean(axis=1, dtype=np.float32)
        np.testing.assert_array_equal(rows[i]["rgb"], ref)
        assert rows[i]["num_snippets"] == ref.shape[0]
        seg = meta[i]["segments"]
        assert rows[i]["snippet_labels"].tolist() == snippet_labels(seg, ref.shape[0]).tolist()
    assert ds["video_label"] == [int(a) for a in meta["anomalous"]]
    # train has no temporal annotation: null labels; the torch view fills -1.
    train = var_bench.load_dataset("ucfcrime-ar", "train", features=True, download=False)
    assert train["snippet_labels"] == [None] * len(expected["train"])
    assert (FeatureDataset(train)[0]["snippet_labels"] == -1).all()


def test_all_splits_and_joined_splits(built_home, tmp_path) -> None:
    _ucf_store(built_home, tmp_path)
    expected = built_home["ucfcrime-ar"].expected
    dd = var_bench.load_dataset("ucfcrime-ar", features=True, download=False)
    assert list(dd) == ["train", "val", "test"]
    assert all("rgb" in dd[s].column_names for s in dd)
    both = var_bench.load_dataset("ucfcrime-ar", "train+val", features=True, download=False)
    assert both["video_id"] == expected["train"] + expected["val"]


def test_feature_columns_are_not_copied(built_home, tmp_path, monkeypatch) -> None:
    _ucf_store(built_home, tmp_path)
    from var_bench.features import store

    seen = {}
    real = store.read_split

    def spy(folder, split, columns=None):
        seen[split] = real(folder, split, columns)
        return seen[split]

    monkeypatch.setattr(store, "read_split", spy)
    ds = var_bench.load_dataset("ucfcrime-ar", "test", features=True, download=False)
    stored, got = seen["test"].column("rgb").chunk(0), ds.data.table.column("rgb").chunk(0)
    assert _float_buffer(got).address == _float_buffer(stored).address


def test_missing_videos_are_dropped_with_a_warning(built_home, tmp_path) -> None:
    ids = built_home["ucfcrime-ar"].expected
    raw = tmp_path / "ucf"
    write_tree(raw, "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]})
    gone = ids["test"][1]
    for k in range(10):
        path_of(raw, "ucf-crops", "test", gone, k).unlink()
    build_features("ucfcrime-ar", raw, allow_missing=True)
    with pytest.warns(VarBenchWarning, match="test: 1 of 3 videos have no features"):
        ds = var_bench.load_dataset("ucfcrime-ar", "test", features=True, download=False)
    assert ds["video_id"] == [v for v in ids["test"] if v != gone]
    assert len(FeatureDataset(ds)) == 2


def test_not_built_and_a_store_of_other_metadata(built_home, tmp_path) -> None:
    with pytest.raises(NotBuiltError, match="run 'var-bench build ucfcrime-ar --features DIR'"):
        var_bench.load_dataset("ucfcrime-ar", "test", features=True, download=False)
    _, values = _ucf_store(built_home, tmp_path)
    own = var_bench.load_dataset("ucfcrime-ar", "test", features=True, download=False)
    folder = features_dir(get_benchmark("ucfcrime-ar"))
    m = json.loads((folder / "manifest.json").read_text())
    m["ids_sha256"]["test"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(m))
    # built from other id lists: rows found by video id, labels from this metadata (the same here)
    ds = var_bench.load_dataset("ucfcrime-ar", "test", features=True, download=False)
    assert ds["video_id"] == own["video_id"] and ds["snippet_labels"] == own["snippet_labels"]
    assert ds["video_label"] == own["video_label"]
    np.testing.assert_array_equal(
        ds.with_format("numpy")[0]["rgb"], values[ds[0]["video_id"]].mean(axis=1, dtype=np.float32)
    )
    shutil.rmtree(folder)
    with pytest.raises(NotBuiltError, match="expected built features"):
        var_bench.load_dataset("ucfcrime-ar", "val", features=True, download=False)


def test_xd_all_crops_with_flow_and_audio(built_home, tmp_path) -> None:
    ids = built_home["xdviolence-ar"].expected
    split_ids = {"train": ids["train"] + ids["val"], "test": ids["test"]}
    raw = tmp_path / "xd"
    lengths = {v: 4 + i % 2 for i, v in enumerate(split_ids["train"] + split_ids["test"])}
    rgb = write_tree(raw, "xd-i3d", split_ids, lengths=lengths)
    write_tree(raw, "xd-i3d", split_ids, stream="flow", lengths=lengths)
    write_tree(raw, "xd-vggish", split_ids, lengths=lengths)
    build_features("xdviolence-ar", raw, crops="all", dtype="float16")
    ds = var_bench.load_dataset("xdviolence-ar", "test", features=True, download=False)
    assert ds.features["rgb"] == datasets.Array3D(shape=(None, 5, 1024), dtype="float16")
    assert ds.features["audio"] == datasets.Array2D(shape=(None, 128), dtype="float16")
    fd = FeatureDataset(ds, crop="center")
    item = fd[0]
    assert set(fd.streams) == {"rgb", "flow", "audio"} and "text" not in item
    np.testing.assert_array_equal(
        item["rgb"], rgb[ids["test"][0]][:, 0].astype(np.float16).astype(np.float32)
    )
    assert item["audio"].shape == (item["rgb"].shape[0], 128)
    assert isinstance(ds.data.table.column("rgb").chunk(0), pa.ExtensionArray)


def test_a_query_table_joins_features_as_one_row_per_query_and_positive():
    """A table gold's split (query rows naming their videos) becomes pair rows with video_id:
    what the feature join and the training loader take."""
    import pyarrow as pa

    from var_bench.loaders.hf import _pairs

    table = pa.table(
        {
            "query_id": ["q0", "q1"],
            "caption_en": ["a dog", "a cat"],
            "video_ids": [["v1"], ["v2", "v3"]],
        }
    )
    pairs = _pairs(table)
    assert pairs.column("query_id").to_pylist() == ["q0", "q1", "q1"]
    assert pairs.column("video_id").to_pylist() == ["v1", "v2", "v3"]
    assert pairs.column("caption_en").to_pylist() == ["a dog", "a cat", "a cat"]
    videos = pa.table({"video_id": ["v1"], "caption_en": ["x"]})
    assert _pairs(videos) is videos
