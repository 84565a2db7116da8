"""HL-Net (Wu et al., ECCV 2020, "Not only Look, but also Listen"): the XD-Violence detector
turned into a retrieval video encoder.

Video encoder (as the detector): the video streams concatenated per snippet (rgb [+ flow]) ->
Conv1d(k=1) 512 -> ReLU -> dropout -> Conv1d(k=1) 128 -> ReLU -> dropout = ``x [B, T, 128]``.
Three graph branches, each two graph convolutions ``H' = A (H W) + residual(H)`` (128 -> 32 -> 32;
the residual is Conv1d(k=5) when the width changes, identity otherwise), ReLU and dropout:

* holistic (feature similarity): ``A^F_ij = softmax_j(g(cos(u_i, u_j)))`` over the real
  snippets, with ``u`` the input features and ``g(a) = a if a > 0.7 else 0``;
* localised (distance): ``A^P_ij = exp(-|i - j| / e)`` (not normalised);
* score: ``A^S_ij = softmax_j(sigma((1 - |p_i - p_j| - 0.5) / 0.1))`` with ``p = sigmoid`` of
  the HLC approximator's causal scores (Conv1d 128 -> 64 -> 32, k=1, then a causal Conv1d k=5),
  detached as in the paper.

The branches are concatenated (96-d per snippet). Detection head: Linear(96, 1) snippet logits.
Retrieval embedding (adaptation): masked mean (or max) over snippets of the 96-d features ->
gated embedding unit. Query: BERT [CLS] -> gated embedding unit (UCFCrime-AR); VGGish snippets ->
Linear + ReLU -> masked mean -> gated embedding unit (XDViolence-AR).
Loss: ``max_margin_ranking_loss`` (margin 0.05) + ``detection_weight`` x the detector's own loss
``BCE(top-k(clf)) + BCE(top-k(hlc)) + 5 * distillation``, top-k mean of logits with
``k = floor(T / 16) + 1`` and distillation
``mean_t(-sigmoid(clf_t).detach() * log sigmoid(hlc_t))``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from var_bench.errors import InputError
from var_bench.models.base import TEXT, ModelConfig, ModelContext, RetrievalModel
from var_bench.models.baselines._inputs import (
    audio_tokens,
    joined_streams,
    masked_softmax,
    text_tokens,
)
from var_bench.models.losses import max_margin_ranking_loss, same_video
from var_bench.models.modules import GatedEmbeddingUnit, masked_max, masked_mean
from var_bench.models.registry import register_model

#: HL-Net's causal receptive field of the HLC approximator (kernel 5, left padding 4).
HLC_KERNEL = 5
#: Snippets per top-k unit of the MIL loss: k = floor(T / 16) + 1.
TOPK_DIVISOR = 16
POOLS = ("mean", "max")


def similarity_graph(u: Tensor, mask: Tensor, threshold: float) -> Tensor:
    """Holistic adjacency ``[B, T, T]``: row softmax over real snippets of the thresholded
    cosine similarity ``g(cos(u_i, u_j))``, ``g(a) = a`` if ``a > threshold`` else 0; rows and
    columns of padded snippets are 0."""
    un = F.normalize(u, dim=-1)
    cos = un @ un.transpose(1, 2)
    cos = torch.where(cos > threshold, cos, torch.zeros_like(cos))
    pair = mask[:, :, None] & mask[:, None, :]
    return masked_softmax(cos, pair, dim=-1)


def distance_graph(mask: Tensor) -> Tensor:
    """Localised adjacency ``[B, T, T]``: ``exp(-|i - j| / e)`` between real snippets, else 0."""
    t = mask.shape[1]
    pos = torch.arange(t, device=mask.device, dtype=torch.float32)
    adj = torch.exp(-(pos[:, None] - pos[None, :]).abs() / math.e)
    pair = mask[:, :, None] & mask[:, None, :]
    return adj[None] * pair.to(adj.dtype)


def score_graph(logits: Tensor, mask: Tensor) -> Tensor:
    """Score adjacency ``[B, T, T]`` from snippet logits ``[B, T]``: with ``p = sigmoid(logits)``,
    row softmax over real snippets of ``sigma((1 - |p_i - p_j| - 0.5) / 0.1)``."""
    p = torch.sigmoid(logits)
    close = 1.0 - (p[:, :, None] - p[:, None, :]).abs()
    pair = mask[:, :, None] & mask[:, None, :]
    return masked_softmax(torch.sigmoid((close - 0.5) / 0.1), pair, dim=-1)


def topk_mean(logits: Tensor, mask: Tensor) -> Tensor:
    """``[B]``: mean of each video's k largest real logits, ``k = floor(T / 16) + 1``, T = real
    snippets (HL-Net's multiple-instance pooling)."""
    lengths = mask.sum(dim=1).clamp_min(1)
    k = torch.div(lengths, TOPK_DIVISOR, rounding_mode="floor") + 1
    kmax = int(k.max())
    filled = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
    top = filled.topk(min(kmax, logits.shape[1]), dim=1).values  # [B, kmax]
    take = torch.arange(top.shape[1], device=logits.device)[None] < k[:, None]
    return (top * take).sum(dim=1) / k.to(top.dtype)


def detection_loss(
    clf: Tensor, hlc: Tensor, mask: Tensor, labels: Tensor, distill_weight: float
) -> dict[str, Tensor]:
    """HL-Net's weakly supervised loss: MIL BCE of both heads + distillation of the classifier
    into the HLC approximator (``distill_weight`` = lambda, 5 in the paper)."""
    y = labels.float()
    cls = F.binary_cross_entropy_with_logits(topk_mean(clf, mask), y)
    cls_hlc = F.binary_cross_entropy_with_logits(topk_mean(hlc, mask), y)
    m = mask.to(clf.dtype)
    target = torch.sigmoid(clf).detach()
    per_video = (-target * F.logsigmoid(hlc) * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
    distill = per_video.mean()
    total = cls + cls_hlc + distill_weight * distill
    return {"detection": total, "mil": cls, "mil_hlc": cls_hlc, "distill": distill}


class GraphConvolution(nn.Module):
    """``H' = A (H W) + residual(H)``; residual = Conv1d(k=5) if widths differ, else identity."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_dim, out_dim))
        nn.init.xavier_uniform_(self.weight)
        self.residual = (
            nn.Conv1d(in_dim, out_dim, kernel_size=5, padding=2) if in_dim != out_dim else None
        )

    def forward(self, h: Tensor, adj: Tensor) -> Tensor:
        out = adj @ (h @ self.weight)
        if self.residual is None:
            return out + h
        return out + self.residual(h.transpose(1, 2)).transpose(1, 2)


class GraphBranch(nn.Module):
    """Two graph convolutions on one adjacency, each followed by ReLU and dropout."""

    def __init__(self, in_dim: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.gc1 = GraphConvolution(in_dim, dim)
        self.gc2 = GraphConvolution(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: Tensor, adj: Tensor, mask: Tensor) -> Tensor:
        keep = mask[:, :, None].to(h.dtype)  # padded snippets stay 0 (the k=5 residual sees them)
        h = self.drop(F.relu(self.gc1(h, adj))) * keep
        return self.drop(F.relu(self.gc2(h, adj))) * keep


class HLNetVideo(nn.Module):
    """The HL-Net detector body: ``(features [B, T, 96], clf logits [B, T], hlc logits [B, T])``."""

    def __init__(
        self, in_dim: int, hidden: Sequence[int], gcn_dim: int, dropout: float, threshold: float
    ) -> None:
        super().__init__()
        h1, h2 = (int(h) for h in hidden)
        self.threshold = float(threshold)
        self.conv1 = nn.Conv1d(in_dim, h1, kernel_size=1)
        self.conv2 = nn.Conv1d(h1, h2, kernel_size=1)
        self.drop = nn.Dropout(dropout)
        self.approximator = nn.Sequential(
            nn.Conv1d(h2, 64, 1), nn.ReLU(), nn.Conv1d(64, 32, 1), nn.ReLU()
        )
        self.hlc = nn.Conv1d(32, 1, HLC_KERNEL)
        self.branches = nn.ModuleDict(
            {k: GraphBranch(h2, gcn_dim, dropout) for k in ("similarity", "distance", "score")}
        )
        self.classifier = nn.Linear(3 * gcn_dim, 1)

    @property
    def out_dim(self) -> int:
        return self.classifier.in_features

    def forward(self, u: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        keep = mask[:, None, :].to(u.dtype)
        x = self.drop(F.relu(self.conv1(u.transpose(1, 2))))
        x = self.drop(F.relu(self.conv2(x))) * keep  # [B, 128, T]
        # Causal: left padding only, so a snippet's score never sees later (or padded) snippets.
        hlc = self.hlc(F.pad(self.approximator(x), (HLC_KERNEL - 1, 0))).squeeze(1)
        x = x.transpose(1, 2)  # [B, T, 128]
        graphs = {
            "similarity": similarity_graph(u, mask, self.threshold),
            "distance": distance_graph(mask),
            "score": score_graph(hlc.detach(), mask),
        }
        feats = torch.cat([self.branches[k](x, graphs[k], mask) for k in self.branches], dim=-1)
        clf = self.classifier(feats).squeeze(-1)
        return feats, clf, hlc


@dataclass(frozen=True)
class HLNetConfig(ModelConfig):
    """HL-Net's ``model_args`` (see the module docstring for the formulas)."""

    embed_dim: int = 256  # retrieval embedding size (gated embedding units)
    hidden: tuple[int, ...] = (512, 128)  # the two Conv1d(k=1) widths
    gcn_dim: int = 32
    dropout: float = 0.6
    threshold: float = 0.7  # holistic graph: cosines at or below are cut to 0
    pool: str = "mean"  # mean | max over snippets
    margin: float = 0.05
    detection_weight: float = 0.1  # weight of the detector's own loss
    distill_weight: float = 5.0  # lambda of the distillation term
    max_snippets: int = 200  # longer videos are average-pooled
    sample: str | None = None  # with num_snippets: fixed-n sampling
    num_snippets: int | None = None
    streams: tuple[str, ...] | None = None
    text: Mapping[str, Any] | None = None  # text-encoder options

    def validate(self, label: str) -> None:
        if self.pool not in POOLS:
            raise InputError(f"{label}.pool: expected one of {', '.join(POOLS)}, got {self.pool!r}")
        if len(self.hidden) != 2:
            raise InputError(f"{label}.hidden: expected two widths, got {list(self.hidden)}")
        if self.sample is not None and self.num_snippets is None:
            raise InputError(
                f"{label}.num_snippets: expected an integer with sample {self.sample!r}, got null"
            )


@register_model("hlnet")
class HLNet(RetrievalModel):
    """HL-Net video encoder + gated query embedding; arguments: :class:`HLNetConfig`."""

    config_class = HLNetConfig

    def __init__(self, cfg: HLNetConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.init_inputs(ctx, cfg.streams)
        self.pool = cfg.pool
        self.margin = float(cfg.margin)
        self.detection_weight = float(cfg.detection_weight)
        self.distill_weight = float(cfg.distill_weight)
        self.max_snippets = int(cfg.max_snippets)
        self.sample = cfg.sample
        self.num_snippets = cfg.num_snippets
        in_dim = sum(int(ctx.dims[s]) for s in self.streams)
        self.video = HLNetVideo(in_dim, cfg.hidden, cfg.gcn_dim, cfg.dropout, cfg.threshold)
        self.video_geu = GatedEmbeddingUnit(self.video.out_dim, cfg.embed_dim)
        query_size = self.init_query(ctx, cfg.text)
        if self.query_modality != TEXT:
            self.audio_proj = nn.Linear(query_size, query_size)
        self.query_geu = GatedEmbeddingUnit(query_size, cfg.embed_dim)

    def loader_options(self) -> dict:
        """HL-Net trains on at most 200 snippets per video (longer ones average-pooled)."""
        opts: dict[str, Any] = {"max_snippets": self.max_snippets}
        if self.sample is not None:
            opts.update(sample=self.sample, n=int(self.num_snippets))
        return opts

    def _video(self, batch: dict) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        u, mask = joined_streams(batch, self.streams)
        feats, clf, hlc = self.video(u, mask)
        pooled = masked_mean(feats, mask) if self.pool == "mean" else masked_max(feats, mask)
        return self.video_geu(pooled), clf, hlc, mask

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        return {"video": self._video(batch)[0]}

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        if self.query_modality == TEXT:
            _, _, cls = text_tokens(self.text_encoder, batch)
            return {"query": self.query_geu(cls)}
        x, mask = audio_tokens(batch)
        return {"query": self.query_geu(masked_mean(F.relu(self.audio_proj(x)), mask))}

    def similarity(self, query: dict, gallery: dict) -> Tensor:
        """``[Nq, Nv]`` cosine similarity of the (unit-norm) embeddings."""
        return query["query"] @ gallery["video"].t()

    def forward(self, batch: dict) -> dict[str, Tensor]:
        video, clf, hlc, mask = self._video(batch)
        sim = self.encode_query(batch)["query"] @ video.t()
        ranking = max_margin_ranking_loss(sim, self.margin, same=same_video(batch, sim.device))
        out = {"ranking": ranking.detach()}
        loss = ranking
        if self.detection_weight > 0 and "video_label" in batch:
            det = detection_loss(
                clf, hlc, mask, batch["video_label"].to(clf.device), self.distill_weight
            )
            loss = loss + self.detection_weight * det["detection"]
            out.update({k: v.detach() for k, v in det.items()})
        out["loss"] = loss
        return out
