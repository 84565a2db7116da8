"""The extractor models behind ``--model``: construction (pinned or random weights) and encoding.

Each encoder maps uint8 model-input snippets to features on its device:

- ``i3d-rgb`` / ``i3d-flow``: clips ``[B, F, c, c, 3 | 2]`` -> :meth:`I3D.features` ``[B, 1024]``
  after ``x / 255 * 2 - 1``;
- ``clip-vit-b16``: the snippet's middle frame (or all F, averaged) -> ``[B, 512]``;
- ``vggish``: log-mel examples ``[B, 1, 96, 64]`` -> ``[B, 128]`` (PCA-quantised or raw).

Mixed precision (``precision`` fp16 / bf16) runs the forward pass under ``torch.autocast`` on
CUDA only; features are returned as float32. On CPU only fp32 is accepted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from var_bench.errors import InputError
from var_bench.extract import weights as W
from var_bench.extract.frames import scale_uint8
from var_bench.extract.recipes import Recipe

MODELS: tuple[str, ...] = ("i3d-rgb", "i3d-flow", "vggish", "clip-vit-b16")
#: The feature-store stream each model's output is.
STREAM_OF: dict[str, str] = {
    "i3d-rgb": "rgb",
    "i3d-flow": "flow",
    "vggish": "audio",
    "clip-vit-b16": "rgb",
}
PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "bf16")
#: Seed of random-initialised weights (``--weights random``): the same random model every run.
RANDOM_SEED = 0


@dataclass
class Encoder:
    """A model ready to encode, with what identifies its weights."""

    key: str
    module: torch.nn.Module
    device: torch.device
    dim: int
    weights: dict[str, Any]
    precision: str = "fp32"
    recipe: Recipe | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def random(self) -> bool:
        return bool(self.weights.get("random"))

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.float16 if self.precision == "fp16" else torch.bfloat16
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Model inputs (uint8 clips, or float log-mel examples) -> ``[B, dim]`` float32 on CPU."""
        x = x.to(self.device, non_blocking=True)
        with self._autocast():
            if self.key.startswith("i3d"):
                out = self.module.features(scale_uint8(x).permute(0, 4, 1, 2, 3))
            elif self.key == "vggish":
                out = self.module(x.float())
                if self.extra.get("pca"):
                    out = self.module.postprocess(out.float())
            else:
                out = self._clip(x)
        return out.float().cpu()

    def _clip(self, x: torch.Tensor) -> torch.Tensor:
        from var_bench.extract.clip import normalise

        b, f = x.shape[:2]
        frames = x[:, f // 2 : f // 2 + 1] if self.recipe.clip_frame == "middle" else x
        n = frames.shape[1]
        imgs = normalise(frames.reshape(b * n, *frames.shape[2:]).permute(0, 3, 1, 2))
        emb = self.module.encode_image(imgs)
        return emb.float().reshape(b, n, -1).mean(dim=1)


def _device(device: str) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"--device: expected cpu, cuda or cuda:N, got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device: expected a CUDA device, torch {torch.__version__} sees none")
    return dev


def _random(build):
    """Build a module under a fixed seed without disturbing the caller's RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        return build()


def _weights_entry(pin: W.WeightsPin, vf: W.VerifiedFile) -> dict[str, Any]:
    return {
        "file": pin.filename,
        "url": pin.url,
        "sha256": vf.sha256,
        "pin": pin.describe(),
        "pinned": vf.pinned,
        "random": False,
    }


def load_encoder(
    key: str,
    weights: str | None = None,
    *,
    device: str = "cpu",
    recipe: Recipe | None = None,
    precision: str = "fp32",
    pca: str | None = None,
    home=None,
    allow_unpinned: bool = False,
    download: bool = True,
    mirror: str | None = None,
    progress: bool | None = None,
) -> Encoder:
    """The encoder ``key`` (see :data:`MODELS`) with ``weights``: a file or folder, ``"random"``,
    or None (the data home's pinned file, fetched into it first when missing and ``download``:
    see :func:`~var_bench.extract.weights.download_weights`; ``mirror`` and ``progress`` go
    there)."""
    if key not in MODELS:
        raise InputError(f"--model: expected one of {', '.join(MODELS)}, got {key!r}")
    if precision not in PRECISIONS:
        raise InputError(f"--precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    dev = _device(device)
    if precision != "fp32" and dev.type != "cuda":
        raise InputError(
            f"--precision {precision}: expected a CUDA device (mixed precision is only "
            f"used on GPUs), got {dev}"
        )
    rand = weights == W.RANDOM
    extra: dict[str, Any] = {}

    def pinned_file(pin: W.WeightsPin, given) -> W.VerifiedFile:
        path = W.resolve(pin, given, home, download=download, mirror=mirror, progress=progress)
        return W.verify(path, pin, allow_unpinned=allow_unpinned)

    if key.startswith("i3d"):
        from var_bench.extract.i3d import FEATURE_DIM, I3D

        channels = 3 if key == "i3d-rgb" else 2
        module = _random(lambda: I3D(in_channels=channels))
        dim = FEATURE_DIM
        if rand:
            w = {"random": True, "seed": RANDOM_SEED}
        else:
            pin = W.PINS[key]
            vf = pinned_file(pin, weights)
            W.load_into(module, W.load_state_dict(vf.path), vf.path)
            w = _weights_entry(pin, vf)
    elif key == "vggish":
        from var_bench.extract.vggish import EMBEDDING_DIM, VGGish

        module = _random(VGGish)
        dim = EMBEDDING_DIM
        use_pca = recipe is None or recipe.audio_output == "pca"
        extra["pca"] = use_pca
        if rand:
            w = {"random": True, "seed": RANDOM_SEED}
            if use_pca:  # a random orthogonal PCA (seeded): exercises the post-processing path
                g = torch.Generator().manual_seed(RANDOM_SEED)
                q, _ = torch.linalg.qr(torch.randn(EMBEDDING_DIM, EMBEDDING_DIM, generator=g))
                module.load_pca(
                    {"pca_eigen_vectors": q.numpy(), "pca_means": np.zeros(EMBEDDING_DIM)}
                )
        else:
            pin = W.PINS["vggish"]
            vf = pinned_file(pin, weights)
            W.load_into(module, W.load_state_dict(vf.path), vf.path)
            w = _weights_entry(pin, vf)
            if use_pca:
                ppin = W.PINS["vggish-pca"]
                given = (
                    pca
                    if pca is not None
                    else (
                        vf.path.parent / ppin.filename
                        if (vf.path.parent / ppin.filename).is_file()
                        else None
                    )
                )
                pf = pinned_file(ppin, given)
                try:
                    module.load_pca(W.load_state_dict(pf.path, allow_numpy=True))
                except (KeyError, ValueError) as e:
                    raise InputError(
                        f"weights {pf.path}: expected the VGGish PCA parameters, got {e}"
                    ) from None
                w["pca"] = _weights_entry(ppin, pf)
    else:
        from var_bench.extract.clip import EMBEDDING_DIM, load_clip

        dim = EMBEDDING_DIM
        if rand:
            module = _random(lambda: load_clip(None))
            w = {"random": True, "seed": RANDOM_SEED}
        else:
            pin = W.PINS[key]
            vf = pinned_file(pin, weights)
            module = load_clip(vf.path)
            w = _weights_entry(pin, vf)
    module.eval().to(dev)
    return Encoder(key, module, dev, dim, w, precision, recipe, extra)
