"""Crop reduction and modality alignment rules (pure functions).

Crops (``--crops``): ``mean`` = the mean over the C crops, accumulated in float32, then cast to the
stored dtype; ``center`` = crop 0 (upstream crop 0 is the centre crop); ``all`` = every crop,
stored ``[T, C, D]``.

Alignment: the streams of one video (rgb, flow, audio) may differ by one snippet (upstream Flow and
VGGish have T or T-1 where RGB has T). Every stream is trimmed to the shortest length, dropping the
last snippet(s); a difference of more than one snippet is an error.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from var_bench.errors import InputError

CROP_MODES: tuple[str, ...] = ("mean", "center", "all")
#: The most the stream lengths of one video may differ by (in snippets) before trimming.
MAX_LENGTH_GAP = 1


def check_crops_mode(mode: str) -> str:
    if mode not in CROP_MODES:
        raise InputError(f"crops: expected one of {', '.join(CROP_MODES)}, got {mode!r}")
    return mode


def reduce_crops(x: np.ndarray, mode: str) -> np.ndarray:
    """``x`` ``[T, C, D]`` -> ``[T, D]`` (``mean`` in float32, ``center`` = crop 0) or the
    ``[T, C, D]`` array itself (``all``), as a new float32 C-contiguous array."""
    if mode == "mean":
        return x.mean(axis=1, dtype=np.float32)
    if mode == "center":
        return np.ascontiguousarray(x[:, 0, :], dtype=np.float32)
    if mode == "all":
        return np.array(x, dtype=np.float32, order="C")
    raise InputError(f"crops: expected one of {', '.join(CROP_MODES)}, got {mode!r}")


def aligned_length(lengths: Mapping[str, int], video_id: str) -> int:
    """The common T of a video's streams: ``min(lengths)``; InputError when they differ by more
    than :data:`MAX_LENGTH_GAP` snippets."""
    lo, hi = min(lengths.values()), max(lengths.values())
    if hi - lo > MAX_LENGTH_GAP:
        found = ", ".join(f"{s} T = {t}" for s, t in lengths.items())
        raise InputError(f"video {video_id}: expected stream lengths within {MAX_LENGTH_GAP} "
                         f"snippet of each other, found {found}")
    return lo
