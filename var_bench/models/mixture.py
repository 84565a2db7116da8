"""Mixture-of-experts retrieval, the pieces CE introduced and MMT and T2VLAD inherited from its
code: a reduce-dim layer, query-conditioned expert weights, the weighted per-expert cosine
similarity and the shared scoring and training step.

With ``E`` video experts (streams), per-expert L2-normalised query embeddings ``t_e`` and video
embeddings ``v_e`` and mixture weights ``w = softmax(W q + b)``:
``s(query, video) = sum_e w_e cos(t_e, v_e)``, trained with the bidirectional max-margin ranking
loss (:func:`~var_bench.models.losses.max_margin_ranking_loss`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from var_bench.models.base import RetrievalModel
from var_bench.models.losses import max_margin_ranking_loss, same_video


class ReduceDim(nn.Module):
    """CE's reduce-dim layer: ``L2(W x + b)`` on the last axis
    (``[..., in_dim] -> [..., out_dim]``)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(self.fc(x), dim=-1)


class MixtureWeights(nn.Module):
    """Query-conditioned expert weights ``w = softmax(W dropout(q) + b)`` -> ``[B, E]``
    (non-negative, each row sums to 1)."""

    def __init__(self, in_dim: int, experts: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_dim, experts)

    def forward(self, q: Tensor) -> Tensor:
        return torch.softmax(self.fc(self.dropout(q)), dim=-1)


def weighted_expert_similarity(query: Tensor, weights: Tensor, gallery: Tensor) -> Tensor:
    """``S[i, j] = sum_e weights[i, e] * <query[i, e], gallery[j, e]>`` -> ``[Nq, Nv]``.

    ``query [Nq, E, D]`` and ``gallery [Nv, E, D]`` hold L2-normalised per-expert embeddings, so
    each inner product is a cosine; ``weights [Nq, E]`` are the query's mixture weights.
    One ``[Nq, Nv]`` matrix product per expert (memory O(Nq Nv)).
    """
    if query.shape[1] != gallery.shape[1] or query.shape[1] != weights.shape[1]:
        raise ValueError(
            f"expected one embedding and weight per expert, got query "
            f"{tuple(query.shape)}, weights {tuple(weights.shape)}, "
            f"gallery {tuple(gallery.shape)}"
        )
    sim = query.new_zeros(query.shape[0], gallery.shape[0])
    for e in range(query.shape[1]):
        sim = sim + weights[:, e : e + 1] * (query[:, e] @ gallery[:, e].t())
    return sim


class MixtureOfExpertsRetrieval(RetrievalModel):
    """Shared scoring and training step of the mixture-of-experts models (CE, MMT, T2VLAD):
    :func:`weighted_expert_similarity` of the query's ``emb`` / ``weights`` against the
    gallery's ``emb``, trained with the max-margin ranking loss (margin ``self.margin``)."""

    def similarity(self, query: dict, gallery: dict) -> Tensor:
        return weighted_expert_similarity(query["emb"], query["weights"], gallery["emb"])

    def forward(self, batch: dict) -> dict[str, Tensor]:
        sim = self.similarity(self.encode_query(batch), self.encode_gallery(batch))
        loss = max_margin_ranking_loss(sim, self.margin, same=same_video(batch, sim.device))
        return {"loss": loss, "rank": loss.detach()}
