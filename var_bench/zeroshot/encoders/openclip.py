"""Contrastive dual encoders of the CLIP family through open_clip (needs torchvision).

``clip-vit-b16``: OpenAI's CLIP ViT-B/16 (open_clip ``ViT-B-16-quickgelu``, weights
``openai``): 512-d text and image embeddings. Recipe (the manifest says it): frames sampled at
``fps`` (default 1) up to ``max_frames`` (default 32); each frame's short side resized to 224
(bicubic, antialiased), centre crop 224, scaled to [0, 1], normalised with OpenAI's mean / std,
``NCHW RGB float32``; per-frame embeddings L2-normalised and mean-pooled; captions tokenised by
open_clip's CLIP tokenizer (77 tokens) with no prompt template.

Weights (``weights=``): None, the pinned OpenAI file (``ViT-B-16.pt``, sha256-checked, fetched into
the data home like ``var-bench extract``'s); a path, OpenAI's TorchScript archive or a state dict
(``.pt`` / ``.bin`` / ``.safetensors``) carrying OpenAI's key names (which open_clip's CLIP keeps),
loaded strictly into open_clip's model of the exact architecture; ``random``: that architecture
randomly initialised (seed 0). The manifest records the file's sha256 (``random-seed0`` for random).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from var_bench.errors import InputError
from var_bench.zeroshot.encoders.base import Sampling, ZeroShotEncoder, register_encoder
from var_bench.zeroshot.pooling import POOLINGS
from var_bench.zeroshot.sampling import INDEX_RULE, decoder_name

#: Seed of ``weights="random"`` (the same random model every run).
RANDOM_SEED = 0
#: Frames per forward pass.
BATCH = 32
#: Captions per text forward pass.
TEXT_BATCH = 64


def _torch():
    import torch

    return torch


def open_clip_or_error():
    """open_clip, or one line saying how to install it (it needs a matching torchvision)."""
    from var_bench.extract.clip import open_clip_or_error as find

    return find()


class OpenClipEncoder(ZeroShotEncoder):
    """One open_clip model, loaded, as a zero-shot text / video encoder.

    Args:
        name: the registry name (messages).
        arch: open_clip model config (e.g. ``ViT-B-16-quickgelu``).
        model_id: the public id recorded in the manifest (``openai/ViT-B-16``).
        weights: None (the pinned file ``pin``), a path, or ``random``.
        device: torch device (``cpu``, ``cuda``).
        pin: the :data:`var_bench.extract.weights.PINS` key of the default weights file.
        mean, std: the weights' input normalisation (RGB on [0, 1]).
        licence: the weights' licence.
        fps, max_frames, pooling: the sampling recipe.
    """

    modalities: ClassVar[frozenset[str]] = frozenset({"text", "video"})

    def __init__(
        self,
        name: str,
        arch: str,
        model_id: str,
        weights: str | None,
        device: str,
        *,
        pin: str | None,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
        licence: str,
        fps: float = 1.0,
        max_frames: int = 32,
        pooling: str = "mean",
        home: str | None = None,
    ) -> None:
        torch = _torch()
        open_clip = open_clip_or_error()
        if pooling not in POOLINGS:
            raise InputError(f"pooling: expected one of {', '.join(POOLINGS)}, got {pooling!r}")
        if not (fps > 0 and math.isfinite(fps)):
            raise InputError(f"fps: expected a positive number, got {fps!r}")
        if max_frames < 1:
            raise InputError(f"max_frames: expected an integer >= 1, got {max_frames!r}")
        self.name, self.arch = name, arch
        try:
            self.device = torch.device(device)
        except RuntimeError as e:
            raise InputError(f"--device: expected a torch device, got {device!r} ({e})") from None
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise InputError(f"--device {device}: expected a CUDA GPU, torch sees none")
        self.model, revision = self._load(open_clip, weights, pin, home)
        self.model = self.model.float().eval().to(self.device)
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.size = (
            int(self.model.visual.image_size[0])
            if isinstance(self.model.visual.image_size, (tuple, list))
            else int(self.model.visual.image_size)
        )
        self._mean = torch.tensor(mean).view(1, 3, 1, 1)
        self._std = torch.tensor(std).view(1, 3, 1, 1)
        self._sampling = Sampling(
            model_id=model_id,
            weights=revision,
            decoder=_decoder(),
            fps=float(fps),
            max_frames=int(max_frames),
            index_rule=INDEX_RULE,
            resize=f"short side {self.size}, bicubic, antialiased",
            crop=f"center {self.size}",
            mean=tuple(float(m) for m in mean),
            std=tuple(float(s) for s in std),
            channel_layout="NCHW RGB float32",
            pooling=POOLINGS[pooling],
            prompt_template=None,
            library=f"open_clip {open_clip.__version__} ({arch})",
            licence=licence,
        )
        self.pooling = pooling

    @property
    def sampling(self) -> Sampling:
        return self._sampling

    def _load(self, open_clip, weights, pin, home) -> tuple[Any, str]:
        torch = _torch()
        if weights == "random":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(RANDOM_SEED)
                model = open_clip.create_model(self.arch, pretrained=None)
            return model, f"random-seed{RANDOM_SEED}"
        from var_bench.extract import weights as W

        if weights is None:
            if pin is None:
                raise InputError(f"{self.name}: expected --weights PATH or random, got neither")
            p = W.PINS[pin]
            path = W.resolve(p, None, home, download=True)
            W.verify(path, p)
        else:
            path = Path(weights)
            if not path.is_file():
                raise InputError(
                    f"--weights: expected a weights file or 'random', {weights} is not a file"
                )
        from var_bench.fsutil import sha256_file

        return load_weights(open_clip, self.arch, path), f"sha256:{sha256_file(path)}"

    # -- preprocessing ------------------------------------------------------------------------

    def preprocess(self, frames: np.ndarray):
        """``(T, H, W, 3)`` uint8 RGB -> ``(T, 3, S, S)`` float32 normalised (module docstring),
        on the encoder's device."""
        from var_bench.zeroshot.selfcheck import check_frames

        torch = _torch()
        frames = check_frames(frames)
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
        x = x.permute(0, 3, 1, 2).float()
        h, w = x.shape[-2:]
        s = self.size
        nh, nw = (s, max(s, round(w * s / h))) if h <= w else (max(s, round(h * s / w)), s)
        if (nh, nw) != (h, w):
            x = torch.nn.functional.interpolate(
                x, size=(nh, nw), mode="bicubic", align_corners=False, antialias=True
            )
        top, left = (nh - s) // 2, (nw - s) // 2
        x = x[:, :, top : top + s, left : left + s]
        x = (x / 255.0).clamp_(0.0, 1.0)
        return (x - self._mean.to(x.device)) / self._std.to(x.device)

    # -- encoders -----------------------------------------------------------------------------

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """Captions -> ``(N, d)`` L2-normalised text embeddings, in batches of similar length,
        each cut after its longest caption's end-of-text token (:func:`encode_tokens`)."""
        torch = _torch()
        texts = [str(t) for t in texts]
        d = int(self.model.text_projection.shape[-1])
        if not texts:
            return np.zeros((0, d), np.float32)
        out = np.zeros((len(texts), d), np.float32)
        with torch.inference_mode():
            tokens = self.tokenizer(texts)
            order = torch.argsort((tokens != 0).sum(1), stable=True)
            for i in range(0, len(texts), TEXT_BATCH):
                rows = order[i : i + TEXT_BATCH]
                emb = encode_tokens(self.model, tokens[rows].to(self.device))
                out[rows.numpy()] = emb.float().cpu().numpy()
        return out

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        return self.encode_preprocessed(self.preprocess(frames))

    def encode_preprocessed(self, x) -> np.ndarray:
        """The model's forward pass alone: preprocessed ``(T, 3, S, S)`` -> ``(T, d)``
        L2-normalised (what the benchmark script times against the whole pipeline)."""
        torch = _torch()
        out = []
        with torch.inference_mode():
            for i in range(0, x.shape[0], BATCH):
                out.append(
                    self.model.encode_image(x[i : i + BATCH], normalize=True).float().cpu().numpy()
                )
        return np.concatenate(out).astype(np.float32, copy=False)


def encode_tokens(model, tokens):
    """open_clip's ``CLIP.encode_text(tokens, normalize=True)`` on the tokens cut after the
    batch's last non-padding position (pad id 0).

    CLIP's text tower is causal and pools the end-of-text token, so the padding after it never
    reaches the result: cutting it (positional embedding and causal mask cut alike) gives the
    77-token forward's embeddings up to float rounding, about ``77 / n`` times faster for
    captions of ``n`` tokens. Models of another text tower (no causal mask, another pooling) go
    through ``model.encode_text`` as they are.
    """
    torch = _torch()
    from open_clip.transformer import text_global_pool

    if (
        getattr(model, "attn_mask", None) is None
        or getattr(model, "text_pool_type", None) != "argmax"
        or not hasattr(model, "token_embedding")
    ):
        return model.encode_text(tokens, normalize=True)
    n = max(1, int((tokens != 0).sum(1).max()))
    tokens = tokens[:, :n]
    cast = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast) + model.positional_embedding[:n].to(cast)
    x = model.ln_final(model.transformer(x, attn_mask=model.attn_mask[:n, :n]))
    x = text_global_pool(x, tokens, model.text_pool_type)
    proj = model.text_projection
    x = proj(x) if isinstance(proj, torch.nn.Linear) else x @ proj
    return torch.nn.functional.normalize(x, dim=-1)


def read_state(path: Path) -> dict:
    """The state dict in ``path``: OpenAI's TorchScript archive (its parameters), a
    ``.safetensors`` file, or a ``torch.save``'d dict (read with ``weights_only=True``; a
    ``state_dict`` entry is unwrapped, ``module.`` prefixes dropped)."""
    torch = _torch()
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(path))
        except Exception as e:
            raise InputError(
                f"weights {path}: expected a safetensors file, got {str(e).splitlines()[0][:200]}"
            ) from None
    else:
        try:
            state = torch.jit.load(str(path), map_location="cpu").state_dict()
        except Exception:  # not TorchScript: a plain state dict
            from var_bench.extract.weights import load_state_dict

            state = load_state_dict(path)
    return {k.removeprefix("module."): v for k, v in state.items()}


#: Entries of OpenAI's archives that are not parameters (ints kept beside the weights).
OPENAI_EXTRAS = ("input_resolution", "context_length", "vocab_size")


def load_weights(open_clip, arch: str, path: Path):
    """open_clip's ``arch`` with the weights at ``path`` (:func:`read_state`), loaded strictly:
    OpenAI's key names, which open_clip's CLIP keeps. One :class:`InputError` line naming the
    first missing / unexpected / mis-shaped keys otherwise."""
    state = read_state(path)
    for key in OPENAI_EXTRAS:
        state.pop(key, None)
    model = open_clip.create_model(arch, pretrained=None)
    own = model.state_dict()
    if "logit_scale" in state and "logit_scale" in own:
        state["logit_scale"] = state["logit_scale"].reshape(own["logit_scale"].shape)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        for what, keys in (("missing", missing), ("unexpected", unexpected), ("shapes", shapes)):
            if keys:
                parts.append(f"{len(keys)} {what} ({', '.join(keys[:2])})")
        raise InputError(
            f"weights {path}: expected the state dict of open_clip {arch} (OpenAI key names), "
            f"got {'; '.join(parts)}"
        )
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return model


def _decoder() -> str:
    try:
        return decoder_name()
    except ImportError:
        return "pyav (not installed)"


#: OpenAI CLIP's input normalisation (RGB, on [0, 1]).
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@register_encoder("clip-vit-b16")
def clip_vit_b16(
    weights: str | None = None,
    device: str = "cpu",
    fps: float = 1.0,
    max_frames: int = 32,
    pooling: str = "mean",
    home: str | None = None,
) -> OpenClipEncoder:
    """OpenAI CLIP ViT-B/16 (open_clip ``ViT-B-16-quickgelu``; weights MIT, OpenAI)."""
    return OpenClipEncoder(
        "clip-vit-b16",
        "ViT-B-16-quickgelu",
        "openai/ViT-B-16",
        weights,
        device,
        pin="clip-vit-b16",
        mean=OPENAI_MEAN,
        std=OPENAI_STD,
        licence="MIT (OpenAI CLIP)",
        fps=fps,
        max_frames=max_frames,
        pooling=pooling,
        home=home,
    )
