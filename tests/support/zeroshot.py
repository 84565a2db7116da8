"""A numpy zero-shot encoder for the tests of the pipeline (no torch, no open_clip), with switches
that plant the frame-layout faults the self-check must refuse."""

from __future__ import annotations

import hashlib
from typing import ClassVar

import numpy as np

from var_bench.zeroshot.encoders.base import Sampling, ZeroShotEncoder
from var_bench.zeroshot.pooling import POOLINGS, l2_normalise

DIM = 16
SIDE = 12
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


class FakeEncoder(ZeroShotEncoder):
    """Frames: centre square, nearest-neighbour to 12 x 12, scaled, normalised, NCHW; an
    embedding is a fixed random projection of that. Texts and audio: hashed random vectors.

    ``fault``: ``bgr`` (channels reversed), ``hwc`` (NHWC handed over as NCHW), ``scale`` (no
    division by 255), ``reverse`` (frames in reverse order), or None. ``calls`` counts frames
    encoded."""

    modalities: ClassVar[frozenset[str]] = frozenset({"text", "video", "audio"})

    def __init__(
        self, fault=None, fps=2.0, max_frames=8, pooling="mean", weights="random", dim=DIM
    ):
        self.fault = fault
        self.calls = 0
        self._sampling = Sampling(
            model_id="fake/numpy",
            weights=str(weights),
            decoder="pyav",
            fps=float(fps),
            max_frames=int(max_frames),
            index_rule="floor",
            resize=f"nearest {SIDE}",
            crop=f"center square -> {SIDE}",
            mean=MEAN,
            std=STD,
            channel_layout="NCHW RGB float32",
            pooling=POOLINGS[pooling],
            audio_rate=16000,
            audio_window_s=1.0,
        )
        self.dim = dim
        self.proj = np.random.default_rng(0).standard_normal((3 * SIDE * SIDE, dim))

    @property
    def sampling(self):
        return self._sampling

    def preprocess(self, frames):
        t, h, w, _ = frames.shape
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        idx = np.arange(SIDE) * s // SIDE
        x = frames[:, top + idx][:, :, left + idx].astype(np.float32)
        if self.fault != "scale":
            x = x / 255.0
        if self.fault == "bgr":
            x = x[..., ::-1]
        if self.fault == "reverse":
            x = x[::-1]
        x = (x - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
        return x if self.fault == "hwc" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def encode_frames(self, frames):
        self.calls += len(frames)
        x = self.preprocess(frames)
        return l2_normalise(x.reshape(len(x), -1) @ self.proj)

    def encode_text(self, texts):
        out = [
            np.random.default_rng(
                int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)
            ).standard_normal(self.dim)
            for t in texts
        ]
        return l2_normalise(np.array(out))

    def encode_audio(self, wave, rate):
        n = max(1, len(wave) // rate)
        rms = [float(np.sqrt(np.mean(w**2))) if len(w) else 0.0 for w in np.array_split(wave, n)]
        return l2_normalise(np.outer(np.array(rms) + 1.0, np.ones(self.dim)))
