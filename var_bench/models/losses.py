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


#: Reductions of :func:`max_margin_ranking_loss` (see its docstring).
RANKING_REDUCTIONS: tuple[str, ...] = ("mmt", "sum")


def max_margin_ranking_loss(sim: Tensor, margin: float = 0.05, reduction: str = "mmt") -> Tensor:
    """Bidirectional max-margin ranking loss.

    Terms: ``r_ij = relu(margin + s_ij - s_ii)`` (videos ranked for query i, rows) and
    ``c_ij = relu(margin + s_ij - s_jj)`` (queries ranked for video j, columns), over the
    ``B(B-1)`` off-diagonal pairs each.

    ``reduction="mmt"`` (default): one mean over all ``2B(B-1)`` terms,
    ``(sum r + sum c) / (2B(B-1))``, as MMT's ``MaxMarginRankingLoss(fix_norm=True)``
    (gabeur/mmt ``model/loss.py``), which the paper follows ("following [13]").
    ``reduction="sum"``: ``mean r + mean c``, exactly twice the MMT value (this project's rule
    before 0.2, kept for comparison with older runs). A batch of one has no negatives and gives 0.
    """
    if reduction not in RANKING_REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(RANKING_REDUCTIONS)}, got {reduction!r}")
    b = _check_square(sim)
    if b < 2:
        return sim.sum() * 0.0
    diag = sim.diagonal().unsqueeze(1)  # s_ii as a column
    off = ~torch.eye(b, dtype=torch.bool, device=sim.device)
    rows = F.relu(margin + sim - diag)          # [i, j]: s_ij vs s_ii
    cols = F.relu(margin + sim - diag.t())      # [i, j]: s_ij vs s_jj (column j's positive)
    total = rows[off].mean() + cols[off].mean()
    # Both halves count B(B-1) terms, so MMT's single mean is half the sum of the two means.
    return 0.5 * total if reduction == "mmt" else total


def sampled_negative_ranking_loss(sim: Tensor, margin: float = 0.1, pool: int | None = None,
                                  generator: torch.Generator | None = None) -> Tensor:
    """XML / TVR's hinge loss with one sampled negative per positive and direction.

    For query i (row) a negative video j != i is drawn uniformly among the ``pool`` highest
    ``s_ij`` of the row (``pool`` None or >= B - 1: among all negatives); for video j (column) a
    negative query likewise. ``L = mean_i relu(margin + s_i,neg - s_ii) + mean_j relu(margin +
    s_neg,j - s_jj)`` (TVRetrieval ``get_neg_scores`` + ``get_ranking_loss``, summed over the two
    directions). ``pool`` = 20 from epoch 20 is TVR's hard-negative schedule.
    """
    b = _check_square(sim)
    if b < 2:
        return sim.sum() * 0.0
    k = b - 1 if pool is None else max(1, min(int(pool), b - 1))
    eye = torch.eye(b, dtype=torch.bool, device=sim.device)
    diag = sim.diagonal()

    def one_side(s: Tensor) -> Tensor:
        # Rank each row's negatives by score (the positive pushed last), draw one of the top k.
        masked = s.detach().masked_fill(eye, float("-inf"))
        order = masked.argsort(dim=1, descending=True)[:, :k]
        pick = torch.randint(k, (b, 1), generator=generator).to(sim.device)
        neg = s.gather(1, order.gather(1, pick)).squeeze(1)
        return F.relu(margin + neg - diag).mean()

    return one_side(sim) + one_side(sim.t())


def symmetric_infonce(sim: Tensor, temperature: float = 0.05) -> Tensor:
    """Symmetric InfoNCE (CLIP): ``(CE(sim / t, diag) + CE(sim^T / t, diag)) / 2``."""
    b = _check_square(sim)
    logits = sim / temperature
    target = torch.arange(b, device=sim.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
