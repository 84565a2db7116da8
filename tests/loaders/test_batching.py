"""collate: padding with masks, fixed-n sampling, pooling long videos, T = 1 and B = 1."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from var_bench.errors import InputError
from var_bench.loaders import FeatureDataset, collate, make_collate
from var_bench.loaders.sampling import uniform_indices

from .tables import feature_dataset


def _items(lengths=(3, 1, 5, 2), **kw):
    ds, arrays = feature_dataset(lengths, **kw)
    fd = FeatureDataset(ds, text_column="caption_en")
    return [fd[i] for i in range(len(fd))], arrays


def test_padding_and_masks() -> None:
    items, arrays = _items()
    b = collate(items, streams=("rgb", "flow"))
    assert b["rgb"].shape == (4, 5, 4) and b["rgb"].dtype == torch.float32
    assert b["rgb_mask"].dtype == torch.bool
    assert b["rgb_mask"].sum(1).tolist() == [3, 1, 5, 2]
    assert torch.equal(b["rgb_mask"], b["flow_mask"])
    assert b["length"].tolist() == [3, 1, 5, 2] and b["length"].dtype == torch.long
    assert b["index"].tolist() == [0, 1, 2, 3] and b["video_id"] == ["v000", "v001", "v002", "v003"]
    np.testing.assert_array_equal(b["flow"][2].numpy(), arrays["flow"][2])
    np.testing.assert_array_equal(b["rgb"][0, :3].numpy(), arrays["rgb"][0])
    assert b["rgb"][0, 3:].abs().sum() == 0  # zero padding
    assert b["snippet_labels"][0].tolist() == [1, 0, 0, -1, -1]  # -1 on padding
    assert b["video_label"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert b["text"][1] == "caption 1" and b["class"][1] == "Abuse"


def test_uniform_sampling_fixed_n() -> None:
    items, arrays = _items()
    b = collate(items, streams=("rgb",), sample="uniform", n=4)
    assert b["rgb"].shape == (4, 4, 4) and bool(b["rgb_mask"].all())
    assert "flow" not in b
    for i, T in enumerate((3, 1, 5, 2)):
        np.testing.assert_array_equal(b["rgb"][i].numpy(), arrays["rgb"][i][uniform_indices(T, 4)])
    assert b["length"].tolist() == [3, 1, 5, 2]
    assert b["snippet_labels"][1].tolist() == [1, 1, 1, 1]  # T = 1: repeated


def test_random_sampling_is_seeded() -> None:
    items, arrays = _items(lengths=(40, 7))
    one = collate(items, streams=("rgb",), sample="random", n=8, rng=np.random.default_rng(5))
    two = collate(items, streams=("rgb",), sample="random", n=8, rng=np.random.default_rng(5))
    assert torch.equal(one["rgb"], two["rgb"])
    rows = {r.tobytes() for r in arrays["rgb"][0]}
    assert all(r.numpy().tobytes() in rows for r in one["rgb"][0])
    other = collate(items, streams=("rgb",), sample="random", n=8, rng=np.random.default_rng(6))
    assert not torch.equal(one["rgb"], other["rgb"])


def test_max_snippets_pools_long_videos() -> None:
    items, arrays = _items(lengths=(10, 3))
    b = collate(items, streams=("rgb",), max_snippets=4)
    assert b["rgb"].shape == (2, 4, 4) and b["rgb_mask"].sum(1).tolist() == [4, 3]
    edges = [0, 2, 5, 7, 10]
    ref = np.stack([arrays["rgb"][0][edges[k] : edges[k + 1]].mean(0) for k in range(4)])
    np.testing.assert_allclose(b["rgb"][0].numpy(), ref, rtol=1e-5, atol=1e-6)
    assert b["length"].tolist() == [10, 3]  # the original T
    # labels 1,0,0,1,0,0,1,0,0,1 over groups {0,1} {2,3,4} {5,6} {7,8,9}
    assert b["snippet_labels"][0].tolist() == [1, 0, 1, 0]
    pooled_then_sampled = collate(items, streams=("rgb",), max_snippets=4, sample="uniform", n=2)
    assert pooled_then_sampled["rgb"].shape == (2, 2, 4)


def test_single_item_single_snippet() -> None:
    items, _ = _items(lengths=(1,))
    b = collate(items, streams=("rgb", "flow"))
    assert b["rgb"].shape == (1, 1, 4) and b["rgb_mask"].tolist() == [[True]]
    b = collate(items, streams=("rgb",), sample="random", n=3, rng=np.random.default_rng(0))
    assert b["rgb"].shape == (1, 3, 4) and torch.equal(b["rgb"][0, 0], b["rgb"][0, 2])


def test_plain_dict_items_and_torch_arrays() -> None:
    items = [
        {"index": 7, "video_id": "x", "audio": torch.ones(2, 128), "video_label": 1.0},
        {"index": 8, "video_id": "y", "audio": np.zeros((3, 128), np.float16)},
    ]
    b = collate(items, streams=("audio",))
    assert b["audio"].shape == (2, 3, 128) and b["snippet_labels"].eq(-1).all()
    assert "text" not in b and b["video_label"].tolist() == [1.0, 0.0]


def test_make_collate_pickles() -> None:
    items, _ = _items()
    fn = pickle.loads(pickle.dumps(make_collate(streams=("rgb",), sample="random", n=2, seed=3)))
    assert fn(items)["rgb"].shape == (4, 2, 4)
    a = make_collate(streams=("rgb",), sample="random", n=2, seed=3)(items)
    b = make_collate(streams=("rgb",), sample="random", n=2, seed=3)(items)
    assert torch.equal(a["rgb"], b["rgb"])


def test_bad_options_and_items() -> None:
    items, _ = _items()
    with pytest.raises(InputError, match="empty batch"):
        collate([], streams=("rgb",))
    with pytest.raises(InputError, match="sample expected one of None, uniform, random"):
        collate(items, streams=("rgb",), sample="stride", n=2)
    with pytest.raises(InputError, match="needs n >= 1"):
        make_collate(streams=("rgb",), sample="uniform")
    with pytest.raises(InputError, match="lacks audio"):
        collate(items, streams=("audio",))
    bad = [{"index": 0, "video_id": "x", "rgb": np.ones((2, 4)), "flow": np.ones((3, 4))}]
    with pytest.raises(InputError, match="one length T >= 1 per item"):
        collate(bad, streams=("rgb", "flow"))
