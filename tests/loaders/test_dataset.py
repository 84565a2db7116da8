"""FeatureDataset: rows read zero-copy from Arrow, crops, labels, selections, chunked tables."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest
import torch

from var_bench.errors import DataError, InputError
from var_bench.features.arrowview import ColumnView
from var_bench.loaders import FeatureDataset

from .tables import feature_dataset


def test_items_match_the_stored_arrays() -> None:
    ds, arrays = feature_dataset()
    fd = FeatureDataset(ds, text_column="caption_en")
    assert len(fd) == 4 and fd.streams == ("rgb", "flow") and fd.dims == {"rgb": 4, "flow": 4}
    ref = ds.with_format("numpy")
    for i in range(len(fd)):
        item = fd[i]
        assert item["index"] == i and item["video_id"] == f"v{i:03d}"
        for s in ("rgb", "flow"):
            assert item[s].dtype == np.float32
            np.testing.assert_array_equal(item[s], arrays[s][i])
            np.testing.assert_array_equal(item[s], ref[i][s])
        assert item["snippet_labels"].tolist() == ref[i]["snippet_labels"].tolist()
        assert item["video_label"] == float(i % 2)
        assert item["text"] == f"caption {i}" and item["class"] == ("Abuse" if i % 2 else "Normal")
    assert fd[-1]["video_id"] == "v003"
    with pytest.raises(IndexError):
        fd[4]


def test_rows_are_views_of_the_arrow_buffer() -> None:
    ds, _ = feature_dataset()
    fd = FeatureDataset(ds, text_column="caption_en")
    a, b = fd[0]["rgb"], fd[0]["rgb"]
    assert not a.flags.owndata and not a.flags.writeable  # a view, not a copy
    assert np.shares_memory(a, b)
    buf = ds.data.table.column("rgb").chunk(0).storage.values.values.buffers()[1]
    assert a.__array_interface__["data"][0] >= buf.address


def test_unknown_labels_are_minus_one_and_float16_is_cast() -> None:
    ds, arrays = feature_dataset(labels=False, dtype="float16", streams=("rgb",))
    item = FeatureDataset(ds, text_column="caption_en")[2]
    assert item["snippet_labels"].tolist() == [-1] * 5
    assert item["rgb"].dtype == np.float32
    np.testing.assert_array_equal(item["rgb"], arrays["rgb"][2].astype(np.float32))


def test_all_crops_stored_pick_one() -> None:
    ds, arrays = feature_dataset(crops=3, streams=("rgb",))
    x = arrays["rgb"][2]  # [T, C, D]
    np.testing.assert_array_equal(
        FeatureDataset(ds, text_column="caption_en", crop="center")[2]["rgb"], x[:, 0]
    )
    np.testing.assert_allclose(
        FeatureDataset(ds, text_column="caption_en", crop="mean")[2]["rgb"], x.mean(1), rtol=1e-6
    )
    fd = FeatureDataset(ds, text_column="caption_en", crop="random", seed=3)
    picks = [fd[2]["rgb"] for _ in range(20)]
    assert all(any(np.array_equal(p, x[:, c]) for c in range(3)) for p in picks)
    assert len({p.tobytes() for p in picks}) > 1
    assert fd.dims == {"rgb": 4}


def test_random_crop_is_the_same_for_rgb_and_flow() -> None:
    # Regression (fidelity.md): RGB and Flow of one item drew their crops independently.
    ds, arrays = feature_dataset(crops=5, streams=("rgb", "flow"))
    x = {s: arrays[s][2] for s in ("rgb", "flow")}
    fd = FeatureDataset(ds, text_column="caption_en", crop="random", seed=7)
    crops = []
    for _ in range(30):
        item = fd[2]
        picked = {
            s: next(c for c in range(5) if np.array_equal(item[s], x[s][:, c]))
            for s in ("rgb", "flow")
        }
        assert picked["rgb"] == picked["flow"]
        crops.append(picked["rgb"])
    assert len(set(crops)) > 1  # still random across items


def test_select_shuffle_and_stream_subset() -> None:
    ds, arrays = feature_dataset(lengths=(2, 3, 4, 5, 6))
    fd = FeatureDataset(ds.select([4, 1]), streams=["flow"], text_column="caption_en")
    assert len(fd) == 2 and set(fd[0]) >= {"flow"} and "rgb" not in fd[0]
    assert fd[0]["video_id"] == "v004"
    np.testing.assert_array_equal(fd[1]["flow"], arrays["flow"][1])
    sh = FeatureDataset(ds.shuffle(seed=0), text_column="caption_en")
    assert sorted(sh[i]["video_id"] for i in range(5)) == [f"v{i:03d}" for i in range(5)]


def test_chunked_and_sliced_tables() -> None:
    ds, arrays = feature_dataset(lengths=(2, 3, 4, 5, 6, 1))
    t = ds.data.table
    chunked = pa.concat_tables([t.slice(0, 2), t.slice(2, 3), t.slice(5)])
    fd = FeatureDataset(chunked)
    for i in range(6):
        np.testing.assert_array_equal(fd[i]["rgb"], arrays["rgb"][i])
    sliced = FeatureDataset(t.slice(3, 2))
    np.testing.assert_array_equal(sliced[1]["flow"], arrays["flow"][4])


def test_pickles_for_worker_processes() -> None:
    ds, arrays = feature_dataset()
    fd = pickle.loads(pickle.dumps(FeatureDataset(ds, text_column="caption_en")))
    np.testing.assert_array_equal(fd[3]["rgb"], arrays["rgb"][3])


def test_refuses_what_it_cannot_read() -> None:
    ds, _ = feature_dataset()
    with pytest.raises(
        InputError, match="expected feature streams among rgb, flow .* asked for audio"
    ):
        FeatureDataset(ds, text_column="caption_en", streams=["audio"])
    with pytest.raises(InputError, match="crop expected one of random, center, mean"):
        FeatureDataset(ds, text_column="caption_en", crop="left")
    with pytest.raises(InputError, match="expected feature streams among none"):
        FeatureDataset(ds.remove_columns(["rgb", "flow"]), text_column="caption_en")
    ragged = pa.array([[[1.0, 2.0], [3.0]]])
    with pytest.raises(DataError, match="same shape"):
        ColumnView(ragged, 2, "rgb")


def test_dataloader_with_workers() -> None:
    from var_bench.loaders import make_collate

    ds, _ = feature_dataset(lengths=tuple(range(1, 9)))
    loader = torch.utils.data.DataLoader(
        FeatureDataset(ds, text_column="caption_en"),
        batch_size=3,
        num_workers=2,
        collate_fn=make_collate(streams=("rgb", "flow"), sample="random", n=4, seed=1),
    )
    batches = list(loader)
    assert [b["rgb"].shape for b in batches] == [(3, 4, 4), (3, 4, 4), (2, 4, 4)]
    assert sum((b["index"].tolist() for b in batches), []) == list(range(8))
