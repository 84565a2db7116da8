"""Small raw feature trees in every upstream layout, for the feature-build tests.

``write_tree(root, layout, ids)`` writes one stream's files for ``ids`` (a dict split -> ids, the
upstream split deciding the folder: ``train`` and ``val`` ids go to the train folders) and returns
``{video_id: array}`` of what it wrote (``[T, C, D]`` for crop layouts, ``[T, D]`` for VGGish and
the TEVAD caption embeddings),
so tests can compare the store against ``values.mean(axis=1)`` etc. ``path_of`` names one file,
so a test can break it (delete, truncate, overwrite). Paths come from each layout's declared
folder tree (``Layout.tree``), so these trees are laid out as the releases are.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from var_bench.benchmarks import Layout
from var_bench.features.layouts import all_layouts

DIMS = {
    "ucf-crops": 1024,
    "ucf-rtfm": 2048,
    "xd-i3d": 1024,
    "xd-vggish": 128,
    "vadclip-ucf": 512,
    "pel4vad-ucf": 1024,
    "tevad-text-ucf": 768,
    "xd-tevad": 1024,
    "vadclip-xd": 512,
    "tevad-text-xd": 768,
}
CROPS = {
    "ucf-crops": 10,
    "ucf-rtfm": 10,
    "xd-i3d": 5,
    "xd-vggish": 1,
    "vadclip-ucf": 10,
    "pel4vad-ucf": 10,
    "tevad-text-ucf": 1,
    "xd-tevad": 5,
    "vadclip-xd": 10,
    "tevad-text-xd": 1,
}


def _class(video_id: str, up: str) -> str:
    """The UCF-Crime class folder of a test id (its metadata ``video_path`` folder)."""
    cls = "".join(c for c in video_id.split("_")[0] if c.isalpha()) or "Normal"
    if cls.startswith("Normal"):
        cls = "Testing_Normal_Videos_Anomaly" if up == "test" else "Training_Normal_Videos_Anomaly"
    return cls


def layout(name: str) -> Layout:
    """A registered layout by name."""
    return all_layouts()[name]


def path_of(
    root: Path, layout_name: str, split: str, video_id: str, crop: int = 0, stream: str = "rgb"
) -> Path:
    """Where ``layout_name`` keeps crop ``crop`` of ``video_id``: the layout's declared tree."""
    up = "test" if split == "test" else "train"
    return root / layout(layout_name).path(stream, up, video_id, crop, _class(video_id, up))


def write_tree(
    root: Path,
    name: str,
    ids: dict[str, list[str]],
    *,
    stream: str = "rgb",
    lengths: dict[str, int] | None = None,
    T: int = 5,
    seed: int = 0,
    dtype: str = "float32",
) -> dict[str, np.ndarray]:
    """Write one stream of ``ids`` in layout ``name`` under ``root``; returns what was written.

    ``lengths``: T per video id (default ``T`` + the video's position mod 3, so lengths vary).
    Values are seeded per video id, so two streams of one tree differ but reruns are identical.
    """
    out = {}
    lay = layout(name)
    C, D = CROPS[name], DIMS[name]
    n = 0
    for split, vids in ids.items():
        for vid in vids:
            t = (lengths or {}).get(vid, T + n % 3)
            n += 1
            rng = np.random.default_rng([seed, zlib.crc32(f"{stream}/{vid}".encode())])
            x = rng.standard_normal((t, C, D), dtype=np.float32).astype(dtype)
            if lay.per_crop:
                for k in range(C):
                    p = path_of(root, name, split, vid, k, stream)
                    p.parent.mkdir(parents=True, exist_ok=True)
                    np.save(p, np.ascontiguousarray(x[:, k, :]))
            else:
                if lay.crops == "none":
                    x = x[:, 0, :]
                p = path_of(root, name, split, vid, 0, stream)
                p.parent.mkdir(parents=True, exist_ok=True)
                np.save(p, x)
            out[vid] = x
    return out
