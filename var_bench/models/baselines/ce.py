"""Collaborative Experts (CE; Liu, Albanie, Nagrani and Zisserman, BMVC 2019) on precomputed
snippet features.

Mechanism (one embedding per video expert e, here the I3D streams ``rgb`` and ``flow``):

1. Temporal aggregation of each expert over its real snippets: average, max or NetVLAD pooling.
2. Reduce-dim: ``x_e = L2(W_e a_e + b_e)`` (all experts in one d-dimensional space).
3. Collaborative gating: ``T_e = h( mean_{j != e} g([x_e, x_j]) )`` with g, h small MLPs shared
   by all experts; the video embedding is ``v_e = L2( x_e * sigmoid(BN(W x_e) + BN(T_e)) )``
   (with a single expert there is no pair, so ``T_e = h(0)``, as in the reference code).
4. Query side: word vectors pooled by NetVLAD into ``q``; per expert a gated embedding unit
   ``t_e = GEU_e(q)``; mixture weights ``w = softmax(W_m q + b_m)`` over the experts.
5. Similarity ``s(query, video) = sum_e w_e cos(t_e, v_e)``; bidirectional max-margin ranking
   loss (MMT's, as the VAR paper trains every baseline).

Adaptation (see docs/baselines.md (ce)): the VAR paper's CE row used word2vec word vectors; offline
we use the text model's context-free input token embeddings (``word_vectors: static``, the closest
stand-in) or its contextual token outputs (``contextual``). On XDViolence-AR the audio query's
VGGish snippets are the "words". The pieces MMT and T2VLAD inherited from CE's code
(:class:`ReduceDim`, :class:`MixtureWeights`, :func:`weighted_expert_similarity`) live in
:mod:`var_bench.models.mixture`.
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
from var_bench.models.baselines._inputs import audio_tokens, stream_mask
from var_bench.models.mixture import MixtureOfExpertsRetrieval, MixtureWeights, ReduceDim
from var_bench.models.modules import GatedEmbeddingUnit, NetVLAD, masked_max, masked_mean
from var_bench.models.registry import register_model

#: Temporal aggregation choices of a video expert.
VIDEO_AGGREGATIONS = ("avg", "max", "netvlad")
#: Word-vector choices of the text query.
WORD_VECTORS = ("static", "contextual")
#: Non-linearities of the reasoning MLPs (the CE code uses Mish).
ACTIVATIONS = {"mish": nn.Mish, "relu": nn.ReLU}


class BatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` that normalises a training batch of one with its running statistics
    (a last batch of size 1 would otherwise raise) instead of the batch statistics."""

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] == 1:
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return super().forward(x)


def _mlp(
    first: nn.Module | None, dim: int, layers: int, batch_norm: bool, activation: str
) -> nn.Sequential:
    """``first`` then ``layers`` blocks of [BN], activation, Linear(dim, dim) (CE's g/h reasoning
    MLPs)."""
    blocks: list[nn.Module] = [] if first is None else [first]
    for _ in range(layers):
        if batch_norm:
            blocks.append(BatchNorm1d(dim))
        blocks += [ACTIVATIONS[activation](), nn.Linear(dim, dim)]
    return nn.Sequential(*blocks)


class CollaborativeGating(nn.Module):
    """Pairwise collaborative gating over experts (CE, Sec. 3.1).

    For expert e with reduced embedding ``x_e [B, d]``:
    ``T_e = h( (1 / (E - 1)) sum_{j != e} g([x_e ; x_j]) )`` (``T_e = h(0)`` when E = 1);
    attention ``A_e = sigmoid(BN(W_e x_e + b_e) + BN(T_e))`` in (0, 1);
    output ``v_e = L2(x_e * A_e)``. g is ``Linear(2d, d)`` then ``g_layers - 1`` ReLU/Linear
    blocks; h is ``h_layers`` such blocks (identity when 0), both shared by every expert; each
    block is [BN], activation (Mish or ReLU), Linear(d, d).
    """

    def __init__(
        self,
        experts: Sequence[str],
        dim: int,
        *,
        g_layers: int = 3,
        h_layers: int = 0,
        batch_norm: bool = True,
        activation: str = "mish",
    ) -> None:
        super().__init__()
        if g_layers < 1 or h_layers < 0:
            raise InputError(
                f"ce gating: expected g_layers >= 1 and h_layers >= 0, "
                f"got {g_layers} and {h_layers}"
            )
        if activation not in ACTIVATIONS:
            raise InputError(
                f"ce activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}"
            )
        self.experts = tuple(experts)
        self.g = _mlp(nn.Linear(2 * dim, dim), dim, g_layers - 1, batch_norm, activation)
        self.h = _mlp(None, dim, h_layers, batch_norm, activation)
        self.self_fc = nn.ModuleDict({e: nn.Linear(dim, dim) for e in self.experts})
        norm = (lambda: BatchNorm1d(dim)) if batch_norm else nn.Identity
        self.self_bn = nn.ModuleDict({e: norm() for e in self.experts})
        self.mask_bn = nn.ModuleDict({e: norm() for e in self.experts})

    def attention(self, x: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The gates ``A_e [B, d]`` (values in (0, 1)) for every expert."""
        out = {}
        for e in self.experts:
            others = [j for j in self.experts if j != e]
            if others:
                t = torch.stack([self.g(torch.cat([x[e], x[j]], dim=-1)) for j in others]).mean(0)
            else:
                t = torch.zeros_like(x[e])
            t = self.h(t)
            out[e] = torch.sigmoid(self.self_bn[e](self.self_fc[e](x[e])) + self.mask_bn[e](t))
        return out

    def forward(self, x: Mapping[str, Tensor]) -> dict[str, Tensor]:
        gates = self.attention(x)
        return {e: F.normalize(x[e] * gates[e], dim=-1) for e in self.experts}


class TemporalAggregation(nn.Module):
    """One expert's snippets ``[B, L, D]`` with mask -> ``[B, D_out]``: masked average
    (``D_out = D``), masked max (``D``) or NetVLAD with ``clusters`` centres (``clusters * D``)."""

    def __init__(self, kind: str, dim: int, clusters: int) -> None:
        super().__init__()
        if kind not in VIDEO_AGGREGATIONS:
            raise InputError(
                f"ce video_agg: expected one of {', '.join(VIDEO_AGGREGATIONS)}, got {kind!r}"
            )
        self.kind = kind
        self.vlad = NetVLAD(dim, clusters) if kind == "netvlad" else None
        self.output_dim = self.vlad.output_dim if self.vlad is not None else dim

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        if self.vlad is not None:
            return self.vlad(x, mask)
        return masked_mean(x, mask) if self.kind == "avg" else masked_max(x, mask)


@dataclass(frozen=True)
class CEConfig(ModelConfig):
    """CE's ``model_args`` (see the module docstring for the formulas)."""

    dim: int = 768  # shared embedding size (CE code: ce_shared_dim)
    video_agg: str = "avg"  # temporal aggregation per expert: avg | max | netvlad
    video_clusters: int = 8  # NetVLAD centres per expert (video_agg: netvlad)
    query_clusters: int = 25  # NetVLAD centres over the query's words / audio snippets
    word_vectors: str = "static"  # static (word2vec-like) | contextual (token outputs)
    g_layers: int = 3  # pairwise reasoning MLP g
    h_layers: int = 0  # MLP h on the averaged pair messages (0: identity)
    batch_norm: bool = True
    activation: str = "mish"  # mish | relu
    moe_dropout: float = 0.0
    margin: float = 0.05  # ranking loss
    max_snippets: int | None = 256  # the loader average-pools longer videos to this many
    streams: tuple[str, ...] | None = None  # subset of the store's video streams (None: all)
    text: Mapping[str, Any] | None = (
        None  # text-encoder options: freeze, cache, max_length, dropout
    )

    def validate(self, label: str) -> None:
        if self.word_vectors not in WORD_VECTORS:
            raise InputError(
                f"{label}.word_vectors: expected one of {', '.join(WORD_VECTORS)}, "
                f"got {self.word_vectors!r}"
            )
        if self.video_agg not in VIDEO_AGGREGATIONS:
            raise InputError(
                f"{label}.video_agg: expected one of {', '.join(VIDEO_AGGREGATIONS)}, "
                f"got {self.video_agg!r}"
            )


@register_model("ce")
class CollaborativeExperts(MixtureOfExpertsRetrieval):
    """CE as a :class:`RetrievalModel` (see the module docstring for the formulas); arguments:
    :class:`CEConfig`."""

    config_class = CEConfig

    def __init__(self, cfg: CEConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.init_inputs(ctx, cfg.streams)
        self.margin = float(cfg.margin)
        self.max_snippets = cfg.max_snippets
        self.word_vectors = cfg.word_vectors
        dim = cfg.dim
        self.temporal = nn.ModuleDict(
            {
                s: TemporalAggregation(cfg.video_agg, int(ctx.dims[s]), cfg.video_clusters)
                for s in self.streams
            }
        )
        self.reduce = nn.ModuleDict(
            {s: ReduceDim(self.temporal[s].output_dim, dim) for s in self.streams}
        )
        self.gating = CollaborativeGating(
            self.streams,
            dim,
            g_layers=cfg.g_layers,
            h_layers=cfg.h_layers,
            batch_norm=cfg.batch_norm,
            activation=cfg.activation,
        )
        word_dim = self.init_query(ctx, cfg.text)
        self.query_vlad = NetVLAD(word_dim, cfg.query_clusters)
        self.query_units = nn.ModuleDict(
            {s: GatedEmbeddingUnit(self.query_vlad.output_dim, dim) for s in self.streams}
        )
        self.moe = MixtureWeights(self.query_vlad.output_dim, len(self.streams), cfg.moe_dropout)

    def loader_options(self) -> dict:
        # CE pools over the whole video: pad (no sampling), only bound very long videos.
        return {"max_snippets": self.max_snippets}

    def _words(self, batch: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
        """The query's word vectors ``[B, W, H]`` and mask."""
        if self.text_encoder is None:
            return audio_tokens(batch)
        if TEXT not in batch:
            raise InputError(
                f"ce text query: expected the batch to carry {TEXT!r} captions, "
                f"got keys {sorted(batch)}"
            )
        texts = list(batch[TEXT])
        if self.word_vectors == "contextual":
            tokens, mask, _, _ = self.text_encoder(texts)
            return tokens.float(), mask
        # Static vectors: the input embedding table, words only (no [CLS]/[SEP]), like word2vec.
        enc = self.text_encoder.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.text_encoder.max_length,
            add_special_tokens=False,
            return_tensors="pt",
        )
        table = self.text_encoder.model.get_input_embeddings()
        ids = enc["input_ids"].to(table.weight.device)
        return table(ids).float(), enc["attention_mask"].to(ids.device).bool()

    def query_vector(self, batch: Mapping[str, Any]) -> Tensor:
        """The NetVLAD-pooled query ``q [B, K * H]`` (input of the GEUs and mixture weights)."""
        words, mask = self._words(batch)
        return self.query_vlad(words, mask)

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        q = self.query_vector(batch)
        emb = torch.stack([self.query_units[s](q) for s in self.streams], dim=1)
        return {"emb": emb, "weights": self.moe(q)}

    def expert_inputs(self, batch: Mapping[str, Any]) -> dict[str, Tensor]:
        """Aggregated, reduced expert vectors ``x_e [B, d]`` (before collaborative gating)."""
        return {
            s: self.reduce[s](self.temporal[s](batch[s].float(), stream_mask(batch, s)))
            for s in self.streams
        }

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        gated = self.gating(self.expert_inputs(batch))
        return {"emb": torch.stack([gated[s] for s in self.streams], dim=1)}
