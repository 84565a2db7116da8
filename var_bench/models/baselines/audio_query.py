"""A BERT-style encoder for the audio query of XDViolence-AR, for baselines whose text side reads a
BERT [CLS] vector and contextual word tokens (MMT, T2VLAD).

The VGGish snippets play the words: ``h_0 = [CLS]`` (a learned vector), ``h_i = W a_i + b``
(i = 1..T); each token gets a learned position embedding (position i, clamped to ``max_len - 1``
as MMT clamps its time ids), LayerNorm and dropout, then ``layers`` Transformer encoder layers
with the padding mask. Output: ``(tokens [B, 1 + T, d], mask [B, 1 + T], cls [B, d])``, the same
triple :func:`baselines._inputs.text_tokens` gives for captions.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from var_bench.models.modules import PositionEmbedding, TransformerEncoderLayers


class AudioQueryEncoder(nn.Module):
    """VGGish snippets ``[B, T, in_dim]`` with mask -> ``(tokens, mask, cls)`` (see the module
    docstring). ``layers = 0`` keeps the projected, position-embedded snippets (no attention)."""

    def __init__(
        self,
        in_dim: int,
        dim: int,
        *,
        layers: int = 2,
        heads: int = 4,
        dropout: float = 0.1,
        max_len: int = 512,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.max_len = max_len
        self.proj = nn.Linear(in_dim, dim)
        self.cls = nn.Parameter(torch.randn(dim) * 0.02)
        self.position = PositionEmbedding(dim, max_len=max_len, learned=True)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.encoder = (
            TransformerEncoderLayers(dim, layers=layers, heads=heads, dropout=dropout)
            if layers > 0
            else None
        )

    def forward(self, audio: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        b, t = audio.shape[:2]
        x = torch.cat([self.cls.expand(b, 1, -1).to(audio.dtype), self.proj(audio)], dim=1)
        pos = torch.arange(t + 1, device=audio.device).clamp_max(self.max_len - 1)
        x = self.dropout(self.norm(x + self.position.positions(pos).to(x.dtype).unsqueeze(0)))
        full = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=mask.device), mask], dim=1)
        if self.encoder is not None:
            x = self.encoder(x, full)
        return x, full, x[:, 0]
