"""Frame sampling and decoding for zero-shot encoders (the decode step of the pipeline).

The frame index rule (pure, :func:`frame_indices`): a video of ``n`` frames at ``src`` fps is
sampled at ``fps``: output frame ``j`` is source frame ``floor(j * src / fps)`` (the extract
stage's frame-rate conversion, exact fractions); when more than ``max_frames`` remain,
``max_frames`` of them are kept at positions ``round(k * (m - 1) / (max_frames - 1))``,
k = 0..max_frames-1 (uniform thinning, first and last kept). :func:`decode_video` applies that
rule to a file with PyAV and returns ``(T, H, W, 3)`` uint8 RGB frames in time order.

:func:`decode_video` and :func:`~var_bench.zeroshot.run.encode_video` are the two picklable
top-level steps a distributed runner maps over (decode on CPU workers, encode on GPU workers).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from var_bench.errors import InputError

#: The index rule, in the words every manifest records.
INDEX_RULE = (
    "frame floor(j * native_fps / fps) for j = 0, 1, ...; above max_frames, "
    "the sampled frames round(k * (m - 1) / (max_frames - 1)) for k < max_frames"
)


def thin(m: int, max_frames: int) -> list[int]:
    """Positions kept of ``m`` sampled frames: all when ``m <= max_frames``, else
    ``round(k * (m - 1) / (max_frames - 1))`` for ``k < max_frames``.

    >>> thin(5, 8)
    [0, 1, 2, 3, 4]
    >>> thin(10, 4)
    [0, 3, 6, 9]
    """
    if max_frames < 1:
        raise InputError(f"max_frames: expected an integer >= 1, got {max_frames}")
    if m <= max_frames:
        return list(range(m))
    if max_frames == 1:
        return [(m - 1) // 2]
    return [int(np.floor(k * (m - 1) / (max_frames - 1) + 0.5)) for k in range(max_frames)]


def frame_indices(n: int, src: float | Fraction, fps: float | None, max_frames: int) -> list[int]:
    """Source frame indices a video of ``n`` frames at ``src`` fps yields under the rule
    (module docstring); ``fps`` None keeps every frame before thinning.

    >>> frame_indices(90, 30, 1.0, 32)
    [0, 30, 60]
    >>> frame_indices(300, 30, 1.0, 4)
    [0, 90, 180, 270]
    >>> frame_indices(2, 1, 2.0, 8)  # above the native rate frames repeat
    [0, 0, 1, 1]
    """
    from var_bench.extract.frames import resampled_indices

    sampled = resampled_indices(n, src, fps)
    return [sampled[k] for k in thin(len(sampled), max_frames)]


def decoder_name() -> str:
    """``pyav <version> / ffmpeg libavcodec <version>`` (what the manifest records)."""
    from var_bench.extract.video import decoder_identity

    ident = decoder_identity()
    codec = ident.get("libavcodec")
    return f"pyav {ident['version']}" + (f" / libavcodec {codec}" if codec else "")


def decode_video(
    path: str | os.PathLike, fps: float | None, max_frames: int, *, with_times: bool = False
):
    """The sampled frames of the video at ``path``: ``(T, H, W, 3)`` uint8 RGB in time order
    (rule: module docstring; T >= 1); with ``with_times``, also each frame's time in seconds
    ``(T,)`` (sampled frame ``j`` is at ``j / fps``; with ``fps`` None, its frame index).

    Frames are kept at the native resolution until thinning is known, so memory is the sampled
    frames' (at 1 fps, 240 x 320, an hour is 830 MB).

    Raises:
        InputError: a file FFmpeg cannot open or decode, or one with no frames.
    """
    from var_bench.extract.video import decode_frames

    frames = list(decode_frames(Path(path), None if fps is None else float(fps)))
    if not frames:
        raise InputError(f"{path}: expected a video with at least one frame, decoded none")
    keep = thin(len(frames), max_frames)
    out = np.stack([frames[k] for k in keep])
    if not with_times:
        return out
    times = np.asarray(keep, dtype=np.float64) / (float(fps) if fps else 1.0)
    return out, times
