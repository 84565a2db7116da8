"""Per-video plan of a synthetic tree: snippet counts, signal snippets, ragged streams (pure).

Length T of a video (F = frames per snippet, N = ``snippets``):
- frame count known (UCFCrime-AR test): T = max(1, ceil(num_frames / F));
- annotated but no frame count (XDViolence-AR test): T = ceil(last segment end / F) + m,
  m ~ U{0..ceil(N/4)};
- otherwise (train, val, unannotated normal test videos): T ~ U{ceil(N/2)..N}.
Signal snippets: annotated videos use :func:`~var_bench.synth.signal.annotated_mask` (the build's
label rule), all others one random run of 10-30 % of T. With ``ragged``, each of flow and audio
independently loses its last snippet with probability 1/2 (T > 1), as upstream streams do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from var_bench.synth.signal import annotated_mask, random_mask, rng_for

#: Probability that a flow or audio stream is one snippet shorter than RGB under ``ragged``.
RAGGED_P = 0.5


@dataclass(frozen=True)
class VideoPlan:
    """What to write for one video. ``lengths``: snippets per stream; ``mask``: signal snippets
    over the RGB length (other streams use its prefix)."""

    video_id: str
    split: str  # upstream split: "train" or "test"
    anomalous: bool
    class_folder: str
    mask: np.ndarray
    lengths: dict[str, int]


def num_snippets(
    rng: np.random.Generator,
    snippets: int,
    frames: int,
    num_frames: int | None,
    segments: Sequence[Sequence[int]] | None,
) -> int:
    """T of one video (rules in the module docstring)."""
    if num_frames is not None:
        return max(1, math.ceil(num_frames / frames))
    if segments:
        last = max(int(end) for _, end in segments)
        return max(1, math.ceil(last / frames)) + int(rng.integers(0, math.ceil(snippets / 4) + 1))
    return int(rng.integers(math.ceil(snippets / 2), snippets + 1))


def plan_video(
    seed: int,
    benchmark: str,
    video_id: str,
    split: str,
    anomalous: bool,
    class_folder: str,
    num_frames: int | None,
    segments: Sequence[Sequence[int]] | None,
    *,
    snippets: int,
    frames: int,
    streams: Sequence[str],
    ragged: bool,
) -> VideoPlan:
    """The plan of one video; depends only on (seed, benchmark, video id) and the knobs."""
    rng = rng_for(seed, benchmark, video_id, "plan")
    t = num_snippets(rng, snippets, frames, num_frames, segments)
    mask = annotated_mask(segments, t, frames) if segments else random_mask(rng, t)
    # Coins for both optional streams are always drawn so --no-flow leaves audio unchanged.
    short = {s: bool(rng.random() < RAGGED_P) for s in ("flow", "audio")}
    lengths = {s: t - int(ragged and t > 1 and short.get(s, False)) for s in streams}
    return VideoPlan(video_id, split, bool(anomalous), class_folder, mask, lengths)
