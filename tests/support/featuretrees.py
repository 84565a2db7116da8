"""Small raw feature trees in every upstream layout, for the feature-build tests.

``write_tree(root, layout, ids)`` writes one stream's files for ``ids`` (a dict split -> ids, the
upstream split deciding the folder: ``train`` and ``val`` ids go to the train folders) and returns
``{video_id: array}`` of what it wrote (``[T, C, D]`` for crop layouts, ``[T, D]`` for VGGish and
the TEVAD caption embeddings),
so tests can compare the store against ``values.mean(axis=1)`` etc. ``path_of`` names one file,
so a test can break it (delete, truncate, overwrite).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

DIMS = {"ucf-crops": 1024, "ucf-rtfm": 2048, "xd-i3d": 1024, "xd-vggish": 128,
        "vadclip-ucf": 512, "pel4vad-ucf": 1024, "tevad-text-ucf": 768,
        "xd-tevad": 1024, "vadclip-xd": 512, "tevad-text-xd": 768}
CROPS = {"ucf-crops": 10, "ucf-rtfm": 10, "xd-i3d": 5, "xd-vggish": 1,
         "vadclip-ucf": 10, "pel4vad-ucf": 10, "tevad-text-ucf": 1,
         "xd-tevad": 5, "vadclip-xd": 10, "tevad-text-xd": 1}
#: Layouts written as one [T, D] file per crop; one [T, D] file per video (no crop axis).
PER_CROP = ("ucf-crops", "xd-i3d", "vadclip-ucf", "pel4vad-ucf", "vadclip-xd")
NO_CROPS = ("xd-vggish", "tevad-text-ucf", "tevad-text-xd")
_XD = {("rgb", "train"): "RGB", ("rgb", "test"): "RGBTest", ("flow", "train"): "Flow",
       ("flow", "test"): "FlowTest"}


def _ucf_class(video_id: str, up: str) -> str:
    cls = "".join(c for c in video_id.split("_")[0] if c.isalpha()) or "Normal"
    if cls.startswith("Normal"):
        cls = "Testing_Normal_Videos_Anomaly" if up == "test" else "Training_Normal_Videos_Anomaly"
    return cls


def path_of(root: Path, layout: str, split: str, video_id: str, crop: int = 0,
            stream: str = "rgb") -> Path:
    """Where ``layout`` keeps crop ``crop`` of ``video_id`` (upstream folder names)."""
    up = "test" if split == "test" else "train"
    if layout == "ucf-crops":
        top = "Test" if up == "test" else "Train"
        return (root / top / ("RGB" if stream == "rgb" else "Flow") / _ucf_class(video_id, up)
                / f"{video_id}__{crop}.npy")
    if layout == "vadclip-ucf":  # UCFClipFeatures/<Class>/<Stem>__<k>.npy
        return root / _ucf_class(video_id, up) / f"{video_id}__{crop}.npy"
    if layout == "pel4vad-ucf":  # the I3D release with crop 0 renamed <Stem>.npy
        return root / (f"{video_id}.npy" if crop == 0 else f"{video_id}__{crop}.npy")
    if layout in ("tevad-text-ucf", "tevad-text-xd"):
        return root / f"{up}_text" / f"{video_id}_emb.npy"
    if layout == "xd-tevad":
        return root / f"xd_{up}_i3d" / f"{video_id}_i3d.npy"
    if layout == "vadclip-xd":
        return root / f"XD{up.capitalize()}ClipFeatures" / f"{video_id}__{crop}.npy"
    if layout == "ucf-rtfm":
        return root / f"UCF_{up.capitalize()}_ten_crop_i3d" / f"{video_id}_i3d.npy"
    if layout == "xd-i3d":
        return root / _XD[stream, up] / f"{video_id}__{crop}.npy"
    if layout == "xd-vggish":
        return root / "vggish-features" / up / f"{video_id}__vggish.npy"
    raise ValueError(layout)


def write_tree(root: Path, layout: str, ids: dict[str, list[str]], *, stream: str = "rgb",
               lengths: dict[str, int] | None = None, T: int = 5, seed: int = 0,
               dtype: str = "float32") -> dict[str, np.ndarray]:
    """Write one stream of ``ids`` in ``layout`` under ``root``; returns what was written.

    ``lengths``: T per video id (default ``T`` + the video's position mod 3, so lengths vary).
    Values are seeded per video id, so two streams of one tree differ but reruns are identical.
    """
    out = {}
    C, D = CROPS[layout], DIMS[layout]
    n = 0
    for split, vids in ids.items():
        for vid in vids:
            t = (lengths or {}).get(vid, T + n % 3)
            n += 1
            rng = np.random.default_rng([seed, zlib.crc32(f"{stream}/{vid}".encode())])
            x = rng.standard_normal((t, C, D), dtype=np.float32).astype(dtype)
            if layout in PER_CROP:
                for k in range(C):
                    p = path_of(root, layout, split, vid, k, stream)
                    p.parent.mkdir(parents=True, exist_ok=True)
                    np.save(p, np.ascontiguousarray(x[:, k, :]))
            else:
                if layout in NO_CROPS:
                    x = x[:, 0, :]
                p = path_of(root, layout, split, vid, 0, stream)
                p.parent.mkdir(parents=True, exist_ok=True)
                np.save(p, x)
            out[vid] = x
    return out
