"""Crop reduction and modality alignment rules (pure functions).

Crops (``--crops``): ``mean`` = the mean over the C crops, accumulated in float32, then cast to the
stored dtype; ``center`` = crop 0 (upstream crop 0 is the centre crop); ``k`` (digits) = crop k
(VadCLIP tests UCF on crop 5); ``all`` = every crop, stored ``[T, C, D]``. A crop policy gives
one mode per split: ``"mean"`` (every split) or ``"train=mean,test=5"`` (val follows train unless
named; a split not named gets ``mean``).

Alignment: the streams of one video (rgb, flow, audio) may differ by one snippet (upstream Flow and
VGGish have T or T-1 where RGB has T). Every stream is trimmed to the shortest length, dropping the
last snippet(s); a difference of more than one snippet is an error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from var_bench.errors import InputError

CROP_MODES: tuple[str, ...] = ("mean", "center", "all")
#: The most the stream lengths of one video may differ by (in snippets) before trimming.
MAX_LENGTH_GAP = 1


def check_crops_mode(mode: str) -> str:
    """``mode`` when it is mean | center | all | a crop index (digits), else InputError."""
    if mode not in CROP_MODES and not (isinstance(mode, str) and mode.isdigit()):
        raise InputError(
            f"crops: expected one of {', '.join(CROP_MODES)} or a crop index k, got {mode!r}"
        )
    return mode


def parse_crop_policy(
    text: str | Mapping[str, str], splits: tuple[str, ...] = ("train", "val", "test")
) -> dict[str, str]:
    """``"mean"`` -> every split mean; ``"train=mean,test=5"`` -> train mean, val mean (follows
    train), test crop 5. A mapping split -> mode is checked the same way."""
    if isinstance(text, Mapping):
        given = {str(k): str(v) for k, v in text.items()}
    elif "=" not in str(text):
        return {s: check_crops_mode(str(text).strip()) for s in splits}
    else:
        given = {}
        for part in str(text).split(","):
            split, eq, mode = part.partition("=")
            if not eq or not split.strip() or not mode.strip():
                raise InputError(
                    f"crops: expected MODE or SPLIT=MODE[,SPLIT=MODE] (e.g. "
                    f"train=mean,test=5), got {text!r}"
                )
            given[split.strip()] = mode.strip()
    bad = sorted(set(given) - set(splits))
    if bad:
        raise InputError(f"crops: expected splits among {', '.join(splits)}, got {', '.join(bad)}")
    out = {s: check_crops_mode(given[s]) for s in given}
    if "val" in splits and "val" not in out and "train" in out:
        out["val"] = out["train"]
    return {s: out.get(s, "mean") for s in splits}


def policy_text(policy: Mapping[str, str]) -> str:
    """The canonical text of a policy: one mode when all splits agree, else ``split=mode,...``."""
    modes = set(policy.values())
    if len(modes) == 1:
        return next(iter(modes))
    return ",".join(f"{s}={m}" for s, m in policy.items())


def crop_index(mode: str, num_crops: int, video_id: str = "", stream: str = "") -> int | None:
    """The crop a mode reads alone (center -> 0, k -> k), None for mean; InputError if k >= C."""
    if mode == "mean":
        return None
    k = 0 if mode == "center" else int(mode)
    if k >= num_crops:
        raise InputError(
            f"{stream} features of video {video_id}: crops {mode} expected a crop "
            f"index below C = {num_crops}, got {k}"
        )
    return k


def reduce_crops(x: np.ndarray, mode: str, out: np.ndarray | None = None) -> np.ndarray:
    """``x`` ``[T, C, D]`` -> ``[T, D]`` (``mean`` in float32, ``center`` = crop 0, ``k`` = crop k)
    or the ``[T, C, D]`` array itself (``all``), as a new float32 C-contiguous array (or written
    into ``out``, float32 of the result's shape, and returned)."""
    if mode == "mean":
        return x.mean(axis=1, dtype=np.float32, out=out)
    if mode == "center" or (isinstance(mode, str) and mode.isdigit()):
        k = crop_index(mode, x.shape[1])
        if out is not None:
            np.copyto(out, x[:, k, :], casting="unsafe")
            return out
        return np.ascontiguousarray(x[:, k, :], dtype=np.float32)
    if mode == "all":
        if out is not None:
            np.copyto(out, x, casting="unsafe")
            return out
        return np.array(x, dtype=np.float32, order="C")
    raise InputError(f"crops: expected one of {', '.join(CROP_MODES)}, got {mode!r}")


def aligned_length(lengths: Mapping[str, int], video_id: str) -> int:
    """The common T of a video's streams: ``min(lengths)``; InputError when they differ by more
    than :data:`MAX_LENGTH_GAP` snippets."""
    lo, hi = min(lengths.values()), max(lengths.values())
    if hi - lo > MAX_LENGTH_GAP:
        found = ", ".join(f"{s} T = {t}" for s, t in lengths.items())
        raise InputError(
            f"video {video_id}: expected stream lengths within {MAX_LENGTH_GAP} "
            f"snippet of each other, found {found}"
        )
    return lo
