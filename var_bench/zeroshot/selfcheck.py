"""The frame-layout self-check: known frames through the exact preprocessing, before encoding.

A wrong frame layout does not crash a model, it silently lowers its score (a channels-first bug
cut one model's MTEB video score from 36.16 to 20.79). So before any video is encoded, a few
frames with a known pattern go through the encoder's own :meth:`preprocess` (and, given a
decode function, through a real encode -> decode round trip first), and the result is read back
as RGB on [0, 1] (:meth:`ZeroShotEncoder.as_rgb`). The pattern (:func:`pattern_frames`), per
frame ``k`` of ``T``, rows in thirds: red ``(255, 0, 0)``; grey ``30 + 180 k / (T - 1)``; blue
``(0, 0, 255)``. Read back, the checks are, in order:

- layout: the network input has the manifest's layout (``NCHW``: ``(T, 3, h, w)``); frames
  handed over channels-first (``(T, 3, H, W)``) or not uint8 are refused at the door;
- value scale: every value within [-0.1, 1.1] after undoing mean / std (0..255 values, or a
  second division by 255, fail);
- channel order: the top band reads red and the bottom band blue (swapped: BGR);
- frame order: the grey band's level rises with ``k`` (reversed or shuffled frames fail).

Each failure is one :class:`~var_bench.errors.InputError` line naming what was expected and what
arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from var_bench.errors import InputError

#: Pattern size: frames of this height and width (a 4:3 frame, as most benchmark videos).
PATTERN_T, PATTERN_H, PATTERN_W = 4, 240, 320
#: Largest colour error accepted per channel (on [0, 1]); video codecs' 4:2:0 chroma stays well
#: within it away from band edges.
TOLERANCE = 0.2


def pattern_frames(t: int = PATTERN_T, h: int = PATTERN_H, w: int = PATTERN_W) -> np.ndarray:
    """The known pattern ``(t, h, w, 3)`` uint8 RGB (module docstring).

    >>> f = pattern_frames(3, 6, 4)
    >>> f[0, 0, 0].tolist(), f[2, 3, 0].tolist(), f[1, 5, 0].tolist()
    ([255, 0, 0], [210, 210, 210], [0, 0, 255])
    """
    out = np.zeros((t, h, w, 3), np.uint8)
    a, b = h // 3, 2 * h // 3
    out[:, :a, :, 0] = 255
    out[:, b:, :, 2] = 255
    for k in range(t):
        out[k, a:b] = round(30 + 180 * k / max(t - 1, 1))
    return out


def check_frames(frames: Any, where: str = "frames") -> np.ndarray:
    """Refuse decoded frames that are not ``(T, H, W, 3)`` uint8 RGB with ``T >= 1`` in one line;
    return them.

    >>> try:
    ...     check_frames(np.zeros((2, 3, 8, 8), np.uint8))
    ... except Exception as e:
    ...     print(e)
    frames: expected (T, H, W, 3) uint8 RGB, got shape (2, 3, 8, 8) (channels-first?)
    """
    x = np.asarray(frames)
    if x.ndim != 4 or x.shape[-1] != 3:
        hint = " (channels-first?)" if x.ndim == 4 and x.shape[1] == 3 else ""
        raise InputError(
            f"{where}: expected (T, H, W, 3) uint8 RGB, got shape {tuple(x.shape)}{hint}"
        )
    if x.dtype != np.uint8:
        raise InputError(f"{where}: expected (T, H, W, 3) uint8 RGB, got dtype {x.dtype}")
    if len(x) == 0:
        raise InputError(f"{where}: expected at least one frame, got none")
    return x


def bands(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean colour of the top, middle and bottom bands' centres of ``(T, h, w, 3)`` images:
    ``(T, 3)`` each (rows 1/12-3/12, 5/12-7/12, 9/12-11/12, the central half of columns)."""
    _, h, w, _ = rgb.shape
    cols = slice(w // 4, max(w // 4 + 1, 3 * w // 4))

    def band(lo: int, hi: int) -> np.ndarray:
        rows = slice(lo * h // 12, max(lo * h // 12 + 1, hi * h // 12))
        return rgb[:, rows, cols].reshape(rgb.shape[0], -1, 3).mean(axis=1)

    return band(1, 3), band(5, 7), band(9, 11)


def check_rgb(rgb: np.ndarray, t: int, what: str) -> None:
    """The checks of the module docstring on ``(T, h, w, 3)`` float images read back on [0, 1]
    from the pattern of ``t`` frames; ``what`` names the step in the message."""
    if rgb.ndim != 4 or rgb.shape[-1] != 3:
        raise InputError(
            f"frame-layout self-check ({what}): expected (T, h, w, 3) RGB images, got shape "
            f"{tuple(rgb.shape)}"
        )
    if rgb.shape[0] != t:
        raise InputError(
            f"frame-layout self-check ({what}): expected the {t} pattern frames to stay {t}, got "
            f"{rgb.shape[0]}"
        )
    lo, hi = float(rgb.min()), float(rgb.max())
    if lo < -0.1 or hi > 1.1 or hi < 0.5:
        raise InputError(
            f"frame-layout self-check ({what}): expected values on [0, 1] after undoing "
            f"mean / std, got [{lo:.4g}, {hi:.4g}] (wrong value scale: 0..255, or /255 twice?)"
        )
    top, mid, bottom = bands(rgb)
    red, blue = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])

    def near(x: np.ndarray, c: np.ndarray) -> bool:
        return bool(np.all(np.abs(x - c) <= TOLERANCE))

    if all(near(x, blue) for x in top) and all(near(x, red) for x in bottom):
        raise InputError(
            f"frame-layout self-check ({what}): expected RGB channel order, got BGR (a red band "
            f"read as blue)"
        )
    if not (all(near(x, red) for x in top) and all(near(x, blue) for x in bottom)):
        raise InputError(
            f"frame-layout self-check ({what}): expected a red band over a blue band, got "
            f"{np.round(top[0], 2).tolist()} over {np.round(bottom[0], 2).tolist()} (channels "
            f"mixed: channels-first frames read as channels-last?)"
        )
    grey = mid.mean(axis=1)
    if not np.all(np.diff(grey) > 0.05):
        raise InputError(
            f"frame-layout self-check ({what}): expected frames in time order (grey levels "
            f"rising), got {np.round(grey, 2).tolist()}"
        )


def self_check(encoder: Any, decode: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
    """Run the pattern through ``encoder.preprocess`` (after ``decode``, a function that writes
    the pattern as a video and decodes it back with the pipeline's decoder, when given) and
    refuse any of the faults of the module docstring in one line.

    Raises:
        InputError: a wrong channel layout, channel order, value scale or frame order.
    """
    frames = pattern_frames()
    if decode is not None:
        decoded = check_frames(decode(frames), "decoded pattern")
        check_rgb(decoded.astype(np.float32) / 255.0, len(frames), "decode")
        frames = decoded
    x = encoder.preprocess(check_frames(frames))
    check_rgb(encoder.as_rgb(x), len(frames), "preprocess")
