"""VGGish (Hershey et al. 2017) with torchvggish's state-dict names, and its log-mel front end.

Module tree as harritaylor/torchvggish's ``VGG``: ``features`` (a Sequential of 3x3 convs with
ReLU and 2x2 max pools: 64, M, 128, M, 256, 256, M, 512, 512, M; keys ``features.0`` ...
``features.12``) and ``embeddings`` (Linear 12288 -> 4096 -> 4096 -> 128, each with ReLU; keys
``embeddings.0``, ``.2``, ``.4``), so ``vggish-10086976.pth`` loads unchanged. The PCA file
``vggish_pca_params-970ea276.pth`` holds ``pca_eigen_vectors`` [128, 128] and ``pca_means`` [128].

Front end (VGGish's ``mel_features``, re-derived in numpy): 16 kHz mono, frames of 25 ms (400
samples) every 10 ms (160), periodic Hann window, |rFFT| with 512 bins, 64 mel bands (HTK mel
``1127 ln(1 + f / 700)``) between 125 and 7500 Hz, ``log(mel + 0.01)``; an example is 96 frames
(0.96 s) x 64 bands. Post-processing: ``q = round((clip(E (x - mu), -2, 2) + 2) * 255 / 4)``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import nn

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 400
HOP_SAMPLES = 160
FFT_LENGTH = 512
MEL_BANDS = 64
MEL_LOW_HZ = 125.0
MEL_HIGH_HZ = 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96
EMBEDDING_DIM = 128
QUANTIZE_MIN, QUANTIZE_MAX = -2.0, 2.0


def hertz_to_mel(f):
    """HTK mel scale: ``1127 * ln(1 + f / 700)``."""
    return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


@lru_cache(maxsize=4)
def mel_matrix(
    num_bins: int = FFT_LENGTH // 2 + 1,
    bands: int = MEL_BANDS,
    rate: int = SAMPLE_RATE,
    low: float = MEL_LOW_HZ,
    high: float = MEL_HIGH_HZ,
) -> np.ndarray:
    """``[num_bins, bands]`` triangular mel weights (the DC bin weighted 0), as VGGish."""
    bins_mel = hertz_to_mel(np.linspace(0.0, rate / 2.0, num_bins))
    edges = np.linspace(hertz_to_mel(low), hertz_to_mel(high), bands + 2)
    w = np.empty((num_bins, bands))
    for i in range(bands):
        lo, c, hi = edges[i : i + 3]
        w[:, i] = np.maximum(
            0.0, np.minimum((bins_mel - lo) / (c - lo), (hi - bins_mel) / (hi - c))
        )
    w[0, :] = 0.0
    return w


def log_mel(samples: np.ndarray) -> np.ndarray:
    """16 kHz mono samples in [-1, 1] -> ``[M, 64]`` log-mel frames (M = 1 + (S - 400) // 160)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.shape[0] < WINDOW_SAMPLES:
        return np.zeros((0, MEL_BANDS))
    n = 1 + (x.shape[0] - WINDOW_SAMPLES) // HOP_SAMPLES
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n, WINDOW_SAMPLES), strides=(x.strides[0] * HOP_SAMPLES, x.strides[0])
    )
    window = 0.5 - 0.5 * np.cos(2 * np.pi / WINDOW_SAMPLES * np.arange(WINDOW_SAMPLES))
    spec = np.abs(np.fft.rfft(frames * window, FFT_LENGTH))
    return np.log(spec @ mel_matrix() + LOG_OFFSET)


def examples_at(mel: np.ndarray, ends: list[int]) -> np.ndarray:
    """``[K, 1, 96, 64]`` float32 examples whose last frame is ``end - 1`` for each end; frames
    before the start of the audio are silence (``log(0.01)``)."""
    pad = np.full((EXAMPLE_FRAMES, mel.shape[1]), np.log(LOG_OFFSET))
    padded = np.concatenate([pad, mel]) if len(mel) else pad
    out = (
        np.stack([padded[e : e + EXAMPLE_FRAMES] for e in ends])
        if ends
        else np.zeros((0, EXAMPLE_FRAMES, MEL_BANDS))
    )
    return out[:, None].astype(np.float32)


class VGGish(nn.Module):
    """VGGish with torchvggish's names: ``[B, 1, 96, 64]`` log-mel -> ``[B, 128]`` (raw, post-ReLU).

    :meth:`postprocess` applies the PCA buffers ``pca_eigen_vectors`` / ``pca_means`` (load them
    with :meth:`load_pca`) and the 8-bit quantisation; values 0..255 as float32.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 4 * 6, 4096),
            nn.ReLU(True),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Linear(4096, EMBEDDING_DIM),
            nn.ReLU(True),
        )
        # Not in the main state dict (torchvggish keeps them in a second file): non-persistent.
        self.register_buffer(
            "pca_eigen_vectors", torch.zeros(EMBEDDING_DIM, EMBEDDING_DIM), persistent=False
        )
        self.register_buffer("pca_means", torch.zeros(EMBEDDING_DIM, 1), persistent=False)
        self.has_pca = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        # [B, 512, 6, 4] -> [B, 6, 4, 512] (TF's NHWC order, as the released weights expect)
        x = x.permute(0, 2, 3, 1).contiguous().flatten(1)
        return self.embeddings(x)

    def load_pca(self, params: dict) -> None:
        """Set the PCA from
        ``{"pca_eigen_vectors": [128, 128], "pca_means": [128] or [128, 1]}``."""
        vec = torch.as_tensor(np.asarray(params["pca_eigen_vectors"]), dtype=torch.float32)
        mu = torch.as_tensor(np.asarray(params["pca_means"]), dtype=torch.float32).reshape(-1, 1)
        if vec.shape != (EMBEDDING_DIM, EMBEDDING_DIM) or mu.shape != (EMBEDDING_DIM, 1):
            raise ValueError(
                f"PCA params: expected [128, 128] and [128], got {tuple(vec.shape)} "
                f"and {tuple(mu.shape)}"
            )
        self.pca_eigen_vectors.copy_(vec)
        self.pca_means.copy_(mu)
        self.has_pca = True

    def postprocess(self, emb: torch.Tensor) -> torch.Tensor:
        """PCA + quantisation: ``round((clip(E (x - mu), -2, 2) + 2) * 255 / 4)``, ``[B, 128]``."""
        pca = (self.pca_eigen_vectors @ (emb.t() - self.pca_means)).t()
        q = (pca.clamp(QUANTIZE_MIN, QUANTIZE_MAX) - QUANTIZE_MIN) * (
            255.0 / (QUANTIZE_MAX - QUANTIZE_MIN)
        )
        return torch.round(q)
