"""Retrieval losses over a square similarity matrix ``sim [B, B]`` of a batch of B (query, video)
pairs: the diagonal holds the positive pairs (query i <-> video i).

The positives come from the gold: when a training split has several queries per video (several
captions, sentences of one video), a batch may hold the same video twice, and the off-diagonal
pair (query i, video j) of the same video is then no negative. ``same`` ([B, B] bool, True where
rows i and j are of one video; :func:`same_video` builds it from a batch) masks those pairs out of
every loss; None (every video once) is the diagonal alone, the paper's setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_square(sim: Tensor) -> int:
    if sim.dim() != 2 or sim.shape[0] != sim.shape[1]:
        raise ValueError(
            f"expected a square [B, B] similarity matrix, got shape {tuple(sim.shape)}"
        )
    return sim.shape[0]


def same_video(
    batch: Mapping | Sequence[str], device: torch.device | str | None = None
) -> Tensor | None:
    """``[B, B]`` bool, True where batch rows i and j are of one video (the diagonal included);
    None when every video of the batch is distinct (the diagonal alone: the fast path).

    ``batch``: a collated batch (its ``video_id`` list) or the list itself.

    Example:
        >>> same_video(["a", "b", "a"]).int().tolist()
        [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
        >>> same_video(["a", "b"]) is None
        True
    """
    ids = list(batch.get("video_id") or () if isinstance(batch, Mapping) else batch)
    if len(set(ids)) == len(ids):
        return None
    codes = {v: k for k, v in enumerate(dict.fromkeys(ids))}
    key = torch.tensor([codes[v] for v in ids], device=device)
    return key[:, None] == key[None, :]


def _negatives(sim: Tensor, same: Tensor | None) -> Tensor:
    """True where (i, j) is a negative pair: off the diagonal and not of one video."""
    eye = torch.eye(sim.shape[0], dtype=torch.bool, device=sim.device)
    return ~eye if same is None else ~(same.to(sim.device) | eye)


#: Reductions of :func:`max_margin_ranking_loss` (see its docstring).
RANKING_REDUCTIONS: tuple[str, ...] = ("mmt", "sum")


def max_margin_ranking_loss(
    sim: Tensor, margin: float = 0.05, reduction: str = "mmt", same: Tensor | None = None
) -> Tensor:
    """Bidirectional max-margin ranking loss.

    Terms: ``r_ij = relu(margin + s_ij - s_ii)`` (videos ranked for query i, rows) and
    ``c_ij = relu(margin + s_ij - s_jj)`` (queries ranked for video j, columns), over the
    ``B(B-1)`` off-diagonal pairs each (fewer with ``same``: pairs of one video are no
    negatives).

    ``reduction="mmt"`` (default): one mean over all ``2B(B-1)`` terms,
    ``(sum r + sum c) / (2B(B-1))``, as MMT's ``MaxMarginRankingLoss(fix_norm=True)``
    (gabeur/mmt ``model/loss.py``), which the paper follows ("following [13]").
    ``reduction="sum"``: ``mean r + mean c``, exactly twice the MMT value (this project's rule
    before 0.2, kept for comparison with older runs). A batch of one has no negatives and gives 0.
    """
    if reduction not in RANKING_REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {', '.join(RANKING_REDUCTIONS)}, got {reduction!r}"
        )
    b = _check_square(sim)
    if b < 2:
        return sim.sum() * 0.0
    diag = sim.diagonal().unsqueeze(1)  # s_ii as a column
    off = _negatives(sim, same)
    if not bool(off.any()):  # every row of one video: nothing to rank against
        return sim.sum() * 0.0
    rows = F.relu(margin + sim - diag)  # [i, j]: s_ij vs s_ii
    cols = F.relu(margin + sim - diag.t())  # [i, j]: s_ij vs s_jj (column j's positive)
    total = rows[off].mean() + cols[off].mean()
    # Both halves count B(B-1) terms, so MMT's single mean is half the sum of the two means.
    return 0.5 * total if reduction == "mmt" else total


def sampled_negative_ranking_loss(
    sim: Tensor,
    margin: float = 0.1,
    pool: int | None = None,
    generator: torch.Generator | None = None,
    same: Tensor | None = None,
) -> Tensor:
    """XML / TVR's hinge loss with one sampled negative per positive and direction.

    For query i (row) a negative video j != i is drawn uniformly among the ``pool`` highest
    ``s_ij`` of the row (``pool`` None or >= B - 1: among all negatives); for video j (column) a
    negative query likewise. ``L = mean_i relu(margin + s_i,neg - s_ii) + mean_j relu(margin +
    s_neg,j - s_jj)`` (TVRetrieval ``get_neg_scores`` + ``get_ranking_loss``, summed over the two
    directions). ``pool`` = 20 from epoch 20 is TVR's hard-negative schedule. With ``same``, pairs
    of one video are never drawn as negatives.
    """
    b = _check_square(sim)
    if b < 2:
        return sim.sum() * 0.0
    negative = _negatives(sim, same)
    fewest = int(negative.sum(dim=1).min())  # every row draws among its own negatives
    if fewest == 0:
        return sim.sum() * 0.0
    k = fewest if pool is None else max(1, min(int(pool), fewest))
    not_negative = ~negative
    diag = sim.diagonal()

    def one_side(s: Tensor) -> Tensor:
        # Rank each row's negatives by score (the positives pushed last), draw one of the top k.
        masked = s.detach().masked_fill(not_negative, float("-inf"))
        order = masked.argsort(dim=1, descending=True)[:, :k]
        pick = torch.randint(k, (b, 1), generator=generator).to(sim.device)
        neg = s.gather(1, order.gather(1, pick)).squeeze(1)
        return F.relu(margin + neg - diag).mean()

    return one_side(sim) + one_side(sim.t())


def symmetric_infonce(sim: Tensor, temperature: float = 0.05, same: Tensor | None = None) -> Tensor:
    """Symmetric InfoNCE (CLIP): ``(CE(sim / t, diag) + CE(sim^T / t, diag)) / 2``; with ``same``
    the other pairs of one video are left out of each softmax."""
    b = _check_square(sim)
    logits = sim / temperature
    if same is not None:
        others = same.to(sim.device) & ~torch.eye(b, dtype=torch.bool, device=sim.device)
        logits = logits.masked_fill(others, float("-inf"))
    target = torch.arange(b, device=sim.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
