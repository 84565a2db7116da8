"""Multi-modal Transformer (MMT; Gabeur, Sun, Alahari and Schmid, ECCV 2020) on precomputed
snippet features.

Mechanism, for video experts e = 1..E (here ``rgb`` and ``flow``) with snippets ``x_{e,1..L}``:

1. Features: every snippet is reduced to d dimensions, ``F_{e,i} = L2(W_e x_{e,i} + b_e)``; the
   expert's [AGG] token starts from its max-pooled snippets, ``F_{e,agg} = L2(W_e max_i x_{e,i}
   + b_e)`` (``agg_init: max``; ``mean`` and ``zero`` are the paper's other choices).
2. Input sequence ``[AGG_1, F_{1,1..L}, AGG_2, F_{2,1..L}, ...]``; each token is
   ``LayerNorm(F + E_type[e] + E_time[t])`` (then dropout) with ``t = 0`` for [AGG] and
   ``t = i`` for snippet i (clamped to ``max_tokens``, as MMT clamps its time ids).
3. A BERT-style encoder (4 layers, 4 heads by default) over the sequence, padding masked; the
   output at [AGG_e] is the expert's video embedding ``v_e`` (L2-normalised).
4. Query: the text model's [CLS] vector ``c`` (on XDViolence-AR the [CLS] output of
   :class:`~var_bench.models.baselines.audio_query.AudioQueryEncoder` over the VGGish snippets); per
   expert ``t_e = GEU_e(c)``; weights ``w = softmax(W dropout(c) + b)`` over the experts.
5. ``s = sum_e w_e cos(t_e, v_e)``; bidirectional max-margin ranking loss, margin 0.05.

The paper's video [CLS] token (used only by its video-side weighting, off in its published
configs) is left out; see docs/baselines.md (mmt).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from var_bench.errors import InputError
from var_bench.models.base import TEXT, ModelConfig, ModelContext
from var_bench.models.baselines._inputs import audio_tokens, stream_mask, text_tokens
from var_bench.models.baselines.audio_query import AudioQueryEncoder
from var_bench.models.mixture import MixtureOfExpertsRetrieval, MixtureWeights, ReduceDim
from var_bench.models.modules import (
    GatedEmbeddingUnit,
    TransformerEncoderLayers,
    masked_max,
    masked_mean,
)
from var_bench.models.registry import register_model

#: How an expert's [AGG] token is initialised.
AGG_INITS = ("max", "mean", "zero")


class MultiModalEncoder(nn.Module):
    """Steps 1-3 of the module docstring: experts' snippets -> one embedding per expert.

    ``forward(features: {e: [B, L_e, D_e]}, masks: {e: [B, L_e]}) -> [B, E, d]`` (L2-normalised
    outputs at the [AGG] tokens, in ``experts`` order).
    """

    def __init__(
        self,
        experts: Sequence[str],
        dims: Mapping[str, int],
        dim: int,
        *,
        layers: int = 4,
        heads: int = 4,
        ff_dim: int | None = None,
        dropout: float = 0.1,
        max_tokens: int = 30,
        agg_init: str = "max",
    ) -> None:
        super().__init__()
        if agg_init not in AGG_INITS:
            raise InputError(
                f"mmt agg_init: expected one of {', '.join(AGG_INITS)}, got {agg_init!r}"
            )
        self.experts = tuple(experts)
        self.agg_init = agg_init
        self.max_tokens = int(max_tokens)
        self.reduce = nn.ModuleDict({e: ReduceDim(int(dims[e]), dim) for e in self.experts})
        self.type_embedding = nn.Embedding(len(self.experts), dim)
        self.time_embedding = nn.Embedding(self.max_tokens + 1, dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.encoder = TransformerEncoderLayers(
            dim, layers=layers, heads=heads, ff_dim=ff_dim, dropout=dropout
        )

    def _agg(self, expert: str, x: Tensor, mask: Tensor) -> Tensor:
        if self.agg_init == "zero":
            return x.new_zeros(x.shape[0], self.reduce[expert].fc.out_features)
        pooled = masked_max(x, mask) if self.agg_init == "max" else masked_mean(x, mask)
        return self.reduce[expert](pooled)

    def forward(self, features: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> Tensor:
        tokens, keep, agg_at = [], [], []
        for k, e in enumerate(self.experts):
            x, mask = features[e], masks[e]
            b, length = x.shape[:2]
            seq = torch.cat([self._agg(e, x, mask).unsqueeze(1), self.reduce[e](x)], dim=1)
            time = torch.arange(length + 1, device=x.device).clamp_max(self.max_tokens)
            kind = torch.full((length + 1,), k, dtype=torch.long, device=x.device)
            seq = (
                seq
                + self.type_embedding(kind).unsqueeze(0)
                + self.time_embedding(time).unsqueeze(0)
            )
            agg_at.append(sum(t.shape[1] for t in tokens))
            tokens.append(seq)
            keep.append(
                torch.cat([torch.ones(b, 1, dtype=torch.bool, device=mask.device), mask], 1)
            )
        out = self.encoder(
            self.dropout(self.norm(torch.cat(tokens, dim=1))), torch.cat(keep, dim=1)
        )
        return F.normalize(out[:, agg_at], dim=-1)


@dataclass(frozen=True)
class MMTConfig(ModelConfig):
    """MMT's ``model_args`` (see the module docstring for the formulas)."""

    dim: int = 512
    layers: int = 4
    heads: int = 4
    ff_dim: int | None = None  # None: 4 * dim
    dropout: float = 0.1
    max_tokens: int = 30  # snippets per expert (longer videos pooled); largest time id
    agg_init: str = "max"  # max | mean | zero
    moe_dropout: float = 0.1
    margin: float = 0.05
    streams: tuple[str, ...] | None = None
    text: Mapping[str, Any] | None = None  # text-encoder options
    audio_layers: int = 2  # XDViolence-AR query encoder
    audio_heads: int = 4
    geu_batch_norm: bool = False  # BatchNorm in the query GEU's gate (MMT's txt_pro: gbn)

    def validate(self, label: str) -> None:
        if self.agg_init not in AGG_INITS:
            raise InputError(
                f"{label}.agg_init: expected one of {', '.join(AGG_INITS)}, got {self.agg_init!r}"
            )


@register_model("mmt")
class MultiModalTransformer(MixtureOfExpertsRetrieval):
    """MMT as a :class:`RetrievalModel` (see the module docstring for the formulas); arguments:
    :class:`MMTConfig`."""

    config_class = MMTConfig

    def __init__(self, cfg: MMTConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.init_inputs(ctx, cfg.streams)
        self.margin = float(cfg.margin)
        self.max_tokens = int(cfg.max_tokens)
        dim = cfg.dim
        self.video = MultiModalEncoder(
            self.streams,
            ctx.dims,
            dim,
            layers=cfg.layers,
            heads=cfg.heads,
            ff_dim=cfg.ff_dim,
            dropout=cfg.dropout,
            max_tokens=cfg.max_tokens,
            agg_init=cfg.agg_init,
        )
        query_size = self.init_query(ctx, cfg.text)
        if self.query_modality == TEXT:
            self.audio_encoder = None
            cls_dim = query_size
        else:
            self.audio_encoder = AudioQueryEncoder(
                query_size,
                dim,
                layers=cfg.audio_layers,
                heads=cfg.audio_heads,
                dropout=cfg.dropout,
                max_len=self.max_tokens + 1,
            )
            cls_dim = dim
        # geu_batch_norm: MMT's published gated unit (txt_pro: gbn) has BatchNorm in its gate.
        self.query_units = nn.ModuleDict(
            {
                s: GatedEmbeddingUnit(cls_dim, dim, batch_norm=cfg.geu_batch_norm)
                for s in self.streams
            }
        )
        self.moe = MixtureWeights(cls_dim, len(self.streams), cfg.moe_dropout)

    def loader_options(self) -> dict:
        # MMT feeds at most max_tokens features per expert (pooled), no random sampling.
        return {"max_snippets": self.max_tokens}

    def query_cls(self, batch: Mapping[str, Any]) -> Tensor:
        """The query's [CLS] vector ``[B, H]`` (text model, or the audio query encoder)."""
        if self.text_encoder is not None:
            return text_tokens(self.text_encoder, batch)[2]
        return self.audio_encoder(*audio_tokens(batch))[2]

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        c = self.query_cls(batch)
        emb = torch.stack([self.query_units[s](c) for s in self.streams], dim=1)
        return {"emb": emb, "weights": self.moe(c)}

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        feats = {s: batch[s].float() for s in self.streams}
        masks = {s: stream_mask(batch, s) for s in self.streams}
        return {"emb": self.video(feats, masks)}
