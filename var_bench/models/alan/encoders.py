"""ALAN's encoders: the two-stream video encoder, the audio encoder and the text side.

Video (per stream s in object = ``rgb``, motion = ``flow``): the snippet features ``[B, T, D_s]``
are linearly projected to ``d``; the FS indices give ``U_1..U_N`` and the AS indices
``R_1..R_N``; the sequence is ``[U_CLS, U_1..U_N, R_CLS, R_1..R_N]`` (length ``2N + 2``) with
``U_CLS = mean(U)``, ``R_CLS = mean(R)`` (not learned tokens), plus a position embedding and a
segment embedding (0 for the U half, 1 for the R half). A Self Encoder (Transformer encoder
layers) runs per stream; with two streams a Cross Encoder per stream follows (multi-head attention
with query = own stream, key/value = the other stream's self-encoder output, then linear,
dropout, residual, LayerNorm). Outputs per stream: ``g_v = (out[U_CLS] + out[R_CLS]) / 2`` and
``h_v = (avg(out[U_1..N]) + avg(out[R_1..N])) / 2``. The FS-only / AS-only ablations keep one
half (``N + 1`` tokens). The audio encoder is the same class with one stream and no cross layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from var_bench.models.modules import (
    GatedEmbeddingUnit,
    PositionEmbedding,
    TransformerEncoderLayers,
    masked_mean,
)
from var_bench.models.text import TextEncoder

#: The sampled sequences, in sequence order: fixed-frame (U) and anomaly-led (R).
SEQUENCES: tuple[str, ...] = ("fs", "as")

#: What the stream weights are computed from (see :class:`QueryHead`).
WEIGHT_INPUTS: tuple[str, ...] = ("text", "embeddings")

#: Position rules for the snippet tokens (see :func:`positions`).
POSITION_MODES: tuple[str, ...] = ("time", "order")
#: How a position id becomes a vector: a learned table (MMT's code) or the Transformer's fixed
#: sinusoids (Vaswani et al., the paper's reference [78]); the paper does not say which.
POSITION_EMBEDDINGS: tuple[str, ...] = ("learned", "sinusoidal")


def positions(indices: Tensor, lengths: Tensor, n: int, mode: str = "time") -> Tensor:
    """Position ids ``[B, n]`` (in ``1..n``; 0 is each half's CLS) of the sampled snippets.

    ``"time"``: ``1 + floor(idx * n / T)``, the snippet's relative time in the video, so a U and
    an R token from the same moment share a position and repeated indices share one;
    ``"order"``: ``1..n``, the slot in the sampled sequence.
    """
    if mode == "order":
        return torch.arange(1, n + 1, device=indices.device).expand(indices.shape[0], n)
    if mode == "time":
        t = lengths.long().clamp_min(1).unsqueeze(1)
        return 1 + torch.div(indices.long() * n, t, rounding_mode="floor").clamp(max=n - 1)
    raise ValueError(f"position mode must be one of {', '.join(POSITION_MODES)}, got {mode!r}")


def gather_snippets(x: Tensor, indices: Tensor) -> Tensor:
    """``x [B, T, D]`` at ``indices [B, n]`` -> ``[B, n, D]``."""
    return x.gather(1, indices.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class SequenceAssembler(nn.Module):
    """Builds ``LayerNorm([CLS_1, X_1.., CLS_2, X_2..] + position + segment)`` then dropout
    (BERT-style embedding normalisation) -> ``[B, H (N + 1), d]`` for H halves (FS U, AS R).

    ``CLS_h`` = mean of its half's tokens (not a learned token), position 0; segment ids: 0 for
    FS halves, 1 for AS halves.
    """

    def __init__(
        self, d: int, n: int, dropout: float = 0.1, position_embedding: str = "learned"
    ) -> None:
        super().__init__()
        if position_embedding not in POSITION_EMBEDDINGS:
            raise ValueError(
                f"position_embedding must be one of {', '.join(POSITION_EMBEDDINGS)}, "
                f"got {position_embedding!r}"
            )
        self.pos = PositionEmbedding(d, max_len=n + 1, learned=position_embedding == "learned")
        self.segment = nn.Embedding(len(SEQUENCES), d)
        self.norm = nn.LayerNorm(d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, halves: list[tuple[str, Tensor, Tensor]]) -> Tensor:
        """``halves``:
        ``(kind "fs"|"as", projected tokens [B, N, d], position ids [B, N] in 1..N)``."""
        parts = []
        for kind, tokens, pos in halves:
            zero = torch.zeros(tokens.shape[0], 1, dtype=torch.long, device=tokens.device)
            cls = tokens.mean(dim=1, keepdim=True)  # [B, 1, d]
            part = torch.cat([cls, tokens], dim=1)
            part = part + self.pos.positions(torch.cat([zero, pos], dim=1)).to(tokens.dtype)
            parts.append(part + self.segment.weight[SEQUENCES.index(kind)].to(tokens.dtype))
        return self.dropout(self.norm(torch.cat(parts, dim=1)))


class CrossEncoder(nn.Module):
    """``LayerNorm(x + Dropout(Linear(MHA(q = x, k = v = other))))`` -> ``[B, L, d]``."""

    def __init__(self, d: int, heads: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.linear = nn.Linear(d, d)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d)

    def forward(self, x: Tensor, other: Tensor) -> Tensor:
        attended, _ = self.attn(x, other, other, need_weights=False)
        return self.norm(x + self.dropout(self.linear(attended)))


@dataclass
class StreamOutput:
    """One stream's encoder output: ``g [B, d]`` (CLS), ``h [B, d]`` (AVG),
    ``tokens [B, 2N+2, d]``."""

    g: Tensor
    h: Tensor
    tokens: Tensor


def pool_outputs(out: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """``(g, h)`` from a ``[B, H (N + 1), d]`` output of H halves: ``g`` = mean of the halves' CLS
    outputs, ``h`` = mean over halves of the average of their N snippet outputs."""
    halves = out.unflatten(1, (-1, n + 1))  # [B, H, N + 1, d]
    return halves[:, :, 0].mean(dim=1), halves[:, :, 1:].mean(dim=2).mean(dim=1)


class MultiStreamEncoder(nn.Module):
    """The video encoder (one or more streams) or, with one stream and no cross layers, the audio
    encoder (one stream, FS + AS, Self Encoder only).

    ``forward(features: {stream: [B, T, D_s]}, lengths [B], indices: {"fs": [B, N], "as": [B, N]})
    -> {stream: StreamOutput}``; ``indices`` holds one or both sequences (the FS-only / AS-only
    ablations pass one), in the order of :data:`SEQUENCES`. The same indices serve every stream
    (the streams are aligned snippet by snippet). ``cross_layers`` Cross Encoder layers per stream
    run after the Self Encoders when there are two or more streams: layer i of stream s attends to
    the other streams' layer-(i-1) outputs, concatenated along the token axis (two streams: the
    paper's RGB <-> Flow cross attention exactly; three, e.g. rgb + flow + clip: each attends to
    both others).
    """

    def __init__(
        self,
        in_dims: dict[str, int],
        d: int,
        n: int,
        *,
        self_layers: int = 4,
        cross_layers: int = 1,
        heads: int = 4,
        ff_dim: int | None = None,
        dropout: float = 0.1,
        position: str = "time",
        position_embedding: str = "learned",
    ) -> None:
        super().__init__()
        if not in_dims:
            raise ValueError("expected at least one stream, got none")
        if position not in POSITION_MODES:
            raise ValueError(
                f"position must be one of {', '.join(POSITION_MODES)}, got {position!r}"
            )
        self.streams = tuple(in_dims)
        self.n = n
        self.position = position
        self.project = nn.ModuleDict({s: nn.Linear(D, d) for s, D in in_dims.items()})
        self.assemble = nn.ModuleDict(
            {s: SequenceAssembler(d, n, dropout, position_embedding) for s in self.streams}
        )
        self.self_enc = nn.ModuleDict(
            {
                s: TransformerEncoderLayers(d, self_layers, heads, ff_dim, dropout)
                for s in self.streams
            }
        )
        n_cross = cross_layers if len(self.streams) >= 2 else 0
        self.cross = nn.ModuleDict(
            {
                s: nn.ModuleList(CrossEncoder(d, heads, dropout) for _ in range(n_cross))
                for s in self.streams
            }
        )

    def _others(self, seq: dict[str, Tensor], stream: str) -> Tensor:
        """The other streams' tokens ``[B, (S - 1) L, d]`` (two streams: the other's, no copy)."""
        others = [seq[o] for o in self.streams if o != stream]
        return others[0] if len(others) == 1 else torch.cat(others, dim=1)

    def forward(
        self, features: dict[str, Tensor], lengths: Tensor, indices: dict[str, Tensor]
    ) -> dict[str, StreamOutput]:
        kinds = [k for k in SEQUENCES if k in indices]
        if not kinds or len(kinds) != len(indices):
            raise ValueError(f"indices must hold 'fs' and/or 'as', got {sorted(indices)}")
        pos = {k: positions(indices[k], lengths, self.n, self.position) for k in kinds}
        seq = {}
        for s in self.streams:
            # Gather, then project: the same result as projecting all T snippets, N/T the cost.
            halves = [
                (k, self.project[s](gather_snippets(features[s], indices[k])), pos[k])
                for k in kinds
            ]
            seq[s] = self.self_enc[s](self.assemble[s](halves))
        for i in range(len(self.cross[self.streams[0]])):
            # every stream reads the others' outputs of the previous layer, never its own update
            seq = {s: self.cross[s][i](seq[s], self._others(seq, s)) for s in self.streams}
        out = {}
        for s in self.streams:
            g, h = pool_outputs(seq[s], self.n)
            out[s] = StreamOutput(g, h, seq[s])
        return out


@dataclass
class QueryEmbedding:
    """A query's per-stream GEU embeddings (L2-normalised, ``[B, d]`` each) and stream weights
    ``w_g``, ``w_h`` (``[B, S]``, softmax, columns in the order of the video streams)."""

    g: dict[str, Tensor]
    h: dict[str, Tensor]
    w_g: Tensor
    w_h: Tensor


class QueryHead(nn.Module):
    """GEUs per video stream on the query's global (``g``) and average (``h``) vectors, and the
    stream weights.

    ``weights_from="text"``: ``w = softmax(W g)`` on the pre-GEU query vector, as MMT's expert
    weights (``moe_fc_txt``). ``weights_from="embeddings"``: the paper's wording ("pass g_to
    (g_tm) through a linear layer with softmax"): one logit per stream from that stream's
    post-GEU embedding, ``w_s = softmax_s(u_s . g_ts + b_s)``; the same for ``h``.
    """

    def __init__(
        self, in_dim: int, d: int, streams: tuple[str, ...], *, weights_from: str = "text"
    ) -> None:
        super().__init__()
        if weights_from not in WEIGHT_INPUTS:
            raise ValueError(
                f"weights_from must be one of {', '.join(WEIGHT_INPUTS)}, got {weights_from!r}"
            )
        self.streams = streams
        self.weights_from = weights_from
        self.geu_g = nn.ModuleDict({s: GatedEmbeddingUnit(in_dim, d) for s in streams})
        self.geu_h = nn.ModuleDict({s: GatedEmbeddingUnit(in_dim, d) for s in streams})
        if weights_from == "text":
            self.weight_g = nn.Linear(in_dim, len(streams))
            self.weight_h = nn.Linear(in_dim, len(streams))
        else:
            self.weight_g = nn.ModuleDict({s: nn.Linear(d, 1) for s in streams})
            self.weight_h = nn.ModuleDict({s: nn.Linear(d, 1) for s in streams})

    def _weights(self, layer: nn.Module, x: Tensor, emb: dict[str, Tensor]) -> Tensor:
        if self.weights_from == "text":
            logits = layer(x)
        else:
            logits = torch.cat([layer[s](emb[s]) for s in self.streams], dim=-1)
        return torch.softmax(logits.float(), dim=-1)

    def forward(self, g: Tensor, h: Tensor) -> QueryEmbedding:
        eg = {s: self.geu_g[s](g) for s in self.streams}
        eh = {s: self.geu_h[s](h) for s in self.streams}
        return QueryEmbedding(
            g=eg,
            h=eh,
            w_g=self._weights(self.weight_g, g, eg),
            w_h=self._weights(self.weight_h, h, eh),
        )


@dataclass
class TextOutput:
    """BERT outputs of a batch of captions: ``tokens [B, L, H]``, ``mask [B, L]`` (all real
    tokens), ``word_mask [B, L]`` (real tokens minus special ones), ``ids [B, L]``, ``g [B, H]``
    ([CLS]) and ``h [B, H]`` (mean of the word outputs)."""

    tokens: Tensor
    mask: Tensor
    word_mask: Tensor
    ids: Tensor
    g: Tensor
    h: Tensor


class TextSide(nn.Module):
    """The text encoder: ``g_t`` = the [CLS] output, ``h_t`` = masked mean of the word outputs
    (special tokens excluded), both through a :class:`QueryHead`."""

    def __init__(
        self,
        text_model: str,
        d: int,
        streams: tuple[str, ...],
        *,
        freeze: bool = False,
        cache: bool = False,
        max_length: int = 64,
        dropout: float | None = 0.3,
        weights_from: str = "text",
    ) -> None:
        super().__init__()
        self.encoder = TextEncoder(
            text_model, freeze=freeze, cache=cache, max_length=max_length, dropout=dropout
        )
        self.head = QueryHead(self.encoder.hidden_size, d, streams, weights_from=weights_from)
        self._special = sorted(set(self.encoder.tokenizer.all_special_ids))

    @property
    def hidden_size(self) -> int:
        return self.encoder.hidden_size

    def encode(self, texts: list[str]) -> TextOutput:
        tokens, mask, cls, ids = self.encoder(list(texts))
        special = torch.isin(ids, torch.tensor(self._special, device=ids.device))
        word_mask = mask & ~special
        return TextOutput(tokens, mask, word_mask, ids, cls, masked_mean(tokens, word_mask))

    def forward(self, texts: list[str]) -> tuple[TextOutput, QueryEmbedding]:
        out = self.encode(texts)
        return out, self.head(out.g, out.h)
