"""T2VLAD (Wang, Zhu and Yang, CVPR 2021): global-local sequence alignment, on precomputed snippet
features.

Local alignment:

1. Every snippet of every video expert e (here ``rgb``, ``flow``) is reduced to d dimensions,
   ``u_{e,i} = L2(W_e x_{e,i} + b_e)``; the experts' sequences are concatenated along time and a
   Transformer encoder (self-attention across all experts' local features, padding masked) gives
   the video's local features.
2. Word features: the text model's token outputs (projected to d when its hidden size differs;
   on XDViolence-AR the VGGish snippets through
   :class:`~var_bench.models.baselines.audio_query.AudioQueryEncoder`).
3. Both sides are softly assigned to the SAME K learnable centres by ONE NetVLAD layer:
   ``V_k = sum_l a_lk (z_l - c_k)``, intra-normalised, flattened and L2-normalised, so
   ``<V^text, V^video> = (1/K) sum_k cos(V_k^text, V_k^video)``: the local similarity is the
   average over centres of the per-centre cosine.

Global alignment: per expert the max-pooled snippets through a gated embedding unit,
``g_e = GEU_e(max_i x_{e,i})``; the sentence is the text's NetVLAD vector through ``GEU'_e``, with
mixture weights ``w = softmax(W q + b)`` as in CE: ``s_global = sum_e w_e cos(t_e, g_e)``.

``s = (1 - local_weight) s_global + local_weight s_local`` (0.5 / 0.5 as the reference code);
bidirectional max-margin ranking loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from var_bench.errors import InputError
from var_bench.models.base import TEXT, ModelConfig, ModelContext
from var_bench.models.baselines._inputs import audio_tokens, stream_mask, text_tokens
from var_bench.models.baselines.audio_query import AudioQueryEncoder
from var_bench.models.mixture import (
    MixtureOfExpertsRetrieval,
    MixtureWeights,
    ReduceDim,
    weighted_expert_similarity,
)
from var_bench.models.modules import (
    GatedEmbeddingUnit,
    NetVLAD,
    TransformerEncoderLayers,
    masked_max,
)
from var_bench.models.registry import register_model

#: Embedding size of the audio query when ``dim`` is left to follow the text model.
DEFAULT_AUDIO_DIM = 768


class LocalVideoEncoder(nn.Module):
    """Step 1: ``{e: [B, L_e, D_e]}`` with masks -> ``([B, sum_e L_e, d], mask)``: reduced
    snippets of all experts, concatenated along time, through ``layers`` encoder layers."""

    def __init__(
        self,
        experts: Sequence[str],
        dims: Mapping[str, int],
        dim: int,
        *,
        layers: int = 1,
        heads: int = 4,
        ff_dim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.experts = tuple(experts)
        self.reduce = nn.ModuleDict({e: ReduceDim(int(dims[e]), dim) for e in self.experts})
        self.encoder = (
            TransformerEncoderLayers(
                dim, layers=layers, heads=heads, ff_dim=ff_dim or dim, dropout=dropout
            )
            if layers > 0
            else None
        )

    def forward(
        self, features: Mapping[str, Tensor], masks: Mapping[str, Tensor]
    ) -> tuple[Tensor, Tensor]:
        x = torch.cat([self.reduce[e](features[e]) for e in self.experts], dim=1)
        mask = torch.cat([masks[e] for e in self.experts], dim=1)
        if self.encoder is not None:
            x = self.encoder(x, mask)
        return x, mask


@dataclass(frozen=True)
class T2VLADConfig(ModelConfig):
    """T2VLAD's ``model_args`` (see the module docstring for the formulas)."""

    dim: int | None = None  # local features and centres (None: the text model's size)
    clusters: int = 9  # K shared centres
    layers: int = 1  # video self-attention
    heads: int = 4
    ff_dim: int | None = None
    dropout: float = 0.0
    local_weight: float = 0.5
    moe_dropout: float = 0.0
    margin: float = 0.05
    max_tokens: int = 32  # snippets per expert (longer videos average-pooled)
    streams: tuple[str, ...] | None = None
    text: Mapping[str, Any] | None = None  # text-encoder options
    audio_layers: int = 2  # XDViolence-AR query encoder
    audio_heads: int = 4

    def validate(self, label: str) -> None:
        if not 0.0 <= self.local_weight <= 1.0:
            raise InputError(
                f"{label}.local_weight: expected a number in [0, 1], got {self.local_weight!r}"
            )


@register_model("t2vlad")
class T2VLAD(MixtureOfExpertsRetrieval):
    """T2VLAD as a :class:`RetrievalModel` (see the module docstring for the formulas);
    arguments: :class:`T2VLADConfig` (``dim`` null = the text model's hidden size, no word
    projection, as the reference code uses BERT's 768)."""

    config_class = T2VLADConfig

    def __init__(self, cfg: T2VLADConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.init_inputs(ctx, cfg.streams)
        self.local_weight = float(cfg.local_weight)
        self.margin = float(cfg.margin)
        self.max_tokens = int(cfg.max_tokens)
        query_size = self.init_query(ctx, cfg.text)
        if self.query_modality == TEXT:
            self.audio_encoder = None
            word_dim = query_size
            dim = word_dim if cfg.dim is None else int(cfg.dim)
        else:
            dim = DEFAULT_AUDIO_DIM if cfg.dim is None else int(cfg.dim)
            self.audio_encoder = AudioQueryEncoder(
                query_size,
                dim,
                layers=cfg.audio_layers,
                heads=cfg.audio_heads,
                dropout=cfg.dropout,
                max_len=self.max_tokens + 1,
            )
            word_dim = dim
        self.word_proj = nn.Identity() if word_dim == dim else nn.Linear(word_dim, dim)
        self.local_video = LocalVideoEncoder(
            self.streams,
            ctx.dims,
            dim,
            layers=cfg.layers,
            heads=cfg.heads,
            ff_dim=cfg.ff_dim,
            dropout=cfg.dropout,
        )
        self.vlad = NetVLAD(dim, cfg.clusters)  # the shared centres of both modalities
        self.video_units = nn.ModuleDict(
            {s: GatedEmbeddingUnit(int(ctx.dims[s]), dim) for s in self.streams}
        )
        self.query_units = nn.ModuleDict(
            {s: GatedEmbeddingUnit(self.vlad.output_dim, dim) for s in self.streams}
        )
        self.moe = MixtureWeights(self.vlad.output_dim, len(self.streams), cfg.moe_dropout)

    def loader_options(self) -> dict:
        return {"max_snippets": self.max_tokens}

    def words(self, batch: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
        """The query's word features ``[B, W, d]`` and mask (step 2)."""
        if self.text_encoder is not None:
            tokens, mask, _ = text_tokens(self.text_encoder, batch)
        else:
            tokens, mask, _ = self.audio_encoder(*audio_tokens(batch))
        return self.word_proj(tokens), mask

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        q = self.vlad(*self.words(batch))
        emb = torch.stack([self.query_units[s](q) for s in self.streams], dim=1)
        return {"local": q, "emb": emb, "weights": self.moe(q)}

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        feats = {s: batch[s].float() for s in self.streams}
        masks = {s: stream_mask(batch, s) for s in self.streams}
        local = self.vlad(*self.local_video(feats, masks))
        emb = torch.stack(
            [self.video_units[s](masked_max(feats[s], masks[s])) for s in self.streams], dim=1
        )
        return {"local": local, "emb": emb}

    def local_similarity(self, query: dict, gallery: dict) -> Tensor:
        """``(1/K) sum_k cos(V_k^query, V_k^video)`` for every pair -> ``[Nq, Nv]``."""
        return query["local"] @ gallery["local"].t()

    def global_similarity(self, query: dict, gallery: dict) -> Tensor:
        """``sum_e w_e cos(t_e, g_e)`` for every pair -> ``[Nq, Nv]``."""
        return weighted_expert_similarity(query["emb"], query["weights"], gallery["emb"])

    def similarity(self, query: dict, gallery: dict) -> Tensor:
        lw = self.local_weight
        return (1.0 - lw) * self.global_similarity(query, gallery) + lw * self.local_similarity(
            query, gallery
        )
