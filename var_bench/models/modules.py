"""Building blocks shared by the models: gated embedding units, masked pooling, NetVLAD,
position embeddings and a masked Transformer encoder stack.

Shapes: ``x`` is ``[B, L, D]`` (batch, snippets or tokens, features); ``mask`` is a bool
``[B, L]`` with True on real positions (as the collate function produces).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def masked_mean(x: Tensor, mask: Tensor | None) -> Tensor:
    """Mean over dim 1 of the real positions: ``sum_l m_l x_l / max(sum_l m_l, 1)`` -> ``[B, D]``.

    A row with no real position gives zeros (never NaN).
    """
    if mask is None:
        return x.mean(dim=1)
    m = mask.to(x.dtype).unsqueeze(-1)
    return (x * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


def masked_max(x: Tensor, mask: Tensor | None) -> Tensor:
    """Max over dim 1 of the real positions -> ``[B, D]``; a row with none gives zeros."""
    if mask is None:
        return x.max(dim=1).values
    m = mask.unsqueeze(-1)
    filled = x.masked_fill(~m, torch.finfo(x.dtype).min)
    out = filled.max(dim=1).values
    empty = ~mask.any(dim=1, keepdim=True)
    return out.masked_fill(empty, 0.0)


class GatedEmbeddingUnit(nn.Module):
    """Gated embedding unit (Miech et al., 2018): ``y = W1 x + b1``;
    ``y = y * sigmoid(W2 y + b2)``; output ``y / ||y||_2`` (set ``normalize=False`` to skip).

    ``batch_norm=True``: MMT's / CE's code form (``ContextGating(add_batch_norm=True)``, MMT's
    published ``txt_pro: gbn``): ``y = y * sigmoid(BN(W2 y + b2))`` with BatchNorm1d over the
    batch (running statistics in eval mode)."""

    def __init__(
        self, in_dim: int, out_dim: int, normalize: bool = True, batch_norm: bool = False
    ) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.gate = nn.Linear(out_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim) if batch_norm else None
        self.normalize = normalize

    def forward(self, x: Tensor) -> Tensor:
        y = self.fc(x)
        gate = self.gate(y)
        if self.bn is not None:
            gate = self.bn(gate)
        y = y * torch.sigmoid(gate)
        return F.normalize(y, dim=-1) if self.normalize else y


class NetVLAD(nn.Module):
    """NetVLAD pooling (Arandjelovic et al., 2016) over the real positions of ``[B, L, D]``.

    Soft assignment ``a_lk = softmax_k(w_k . x_l + b_k)`` (zero at masked positions); residuals
    ``V_k = sum_l a_lk (x_l - c_k)``; each ``V_k`` L2-normalised (intra-normalisation), then the
    flattened ``[B, K*D]`` vector L2-normalised. ``output_dim = clusters * dim``.
    """

    def __init__(self, dim: int, clusters: int) -> None:
        super().__init__()
        self.dim = dim
        self.clusters = clusters
        self.assign = nn.Linear(dim, clusters)
        self.centroids = nn.Parameter(torch.randn(clusters, dim) / math.sqrt(dim))

    @property
    def output_dim(self) -> int:
        return self.clusters * self.dim

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        a = torch.softmax(self.assign(x), dim=-1)  # [B, L, K]
        if mask is not None:
            a = a * mask.to(a.dtype).unsqueeze(-1)
        # sum_l a_lk x_l - (sum_l a_lk) c_k
        v = torch.einsum("blk,bld->bkd", a, x) - a.sum(dim=1).unsqueeze(-1) * self.centroids
        v = F.normalize(v, dim=-1)
        return F.normalize(v.flatten(1), dim=-1)


def sinusoidal_positions(length: int, dim: int, *, device=None, dtype=torch.float32) -> Tensor:
    """Fixed sinusoidal position table ``[length, dim]`` (Vaswani et al., 2017):
    ``PE[p, 2i] = sin(p / 10000^(2i/dim))``, ``PE[p, 2i+1] = cos(...)``."""
    pos = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    pe = torch.zeros(length, dim, device=device, dtype=torch.float32)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return pe.to(dtype)


class PositionEmbedding(nn.Module):
    """Adds a position embedding to ``[B, L, D]``: learned (``max_len`` rows) or sinusoidal."""

    def __init__(self, dim: int, max_len: int = 512, learned: bool = True) -> None:
        super().__init__()
        self.learned = learned
        self.max_len = max_len
        if learned:
            self.table = nn.Embedding(max_len, dim)
        else:
            self.register_buffer(
                "table_fixed", sinusoidal_positions(max_len, dim), persistent=False
            )

    def positions(self, positions: Tensor) -> Tensor:
        """Embeddings for integer positions of any shape -> ``[..., D]``."""
        if positions.numel() and int(positions.max()) >= self.max_len:
            raise ValueError(f"position {int(positions.max())} >= max_len {self.max_len}")
        if self.learned:
            return self.table(positions)
        return self.table_fixed[positions]

    def forward(self, x: Tensor) -> Tensor:
        pos = torch.arange(x.shape[1], device=x.device)
        return x + self.positions(pos).to(x.dtype).unsqueeze(0)


class TransformerEncoderLayers(nn.Module):
    """A stack of standard (post-norm) Transformer encoder layers with a key padding mask.

    ``forward(x [B, L, D], mask [B, L] True = real) -> [B, L, D]``.
    """

    def __init__(
        self,
        dim: int,
        layers: int = 4,
        heads: int = 4,
        ff_dim: int | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model=dim,
            nhead=heads,
            dim_feedforward=ff_dim or 4 * dim,
            dropout=dropout,
            batch_first=True,
            activation="gelu",
        )
        # enable_nested_tensor off: the nested fast path changes numerics between train and eval.
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        pad = None if mask is None else ~mask
        return self.encoder(x, src_key_padding_mask=pad)
