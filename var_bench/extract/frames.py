"""Frame arithmetic: frame-rate conversion, resizing, crops, snippets and input scaling (pure).

Formulas (pixels; frames are ``[H, W, C]`` uint8 arrays, batches ``[N, H, W, C]``):

- frame-rate conversion from ``src`` to ``dst`` fps: output frame ``j`` is source frame
  ``floor(j * src / dst)``; source frame ``i`` is therefore emitted
  ``ceil((i + 1) * dst / src) - ceil(i * dst / src)`` times (0 = dropped), computed in exact
  fractions so no rounding drift accumulates over hours of video;
- resize: the short side becomes ``S``; the long side ``round(long * S / short)`` (OpenCV
  filters), or ``int(long * S / short)`` with ``pil-bicubic`` (torchvision's ``Resize`` on a PIL
  image, as in CLIP's own ``_transform``: PIL's antialiased bicubic);
- crops of side ``c`` in an ``H x W`` frame: centre ``((H - c) // 2, (W - c) // 2)``, corners
  ``(0, 0)``, ``(0, W - c)``, ``(H - c, 0)``, ``(H - c, W - c)``; crops 5-9 are crops 0-4
  mirrored horizontally (the image is flipped; flow images are flipped as images, their x
  channel is not negated: the convention of image-based flow pipelines). Against torchvision's
  ``ten_crop`` (TL, TR, BL, BR, centre, then the same five of the flipped image): the same ten
  windows in another order (our 1-4 = its 0-3, our 0 = its 4, our 5 = its 9, our 6-9 = its
  6, 5, 8, 7: a flipped image's top-left is the mirror of the top-right), and two one-pixel
  details where a margin ``H - c`` or ``W - c`` is odd: torchvision's (and pytorch-i3d's)
  centre is ``int(round(margin / 2))`` (round half to even), ours ``margin // 2``, so on a
  256 x 455 frame (16:9) its centre sits one pixel right of ours; and its mirrored centre is
  the centre crop of the flipped image, which on a 256 x 341 frame (margin 117) is the mirror of
  the window one pixel right of our centre, while our crop 5 is the exact mirror of crop 0;
- scaling: RGB ``x / 255 * 2 - 1``; flow ``(u, v)`` in pixels is clipped to ``[-20, 20]`` and
  stored as 8-bit ``round((f + 20) / 40 * 255)``, then read back like RGB (``q / 255 * 2 - 1``):
  the Kinetics-I3D TV-L1 convention, so RGB and Flow share :func:`scale_uint8`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

#: Flow values (pixels per frame) are clipped to [-FLOW_BOUND, FLOW_BOUND] before quantisation.
FLOW_BOUND = 20.0


def as_fraction(rate: float | Fraction) -> Fraction:
    """A frame rate as an exact fraction (floats limited to denominators <= 1001, e.g.
    30000/1001)."""
    return rate if isinstance(rate, Fraction) else Fraction(rate).limit_denominator(1001)


def repeats(i: int, src: Fraction, dst: Fraction) -> int:
    """How many output frames source frame ``i`` becomes when ``src`` fps is resampled to
    ``dst``."""
    r = Fraction(dst) / Fraction(src)
    return math.ceil((i + 1) * r) - math.ceil(i * r)


def resampled_indices(n_src: int, src: float | Fraction, dst: float | Fraction | None) -> list[int]:
    """Source index of every output frame (``floor(j * src / dst)``; identity when ``dst`` is
    None)."""
    if dst is None:
        return list(range(n_src))
    s, d = as_fraction(src), as_fraction(dst)
    return [i for i in range(n_src) for _ in range(repeats(i, s, d))]


def resized_size(height: int, width: int, short: int) -> tuple[int, int]:
    """``(H', W')`` with the short side ``short`` and the aspect ratio kept (long side rounded)."""
    if height <= width:
        return short, max(short, int(round(width * short / height)))
    return max(short, int(round(height * short / width))), short


_CV2_FLAGS = {"linear": "INTER_LINEAR", "cubic": "INTER_CUBIC", "area": "INTER_AREA"}
#: The resize of CLIP's own preprocessing: torchvision ``Resize(S, BICUBIC)`` on a PIL image.
PIL_BICUBIC = "pil-bicubic"


def interpolation_identity(interpolation: str) -> str:
    """How a recipe's ``interpolation`` resizes, for a feature set's identity."""
    if interpolation == PIL_BICUBIC:
        return "PIL bicubic (antialiased), long side int(long * S / short), as torchvision Resize"
    return f"opencv {interpolation}"


def resize_frame(frame: np.ndarray, short: int, interpolation: str = "linear") -> np.ndarray:
    """``frame`` resized so its short side is ``short`` (OpenCV, or PIL for ``pil-bicubic``;
    identity when already so)."""
    h, w = frame.shape[:2]
    if interpolation == PIL_BICUBIC:
        from PIL import Image

        # torchvision's _compute_resized_output_size truncates the long side.
        nh, nw = (short, int(short * w / h)) if h <= w else (int(short * h / w), short)
        if (nh, nw) == (h, w):
            return frame
        return np.asarray(Image.fromarray(frame).resize((nw, nh), Image.BICUBIC))
    import cv2

    nh, nw = resized_size(h, w, short)
    if (nh, nw) == (h, w):
        return frame
    return cv2.resize(frame, (nw, nh), interpolation=getattr(cv2, _CV2_FLAGS[interpolation]))


def crop_boxes(height: int, width: int, crop: int, crops: int) -> list[tuple[int, int, bool]]:
    """``(top, left, mirrored)`` of each crop k = 0..crops-1 (see the module docstring)."""
    if crop > height or crop > width:
        raise ValueError(f"crop {crop} larger than the frame {height}x{width}")
    base = [
        ((height - crop) // 2, (width - crop) // 2),
        (0, 0),
        (0, width - crop),
        (height - crop, 0),
        (height - crop, width - crop),
    ]
    boxes = [(t, left, False) for t, left in base] + [(t, left, True) for t, left in base]
    if crops not in (1, 5, 10):
        raise ValueError(f"crops: expected 1, 5 or 10, got {crops}")
    return boxes[:crops]


def crop_stack(frames, crop: int, crops: int):
    """``[N, H, W, C]`` -> ``[crops, N, crop, crop, C]`` (numpy array or torch tensor)."""
    n, h, w = frames.shape[:3]
    out = []
    for top, left, mirrored in crop_boxes(h, w, crop, crops):
        x = frames[:, top : top + crop, left : left + crop]
        if mirrored:
            x = x[:, :, ::-1] if isinstance(x, np.ndarray) else x.flip(2)
        out.append(x)
    if isinstance(frames, np.ndarray):
        return np.stack(out)
    import torch

    return torch.stack(out)


def scale_uint8(x):
    """8-bit images -> model input in [-1, 1]: ``x / 255 * 2 - 1`` (float32)."""
    return (
        x.float() / 255.0 * 2.0 - 1.0
        if hasattr(x, "float")
        else x.astype(np.float32) / 255.0 * 2.0 - 1.0
    )


def quantize_flow(flow: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """Flow ``[..., 2]`` (pixels) -> uint8: ``round((clip(f, -b, b) + b) / (2 b) * 255)``."""
    f = np.clip(np.asarray(flow, dtype=np.float32), -bound, bound)
    return np.rint((f + bound) * (255.0 / (2.0 * bound))).astype(np.uint8)


def snippet_chunks(n_frames: int, snippet_frames: int) -> list[tuple[int, int]]:
    """``[start, stop)`` frame ranges of the ``floor(N / F)`` snippets of ``N`` frames."""
    return [
        (k * snippet_frames, (k + 1) * snippet_frames) for k in range(n_frames // snippet_frames)
    ]
