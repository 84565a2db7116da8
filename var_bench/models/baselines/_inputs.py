"""Input plumbing shared by the baseline models: how a batch's streams are joined, the query side
(BERT tokens on UCFCrime-AR, VGGish snippets on XDViolence-AR) and a masked softmax. Stream
selection, the audio query size and the text encoder options live on the model interface
(:mod:`var_bench.models.base`).

Batches follow ``var_bench.loaders.batching``: per stream ``s`` a FloatTensor ``[B, L, D_s]`` and
``s_mask`` BoolTensor ``[B, L]`` (True = real snippet); ``text`` list[str] on text benchmarks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from var_bench.errors import InputError
from var_bench.models.base import AUDIO, TEXT
from var_bench.models.text import TextEncoder


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


def text_tokens(encoder: TextEncoder, batch: Mapping[str, Any]) -> tuple[Tensor, Tensor, Tensor]:
    """``(tokens [B, W, H], mask [B, W], cls [B, H])`` of the batch's captions."""
    if TEXT not in batch:
        raise InputError(
            f"text query: expected the batch to carry {TEXT!r} captions, got keys {sorted(batch)}"
        )
    tokens, mask, cls, _ = encoder(list(batch[TEXT]))
    return tokens.float(), mask, cls.float()


def audio_tokens(batch: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
    """``(snippets [B, T, 128], mask [B, T])``: the audio query as a token sequence."""
    if AUDIO not in batch:
        raise InputError(
            f"audio query: expected the batch to carry the {AUDIO!r} stream, "
            f"got keys {sorted(batch)}"
        )
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
