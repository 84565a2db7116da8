"""X-CLIP (Ma et al., ACM MM 2022): multi-grained contrast on precomputed snippet features.

Video: each snippet (the video streams concatenated, rgb [+ flow]) is projected to ``dim``,
passed through a temporal Transformer with learned position embeddings plus a residual
(CLIP4Clip's "seqTransf"), and L2-normalised: these are the *frames* ``f_i``; the *video* ``v`` is
the L2-normalised masked mean of the frames. Query (UCFCrime-AR): BERT [CLS] -> *sentence* ``s``,
BERT token outputs -> *words* ``w_j`` (one shared projection, L2-normalised). Query
(XDViolence-AR): the VGGish snippets are the words (projected, temporal Transformer, residual)
and their normalised mean is the sentence.

Attention over a similarity vector (AOSM), temperature tau (0.01 in the paper):
``aosm(x) = sum_i softmax_i(x_i / tau) * x_i`` (masked positions excluded). The pair score is the
mean of four cosine similarities:

* video-sentence ``s_VS = v . s``
* video-word ``s_VW = aosm_j(v . w_j)``
* sentence-frame ``s_SF = aosm_i(s . f_i)``
* frame-word, with ``M_ij = f_i . w_j``: ``a_i = aosm_j(M_ij)``, ``b_j = aosm_i(M_ij)``,
  ``s_FW = (aosm_i(a_i) + aosm_j(b_j)) / 2``

``s = (s_VS + s_VW + s_SF + s_FW) / 4``. Loss: symmetric InfoNCE over the batch's ``[B, B]`` scores
with temperature 0.01 (CLIP's logit scale 100, which X-CLIP inherits).
Adaptations (docs/baselines.md (xclip)): no CLIP backbones (precomputed I3D/VGGish features and
BERT); the official code's position-indexed AOSM mixing matrices (identity-initialised, not in
the paper) are left out, so scores do not depend on padding width. The d x d
``global_mat_weight`` / ``local_mat_weight`` of the official code are the option
``mat_weights: true`` (off by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from var_bench.models.base import TEXT, ModelConfig, ModelContext, RetrievalModel
from var_bench.models.baselines._inputs import (
    audio_tokens,
    joined_streams,
    masked_softmax,
    normalize,
    text_tokens,
)
from var_bench.models.losses import same_video, symmetric_infonce
from var_bench.models.modules import PositionEmbedding, TransformerEncoderLayers, masked_mean
from var_bench.models.registry import register_model

#: Elements of the largest [queries, videos, words, frames] block the frame-word term builds.
BLOCK_ELEMENTS = 1 << 24


def aosm(sim: Tensor, mask: Tensor | None, dim: int, tau: float) -> Tensor:
    """Attention over a similarity vector along ``dim``: ``sum_i softmax_i(x_i / tau) x_i`` over
    the True positions of ``mask`` (broadcastable to ``sim``); an all-masked slice gives 0."""
    weights = masked_softmax(sim / tau, mask, dim)
    if mask is not None:
        sim = sim.masked_fill(~mask, 0.0)
    return (weights * sim).sum(dim=dim)


def four_similarities(
    sentence: Tensor,
    words: Tensor,
    words_mask: Tensor,
    video: Tensor,
    frames: Tensor,
    frames_mask: Tensor,
    tau: float,
    global_weight: Tensor | None = None,
    local_weight: Tensor | None = None,
) -> dict[str, Tensor]:
    """The four X-CLIP similarities of every (query, video) pair, each ``[Q, V]``.

    ``sentence [Q, d]``, ``words [Q, W, d]``, ``video [V, d]``, ``frames [V, F, d]``, all
    L2-normalised; masks True on real words / frames. Keys: ``video_sentence``, ``video_word``,
    ``sentence_frame``, ``frame_word`` (formulas in the module docstring).
    ``global_weight`` / ``local_weight`` (``[d, d]``, X-CLIP's ``global_mat_weight`` /
    ``local_mat_weight``; None = identity): ``s_VS = (s W_g) . v`` and ``M_ij = (w_j W_l) . f_i``.
    """
    wm = words_mask[:, None, :]  # [Q, 1, W]
    fm = frames_mask[None, :, :]  # [1, V, F]
    if global_weight is not None:
        vs = (sentence @ global_weight.to(sentence.dtype)) @ video.t()
    else:
        vs = sentence @ video.t()
    if local_weight is not None:
        words_l = words @ local_weight.to(words.dtype)
    else:
        words_l = words
    vw = aosm(torch.einsum("qwd,vd->qvw", words, video), wm, -1, tau)
    sf = aosm(torch.einsum("qd,vfd->qvf", sentence, frames), fm, -1, tau)
    m = torch.einsum("qwd,vfd->qvwf", words_l, frames)  # [Q, V, W, F]
    both = words_mask[:, None, :, None] & frames_mask[None, :, None, :]
    per_frame = aosm(m, both, 2, tau)  # word-level logits  [Q, V, F]
    per_word = aosm(m, both, 3, tau)  # frame-level logits [Q, V, W]
    fw = 0.5 * (aosm(per_frame, fm, -1, tau) + aosm(per_word, wm, -1, tau))
    return {"video_sentence": vs, "video_word": vw, "sentence_frame": sf, "frame_word": fw}


class TemporalEncoder(nn.Module):
    """Project snippets to ``dim``, add learned positions, Transformer, residual (seqTransf)."""

    def __init__(
        self, in_dim: int, dim: int, layers: int, heads: int, dropout: float, max_len: int
    ) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, dim)
        self.pos = PositionEmbedding(dim, max_len=max_len)
        self.encoder = TransformerEncoderLayers(dim, layers=layers, heads=heads, dropout=dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h = self.proj(x)
        return normalize(self.encoder(self.pos(h), mask) + h)


@dataclass(frozen=True)
class XCLIPConfig(ModelConfig):
    """X-CLIP's ``model_args`` (see the module docstring for the formulas)."""

    dim: int = 512
    layers: int = 4  # temporal Transformer layers (video and audio query)
    heads: int = 8
    dropout: float = 0.1
    num_snippets: int = 32  # fixed-length snippet sampling (random / uniform at eval)
    max_snippets: int | None = None  # pool longer videos first (None: no pooling)
    tau: float = 0.01  # AOSM temperature
    temperature: float = 0.01  # InfoNCE temperature
    streams: tuple[str, ...] | None = None
    text: Mapping[str, Any] | None = None  # text-encoder options
    mat_weights: bool = False  # X-CLIP's d x d similarity weights (identity init)


@register_model("xclip")
class XCLIP(RetrievalModel):
    """X-CLIP on snippet features; arguments: :class:`XCLIPConfig`."""

    config_class = XCLIPConfig

    def __init__(self, cfg: XCLIPConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.init_inputs(ctx, cfg.streams)
        self.num_snippets = int(cfg.num_snippets)
        self.max_snippets = cfg.max_snippets
        self.tau = float(cfg.tau)
        self.temperature = float(cfg.temperature)
        in_dim = sum(int(ctx.dims[s]) for s in self.streams)
        # mat_weights: X-CLIP's d x d global_mat_weight / local_mat_weight, identity-initialised
        # as in the official code (so the same scores as without them at initialisation).
        self.global_mat_weight = nn.Parameter(torch.eye(cfg.dim)) if cfg.mat_weights else None
        self.local_mat_weight = nn.Parameter(torch.eye(cfg.dim)) if cfg.mat_weights else None
        self.video_encoder = TemporalEncoder(
            in_dim, cfg.dim, cfg.layers, cfg.heads, cfg.dropout, self.num_snippets
        )
        query_size = self.init_query(ctx, cfg.text)
        if self.query_modality == TEXT:
            self.text_proj = nn.Linear(query_size, cfg.dim)
        else:
            self.audio_encoder = TemporalEncoder(
                query_size, cfg.dim, cfg.layers, cfg.heads, cfg.dropout, self.num_snippets
            )

    def loader_options(self) -> dict:
        """Fixed-length snippet sampling (random in training, uniform at evaluation)."""
        opts: dict[str, Any] = {"sample": "random", "n": self.num_snippets}
        if self.max_snippets is not None:
            opts["max_snippets"] = int(self.max_snippets)
        return opts

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        x, mask = joined_streams(batch, self.streams)
        frames = self.video_encoder(x, mask)
        video = normalize(masked_mean(frames, mask))
        return {"video": video, "frames": frames, "frames_mask": mask}

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        if self.query_modality == TEXT:
            tokens, mask, cls = text_tokens(self.text_encoder, batch)
            words = normalize(self.text_proj(tokens))
            sentence = normalize(self.text_proj(cls))
        else:
            x, mask = audio_tokens(batch)
            words = self.audio_encoder(x, mask)
            sentence = normalize(masked_mean(words, mask))
        return {"sentence": sentence, "words": words, "words_mask": mask}

    def similarity(self, query: dict, gallery: dict) -> Tensor:
        """``[Nq, Nv]`` mean of the four similarities, computed in blocks of videos so the
        frame-word tensor stays under :data:`BLOCK_ELEMENTS` elements."""
        nq, w = query["words"].shape[:2]
        nv, f = gallery["frames"].shape[:2]
        step = max(1, BLOCK_ELEMENTS // max(1, nq * w * f))
        blocks = []
        for start in range(0, nv, step):
            sl = slice(start, start + step)
            parts = four_similarities(
                query["sentence"],
                query["words"],
                query["words_mask"],
                gallery["video"][sl],
                gallery["frames"][sl],
                gallery["frames_mask"][sl],
                self.tau,
                self.global_mat_weight,
                self.local_mat_weight,
            )
            blocks.append(sum(parts.values()) / len(parts))
        return torch.cat(blocks, dim=1)

    def forward(self, batch: dict) -> dict[str, Tensor]:
        sim = self.similarity(self.encode_query(batch), self.encode_gallery(batch))
        loss = symmetric_infonce(sim, self.temperature, same_video(batch, sim.device))
        return {"loss": loss, "infonce": loss.detach()}
