"""Small datasets in the feature-store schema (interfaces.md section 2), built directly in Arrow."""

from __future__ import annotations

import datasets
import numpy as np

_List = getattr(datasets, "List", datasets.Sequence)


def feature_dataset(
    lengths=(3, 1, 5, 2),
    *,
    streams=("rgb", "flow"),
    dim=4,
    crops=None,
    dtype="float32",
    labels=True,
    seed=0,
    captions=True,
):
    """A ``datasets.Dataset`` shaped like ``load_dataset(..., features=True)`` and its arrays.

    Returns ``(dataset, arrays)`` with ``arrays[stream][i]`` the row's array as stored.
    """
    rng = np.random.default_rng(seed)
    n = len(lengths)
    shape = (None, dim) if crops is None else (None, crops, dim)
    kind = datasets.Array2D if crops is None else datasets.Array3D
    feats = {"video_id": datasets.Value("string"), "class": datasets.Value("string")}
    if captions:
        feats["caption_en"] = datasets.Value("string")
    cols: dict = {
        "video_id": [f"v{i:03d}" for i in range(n)],
        "class": ["Abuse" if i % 2 else "Normal" for i in range(n)],
    }
    if captions:
        cols["caption_en"] = [f"caption {i}" for i in range(n)]
    arrays = {}
    for s in streams:
        d = 128 if s == "audio" else dim
        s_shape = shape[:-1] + (d,)
        feats[s] = kind(shape=s_shape, dtype=dtype)
        arrays[s] = [rng.normal(size=(T,) + s_shape[1:]).astype(dtype) for T in lengths]
        cols[s] = arrays[s]
    feats["num_snippets"] = datasets.Value("int32")
    cols["num_snippets"] = list(lengths)
    feats["video_label"] = datasets.Value("int8")
    cols["video_label"] = [i % 2 for i in range(n)]
    feats["snippet_labels"] = _List(datasets.Value("int8"))
    cols["snippet_labels"] = (
        [[int(k % 3 == 0) for k in range(T)] for T in lengths] if labels else [None] * n
    )
    return datasets.Dataset.from_dict(cols, features=datasets.Features(feats)), arrays
