"""Pure numpy construction of synthetic snippet features with a learnable cross-modal signal.

For one video with content vector c (unit, dimension H) and one stream s of dimension D, the
clean snippet t is

    x_t = o + m_t * (a * (c @ P_s) + y * b * u_s)            (o ~ N(0, tau^2 I_D) once per video)

and crop k of snippet t is x_t + sigma * n_{t,k}, n ~ N(0, I_D) independent per crop, so crop
averaging helps. P_s is a fixed [H, D] matrix with N(0, 1) entries (for unit c each entry of c @ P_s
is N(0, 1), so ``a`` is the per-element signal amplitude against the per-element noise ``sigma``);
u_s a fixed direction with ||u_s|| = sqrt(D) (entries of unit size on average); m_t in {0, 1} marks
the video's signal snippets; y = 1 for anomalous videos, else 0. P_s and u_s depend only on the
seed and the stream name, so every video and both splits share them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Amplitudes:
    """Per-element amplitudes of the synthetic features (see the module formula).

    ``signal``: a, content amplitude in video streams; ``audio_signal``: a for the audio stream
    (larger: the 128-d VGGish space holds less noise-averaging room than 1024-d I3D, and
    0.35 * sqrt(1024 / 128) ~ 1 keeps the same signal-to-noise within the content subspace);
    ``anomaly``: b, amplitude of the anomaly direction; ``noise``: sigma, per-crop noise;
    ``offset``: tau, per-video constant offset (a nuisance that makes plain mean pooling weaker
    than finding the signal snippets).
    """

    signal: float = 0.35
    audio_signal: float = 1.0
    anomaly: float = 0.5
    noise: float = 1.0
    offset: float = 0.5

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` (sha256 of their ``repr`` joined): stable across runs and
    machines, unlike ``hash()``."""
    digest = hashlib.sha256("\x1f".join(map(repr, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A generator depending only on ``seed`` and ``parts`` (e.g. benchmark and video id), so a
    video's features do not depend on which other videos are written."""
    return np.random.default_rng([int(seed) & (2**63 - 1), stable_seed(*parts)])


def projection(seed: int, stream: str, in_dim: int, out_dim: int) -> np.ndarray:
    """P_s: ``[in_dim, out_dim]`` float64 with N(0, 1) entries, fixed by (seed, stream)."""
    return rng_for(seed, "projection", stream).standard_normal((in_dim, out_dim))


def anomaly_direction(seed: int, stream: str, dim: int) -> np.ndarray:
    """u_s: ``[dim]`` float64, norm sqrt(dim), fixed by (seed, stream)."""
    u = rng_for(seed, "anomaly", stream).standard_normal(dim)
    return u * (math.sqrt(dim) / np.linalg.norm(u))


def unit_latent(rng: np.random.Generator, dim: int) -> np.ndarray:
    """z / ||z|| with z ~ N(0, I_dim): the per-video content of XDViolence-AR (video and audio)."""
    z = rng.standard_normal(dim)
    return z / np.linalg.norm(z)


def _overlaps(segments: Sequence[Sequence[int]], num_snippets: int, frames: int) -> np.ndarray:
    """Frames of each snippet inside the union of half-open segments: ``[num_snippets]`` int."""
    inside = np.zeros(num_snippets * frames, dtype=bool)
    for start, end in segments:
        inside[max(int(start), 0) : max(min(int(end), inside.size), 0)] = True
    return inside.reshape(num_snippets, frames).sum(1)


def snippet_labels(segments: Sequence[Sequence[int]], num_snippets: int, frames: int) -> np.ndarray:
    """The feature build's snippet label rule as ``[num_snippets]`` bool (one source of truth:
    :func:`var_bench.features.labels.snippet_labels`): snippet i covers frames [i*F, (i+1)*F) and
    is labelled iff at least F/2 of them lie inside an annotated half-open segment [start, end).
    """
    from var_bench.features.labels import snippet_labels as build_rule

    return build_rule(segments, num_snippets, frames).astype(bool)


def annotated_mask(segments: Sequence[Sequence[int]], num_snippets: int, frames: int) -> np.ndarray:
    """Signal snippets of an annotated video: the labelled snippets (:func:`snippet_labels`), and
    for a segment that labels no snippet by itself, the snippet it overlaps most (so a short
    segment still carries signal)."""
    mask = snippet_labels(segments, num_snippets, frames)
    for seg in segments:
        own = _overlaps([seg], num_snippets, frames)
        if own.max(initial=0) > 0 and not (2 * own >= frames).any():
            mask[int(np.argmax(own))] = True
    return mask


def random_mask(
    rng: np.random.Generator, num_snippets: int, low: float = 0.1, high: float = 0.3
) -> np.ndarray:
    """One random contiguous run of round(f * T) snippets, f ~ U[low, high], at least one."""
    length = max(1, min(num_snippets, round(rng.uniform(low, high) * num_snippets)))
    start = int(rng.integers(0, num_snippets - length + 1))
    mask = np.zeros(num_snippets, dtype=bool)
    mask[start : start + length] = True
    return mask


def stream_features(
    rng: np.random.Generator,
    mask: np.ndarray,
    crops: int,
    content: np.ndarray,
    anomaly: np.ndarray | None,
    amp: Amplitudes,
    signal: float,
) -> np.ndarray:
    """Crops of one stream of one video: ``[T, crops, D]`` float32 (T = len(mask)).

    ``content`` = c @ P_s ``[D]``, or ``[T, D]`` with one content per snippet (a benchmark of
    sentences: the sum of the sentences marking the snippet); ``anomaly`` = u_s for anomalous
    videos, None otherwise;
    ``signal`` = a for this stream. Draws, in order, the offset ``[D]`` and the noise
    ``[T, crops, D]`` from ``rng``.
    """
    dim = content.shape[-1]
    offset = amp.offset * rng.standard_normal(dim)
    bump = signal * content + (amp.anomaly * anomaly if anomaly is not None else 0.0)
    clean = offset[None, :] + mask[:, None].astype(np.float64) * np.atleast_2d(bump)
    noise = rng.standard_normal((mask.size, crops, dim), dtype=np.float32)
    noise *= np.float32(amp.noise)
    noise += clean[:, None, :].astype(np.float32)
    return noise
