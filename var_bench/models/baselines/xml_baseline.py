"""XML, Cross-modal Moment Localization (Lei et al., ECCV 2020), video-retrieval part only.

Inputs are projected by XML's LinearLayer (LayerNorm -> dropout -> Linear -> ReLU), given learned
position embeddings (+ LayerNorm, dropout) and one self-attention Transformer layer each:
the query tokens (BERT token outputs on UCFCrime-AR; VGGish snippets on XDViolence-AR) and, per
video modality m (rgb, flow), that stream's snippets -> ``h^m_t``.

Modular query: ``a^m = softmax_j(w_m . q_j)`` over the real query tokens ``q_j`` (one weight
vector per video modality, no bias), ``q^m = sum_j a^m_j q_j``.
Video-level score: the mean over modalities of the max over real snippets of the cosine
similarity, ``s(q, v) = (1/M) sum_m max_t cos(q^m, h^m_t)``.
Loss: hinge ranking loss with margin 0.1 in both directions (query vs negative videos, video vs
negative queries). XML draws one random negative per positive; we average over every negative of
the batch (``max_margin_ranking_loss``), the expectation of that draw; ``hard_negatives: true``
runs XML's own sampled loss with TVR's hard-negative pool (``sampled_negative_ranking_loss``).
Removed (docs/baselines.md (xml)): the moment-localisation head (start/end convolutions) and the
cross-modal encoder that only fed it; video-level scores in XML use the first encoder's outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from var_bench.errors import InputError
from var_bench.models.base import TEXT, ModelConfig, ModelContext, RetrievalModel
from var_bench.models.baselines._inputs import (
    audio_tokens,
    masked_softmax,
    normalize,
    stream_mask,
    text_tokens,
)
from var_bench.models.losses import (
    max_margin_ranking_loss,
    same_video,
    sampled_negative_ranking_loss,
)
from var_bench.models.modules import PositionEmbedding, TransformerEncoderLayers
from var_bench.models.registry import register_model

#: Elements of the largest [queries, videos, snippets] score block ``similarity`` builds.
BLOCK_ELEMENTS = 1 << 24


class LinearLayer(nn.Sequential):
    """XML's input projection: LayerNorm(in) -> Dropout -> Linear(in, out) -> ReLU."""

    def __init__(self, in_dim: int, out_dim: int, dropout: float) -> None:
        super().__init__(
            nn.LayerNorm(in_dim), nn.Dropout(dropout), nn.Linear(in_dim, out_dim), nn.ReLU()
        )


class Encoder(nn.Module):
    """Input projection, learned positions (+ LayerNorm, dropout), one self-attention layer."""

    def __init__(
        self,
        in_dim: int,
        hidden: int,
        heads: int,
        dropout: float,
        input_dropout: float,
        max_len: int,
    ) -> None:
        super().__init__()
        self.proj = LinearLayer(in_dim, hidden, input_dropout)
        self.pos = PositionEmbedding(hidden, max_len=max_len)
        self.pos_norm = nn.LayerNorm(hidden)
        self.pos_drop = nn.Dropout(input_dropout)
        # XML's BertAttention: intermediate size = hidden size.
        self.encoder = TransformerEncoderLayers(
            hidden, layers=1, heads=heads, ff_dim=hidden, dropout=dropout
        )

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h = self.pos_drop(self.pos_norm(self.pos(self.proj(x))))
        return self.encoder(h, mask)


def modular_queries(tokens: Tensor, mask: Tensor, weights: nn.Linear) -> Tensor:
    """``[B, M, D]``: per modality m, ``sum_j softmax_j(w_m . q_j) q_j`` over real tokens."""
    att = masked_softmax(weights(tokens), mask[:, :, None], dim=1)  # [B, W, M]
    return torch.einsum("bwm,bwd->bmd", att, tokens)


def max_snippet_scores(queries: Tensor, snippets: Tensor, mask: Tensor) -> Tensor:
    """``[Q, V]`` with ``max_t cos(queries[q], snippets[v, t])`` over real snippets; ``queries
    [Q, D]``, ``snippets [V, L, D]``, ``mask [V, L]``. A video with no real snippet scores -1."""
    cos = torch.einsum("qd,vld->qvl", normalize(queries), normalize(snippets))
    return cos.masked_fill(~mask[None], -1.0).max(dim=-1).values


@dataclass(frozen=True)
class XMLConfig(ModelConfig):
    """XML's ``model_args`` (see the module docstring for the formulas)."""

    hidden: int = 384
    heads: int = 4
    dropout: float = 0.1
    input_dropout: float = 0.1
    max_snippets: int = 100  # XML's max_ctx_l; longer videos are average-pooled
    sample: str | None = None  # with num_snippets: fixed-n sampling instead of padding
    num_snippets: int | None = None
    margin: float = 0.1
    streams: tuple[str, ...] | None = None
    text: Mapping[str, Any] | None = None  # text-encoder options
    hard_negatives: bool = False  # TVR's sampled hard negatives
    hard_pool: int = 20
    hard_start_step: int = 0

    def validate(self, label: str) -> None:
        if self.sample is not None and self.num_snippets is None:
            raise InputError(
                f"{label}.num_snippets: expected an integer with sample {self.sample!r}, got null"
            )


@register_model("xml")
class XML(RetrievalModel):
    """XML's video retrieval branch; arguments: :class:`XMLConfig`."""

    config_class = XMLConfig

    def __init__(self, cfg: XMLConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.init_inputs(ctx, cfg.streams)
        # hard_negatives: TVR's sampled-negative loss (one negative per positive and direction),
        # uniform over the batch before hard_start_step optimiser steps, then over the hard_pool
        # hardest (TVR: from epoch 20, pool 20; our epochs vary in length, so steps are counted).
        self.hard_negatives = bool(cfg.hard_negatives)
        self.hard_pool = int(cfg.hard_pool)
        self.hard_start_step = int(cfg.hard_start_step)
        if self.hard_negatives:
            self.register_buffer("train_steps", torch.zeros((), dtype=torch.long))
        self.max_snippets = int(cfg.max_snippets)
        self.sample = cfg.sample
        self.num_snippets = cfg.num_snippets
        self.margin = float(cfg.margin)
        self.width = int(cfg.num_snippets) if cfg.sample is not None else self.max_snippets
        self.video_encoders = nn.ModuleDict(
            {
                s: Encoder(
                    int(ctx.dims[s]),
                    cfg.hidden,
                    cfg.heads,
                    cfg.dropout,
                    cfg.input_dropout,
                    self.width,
                )
                for s in self.streams
            }
        )
        in_q = self.init_query(ctx, cfg.text)
        self.max_words = (
            self.text_encoder.max_length if self.text_encoder is not None else self.width
        )
        self.query_encoder = Encoder(
            in_q, cfg.hidden, cfg.heads, cfg.dropout, cfg.input_dropout, self.max_words
        )
        self.modular = nn.Linear(cfg.hidden, len(self.streams), bias=False)

    def loader_options(self) -> dict:
        """XML reads up to ``max_snippets`` clips (max_ctx_l = 100; longer videos are
        average-pooled) with padding; ``sample``/``num_snippets`` switch to fixed-n sampling."""
        opts: dict[str, Any] = {"max_snippets": self.max_snippets}
        if self.sample is not None:
            opts.update(sample=self.sample, n=int(self.num_snippets))
        return opts

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for s in self.streams:
            mask = stream_mask(batch, s)
            h = self.video_encoders[s](batch[s].float(), mask)
            out[s] = h
            out[f"{s}_mask"] = mask
        return out

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        if self.query_modality == TEXT:
            tokens, mask, _ = text_tokens(self.text_encoder, batch)
        else:
            tokens, mask = audio_tokens(batch)
        encoded = self.query_encoder(tokens, mask)
        return {"modular": modular_queries(encoded, mask, self.modular)}  # [B, M, D]

    def similarity(self, query: dict, gallery: dict) -> Tensor:
        """``[Nq, Nv]`` mean over modalities of the max-over-snippets cosine, in video blocks."""
        q = query["modular"]
        nq = q.shape[0]
        nv, width = gallery[self.streams[0]].shape[:2]
        step = max(1, BLOCK_ELEMENTS // max(1, nq * width))
        blocks = []
        for start in range(0, nv, step):
            sl = slice(start, start + step)
            total = sum(
                max_snippet_scores(q[:, m], gallery[s][sl], gallery[f"{s}_mask"][sl])
                for m, s in enumerate(self.streams)
            )
            blocks.append(total / len(self.streams))
        return torch.cat(blocks, dim=1)

    def forward(self, batch: dict) -> dict[str, Tensor]:
        sim = self.similarity(self.encode_query(batch), self.encode_gallery(batch))
        if self.hard_negatives:
            hard = int(self.train_steps) >= self.hard_start_step
            loss = sampled_negative_ranking_loss(
                sim,
                self.margin,
                self.hard_pool if hard else None,
                same=same_video(batch, sim.device),
            )
            if self.training:
                self.train_steps += 1
        else:
            loss = max_margin_ranking_loss(sim, self.margin, same=same_video(batch, sim.device))
        return {"loss": loss, "ranking": loss.detach()}
