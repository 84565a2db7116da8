"""Retrieval losses over a square similarity matrix ``sim [B, B]`` whose diagonal holds the
positive pairs (query i <-> video i)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_square(sim: Tensor) -> int:
    if sim.dim() != 2 or sim.shape[0] != sim.shape[1]:
        raise ValueError(f"expected a square [B, B] similarity matrix, got shape {tuple(sim.shape)}")
    return sim.shape[0]


def max_margin_ranking_loss(sim: Tensor, margin: float = 0.05) -> Tensor:
    """Bidirectional max-margin ranking loss as in MMT.

    ``L = mean_{i != j} relu(margin + s_ij - s_ii) + mean_{i != j} relu(margin + s_ji - s_ii)``:
    the first term ranks videos for each query (rows), the second queries for each video
    (columns); each mean is over the ``B(B-1)`` off-diagonal pairs. A batch of one has no
    negatives and gives 0.
    """
    b = _check_square(sim)
    if b < 2:
        return sim.sum() * 0.0
    diag = sim.diagonal().unsqueeze(1)  # s_ii as a column
    off = ~torch.eye(b, dtype=torch.bool, device=sim.device)
    rows = F.relu(margin + sim - diag)          # [i, j]: s_ij vs s_ii
    cols = F.relu(margin + sim - diag.t())      # [i, j]: s_ij vs s_jj (column j's positive)
    return rows[off].mean() + cols[off].mean()


def symmetric_infonce(sim: Tensor, temperature: float = 0.05) -> Tensor:
    """Symmetric InfoNCE (CLIP): ``(CE(sim / t, diag) + CE(sim^T / t, diag)) / 2``."""
    b = _check_square(sim)
    logits = sim / temperature
    target = torch.arange(b, device=sim.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
