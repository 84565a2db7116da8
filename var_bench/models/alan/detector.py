"""ALAN's weakly supervised anomaly detector and its top-k BCE loss.

The detector scores every snippet of a video; its confidences drive anomaly-led sampling
(:mod:`var_bench.models.alan.sampling`). It learns from video-level labels only, through
:func:`topk_bce_loss` (sampling is not differentiable).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class AnomalyDetector(nn.Module):
    """Three temporal convolutions (paper): ``Conv1d(in_dim -> 128, k=7)``, ReLU, dropout,
    ``Conv1d(128 -> 32, k=7)``, ReLU, dropout, ``Conv1d(32 -> 1, k=7)``, sigmoid.

    ``forward(x [B, T, in_dim], mask [B, T]) -> l [B, T]`` confidences in (0, 1); padded
    positions get 0. The input and every hidden map are zeroed at padded positions before each
    convolution ("same" zero padding), so a video's scores do not depend on how much padding
    its batch added.
    """

    def __init__(
        self,
        in_dim: int,
        channels: tuple[int, ...] = (128, 32),
        kernel_size: int = 7,
        dropout: float = 0.6,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (same-length output), got {kernel_size}")
        dims = (in_dim, *channels, 1)
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, kernel_size, padding=kernel_size // 2) for a, b in zip(dims, dims[1:])
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        m = None if mask is None else mask.unsqueeze(1).to(x.dtype)  # [B, 1, T]
        h = x.transpose(1, 2)  # [B, D, T]
        for i, conv in enumerate(self.convs):
            if m is not None:
                h = h * m
            h = conv(h)
            if i < len(self.convs) - 1:
                h = self.dropout(F.relu(h))
        scores = torch.sigmoid(h.squeeze(1))
        return scores if mask is None else scores * mask.to(scores.dtype)


def topk_counts(lengths: Tensor, divisor: int = 16) -> Tensor:
    """``k_b = max(1, floor(T_b / divisor))`` per video (int64), T_b its real length."""
    return torch.clamp(torch.div(lengths.long(), divisor, rounding_mode="floor"), min=1)


def topk_mean(scores: Tensor, mask: Tensor, divisor: int = 16) -> Tensor:
    """``rho_b`` = mean of the ``k_b`` largest real confidences of video b -> ``[B]`` float32."""
    lengths = mask.sum(dim=1)
    if bool((lengths < 1).any()):
        raise ValueError("every video needs at least one real snippet (a mask row is all False)")
    k = topk_counts(lengths, divisor)
    ranked = scores.float().masked_fill(~mask, float("-inf")).sort(dim=-1, descending=True).values
    # Padded (-inf) entries sort last and k_b <= T_b, so the first k_b entries are all real.
    ranked = ranked.masked_fill(torch.isinf(ranked), 0.0)
    cum = ranked.cumsum(dim=-1)
    return cum.gather(1, (k - 1).unsqueeze(1)).squeeze(1) / k.to(cum.dtype)


def topk_bce_loss(scores: Tensor, mask: Tensor, labels: Tensor, divisor: int = 16) -> Tensor:
    """Multiple-instance loss: ``mean_b BCE(rho_b, y_b)``, ``rho_b`` from :func:`topk_mean`.

    ``BCE(rho, y) = -(y log rho + (1 - y) log(1 - rho))``, computed in float32 outside autocast
    (binary cross-entropy is unsafe in half precision); logs are clamped at -100 as in torch.
    """
    rho = topk_mean(scores, mask, divisor)
    with torch.autocast(device_type=scores.device.type, enabled=False):
        return F.binary_cross_entropy(rho.float(), labels.float().to(rho.device))
