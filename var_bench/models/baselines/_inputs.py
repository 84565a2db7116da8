"""Input plumbing shared by the baseline models: which video streams a model reads, how a batch's
streams are joined, the query side (BERT tokens on UCFCrime-AR, VGGish snippets on XDViolence-AR)
and a masked softmax.

Batches follow ``var_bench.loaders.batching``: per stream ``s`` a FloatTensor ``[B, L, D_s]`` and
``s_mask`` BoolTensor ``[B, L]`` (True = real snippet); ``text`` list[str] on text benchmarks.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from var_bench.errors import InputError
from var_bench.features.layouts import VIDEO_STREAMS, video_streams  # gallery streams, in model order
from var_bench.models.base import ModelContext
from var_bench.models.text import TextEncoder

#: The query stream of audio benchmarks (the batch key of the VGGish features).
AUDIO = "audio"
#: ``ModelContext.query_modality`` of text benchmarks (the batch key ``text`` holds the captions).
TEXT = "text"


def select_streams(ctx: ModelContext, requested: Sequence[str] | None = None) -> tuple[str, ...]:
    """Video streams the model uses: ``requested`` (a subset of the store's video streams, any
    names: rgb, flow, clip, ...) or, by default, the I3D streams the store has (rgb, plus flow when
    present; every video stream when it has neither), in the store's order."""
    available = list(video_streams(ctx.streams))
    if requested is None:
        chosen = [s for s in available if s in VIDEO_STREAMS] or available
    else:
        wanted = [str(s) for s in requested]
        unknown = [s for s in wanted if s not in available]
        if unknown or not wanted:
            raise InputError(f"model streams: expected a non-empty subset of "
                             f"{', '.join(available) or '(none)'}, got {', '.join(wanted) or '(none)'}")
        chosen = [s for s in available if s in wanted]
    if not chosen:
        raise InputError(f"model streams: expected a video stream (e.g. {', '.join(VIDEO_STREAMS)}) in "
                         f"the feature store, got {', '.join(ctx.streams) or '(none)'}")
    return tuple(chosen)


def query_dim(ctx: ModelContext) -> int:
    """Feature size of one audio query snippet (``ctx.dims['audio']``, VGGish: 128)."""
    if AUDIO not in ctx.dims:
        raise InputError(f"audio query: expected ctx.dims to give the {AUDIO!r} feature size, "
                         f"got {sorted(ctx.dims)}")
    return int(ctx.dims[AUDIO])


def stream_mask(batch: Mapping[str, Any], stream: str) -> Tensor:
    """``batch[stream + '_mask']``, or all True when the batch carries no mask."""
    x = batch[stream]
    mask = batch.get(f"{stream}_mask")
    if mask is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return mask.to(device=x.device, dtype=torch.bool)


def joined_streams(batch: Mapping[str, Any], streams: Sequence[str]) -> tuple[Tensor, Tensor]:
    """Per-snippet concatenation of ``streams`` -> ``([B, L, sum D_s], mask [B, L])``.

    The streams of one video are aligned snippet by snippet (the store trims them to one T), so
    the joint mask is the AND of the stream masks.
    """
    xs = [batch[s].float() for s in streams]
    mask = stream_mask(batch, streams[0])
    for s in streams[1:]:
        mask = mask & stream_mask(batch, s)
    return torch.cat(xs, dim=-1), mask


def make_text_encoder(ctx: ModelContext, options: Mapping[str, Any] | None = None) -> TextEncoder:
    """The text encoder of ``ctx.text_model`` with ``options`` (the model arg ``text``: keys
    ``freeze``, ``cache``, ``max_length``, ``dropout``; see
    :class:`~var_bench.models.text.TextEncoder`)."""
    opts = dict(options or {})
    known = {"freeze", "cache", "max_length", "dropout"}
    extra = sorted(set(opts) - known)
    if extra:
        raise InputError(f"text options: expected keys among {', '.join(sorted(known))}, "
                         f"got {', '.join(extra)}")
    return TextEncoder(ctx.text_model, **opts)


def text_tokens(encoder: TextEncoder, batch: Mapping[str, Any]) -> tuple[Tensor, Tensor, Tensor]:
    """``(tokens [B, W, H], mask [B, W], cls [B, H])`` of the batch's captions."""
    if TEXT not in batch:
        raise InputError(f"text query: expected the batch to carry {TEXT!r} captions, "
                         f"got keys {sorted(batch)}")
    tokens, mask, cls, _ = encoder(list(batch[TEXT]))
    return tokens.float(), mask, cls.float()


def audio_tokens(batch: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
    """``(snippets [B, T, 128], mask [B, T])``: the audio query as a token sequence."""
    if AUDIO not in batch:
        raise InputError(f"audio query: expected the batch to carry the {AUDIO!r} stream, "
                         f"got keys {sorted(batch)}")
    return batch[AUDIO].float(), stream_mask(batch, AUDIO)


def masked_softmax(logits: Tensor, mask: Tensor | None, dim: int) -> Tensor:
    """``softmax(logits)`` along ``dim`` over the True positions of ``mask`` (broadcastable);
    masked positions get weight 0, and an all-masked slice gets weights that sum to 0."""
    if mask is None:
        return torch.softmax(logits, dim=dim)
    filled = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
    return torch.softmax(filled, dim=dim) * mask.to(logits.dtype)


def normalize(x: Tensor) -> Tensor:
    """L2-normalise the last axis."""
    return F.normalize(x, dim=-1)
