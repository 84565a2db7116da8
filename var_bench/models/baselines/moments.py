"""Moment baselines: ranked (video, start_s, end_s, score) predictions, the input of the moment
tasks (``docs/moments.md``).

* :func:`random_moments`: chance: per query, ``k`` uniformly drawn videos and spans (seeded);
* :func:`whole_video_moments`: the top ``k`` videos of any video-level scores, each predicted
  whole (``[0, duration]``): video retrieval with no localisation;
* the window similarity ``var-bench search`` uses, as a named baseline:
  :func:`var_bench.search.moments.window_moments` (beside the windows it slides);
* :class:`MomentHead` + :func:`best_spans`: XML's moment head as in TVR's code (Lei et al.,
  ECCV 2020): the query-clip similarity ``s_t = q . c_t`` of projected query and clip features
  goes through two 1-D convolutions (kernel 5, XML's ``ConvSE``) giving start and end logits over
  the clips; trained with cross-entropy on the gold start and end clips (:func:`span_loss`); spans
  ``[a, b]`` with ``a <= b < a + max_len`` score ``P_st(a) P_ed(b)`` (TVR's ``get_st_ed_prob``),
  times the video's score in the corpus task.

The head with XML's video score (:meth:`MomentHead.scores`) is trained and run on a benchmark's
feature store by ``var-bench moments train`` / ``predict`` (``training.moments``); XML's
retrieval-only branch with its transformer encoders is ``models.baselines.xml_baseline``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

#: Predictions per query (the moment tasks' cap).
K = 100


def entries(query_ids: Sequence[str], rows: Sequence[list]) -> list[dict]:
    """Submission entries ``{query_id, predictions}`` (the moment tasks' shape)."""
    return [{"query_id": q, "predictions": p} for q, p in zip(query_ids, rows)]


def write_moments(path, found: Sequence[dict], header: dict) -> None:
    """Write submission entries as JSON Lines after a ``header`` line (``benchmark``, ``task``,
    ``split``, ``name``), atomically."""
    import json

    from var_bench.fsutil import atomic_write_text

    lines = [json.dumps(header)] + [json.dumps(e) for e in found]
    atomic_write_text(path, "\n".join(lines) + "\n")


def random_moments(
    query_ids: Sequence[str],
    video_ids: Sequence[str],
    durations: np.ndarray,
    *,
    k: int = K,
    seed: int = 0,
) -> list[dict]:
    """Per query ``k`` random (video, span) predictions: a video uniformly, then start and end
    uniformly within its duration (sorted), scores uniform in [0, 1)."""
    r = np.random.default_rng(seed)
    rows = []
    for _ in query_ids:
        v = r.integers(len(video_ids), size=k)
        ab = np.sort(r.uniform(0, 1, (k, 2)), axis=1) * np.asarray(durations)[v, None]
        sc = r.uniform(0, 1, k)
        rows.append(
            [[video_ids[j], float(a), float(b), float(s)] for j, (a, b), s in zip(v, ab, sc)]
        )
    return entries(query_ids, rows)


def whole_video_moments(
    query_ids: Sequence[str],
    video_ids: Sequence[str],
    durations: np.ndarray,
    video_scores: np.ndarray,
    *,
    k: int = K,
) -> list[dict]:
    """Per query the top ``k`` videos of ``video_scores`` ``[Q, V]``, each as ``[0, duration]``."""
    top = np.argsort(-video_scores, axis=1, kind="stable")[:, :k]
    return entries(
        query_ids,
        [
            [[video_ids[j], 0.0, float(durations[j]), float(video_scores[i, j])] for j in row]
            for i, row in enumerate(top)
        ],
    )


class MomentHead(nn.Module):
    """XML's moment head (TVR's ``ConvSE`` over the query-clip similarity).

    ``forward(query [B, Dq], clips [B, L, Dc], mask [B, L])`` -> start and end logits ``[B, L]``
    (-inf on padding): ``s_t = (W_q q) . (W_c c_t)``, then ``conv_st(s)``, ``conv_ed(s)``.
    """

    def __init__(self, query_dim: int, clip_dim: int, hidden: int = 64, kernel: int = 5) -> None:
        super().__init__()
        self.query = nn.Linear(query_dim, hidden)
        self.clip = nn.Linear(clip_dim, hidden)
        self.st = nn.Conv1d(1, 1, kernel, padding=kernel // 2)
        self.ed = nn.Conv1d(1, 1, kernel, padding=kernel // 2)

    def scores(self, query: Tensor, clips: Tensor, mask: Tensor) -> Tensor:
        """XML's video score ``[Q, V]``: ``max_t cos(W_q q, W_c c_t)`` over each video's real
        clips (``query [Q, Dq]``, ``clips [V, L, Dc]``, ``mask [V, L]``); -1 for a video with no
        clip."""
        return self.projected_scores(self.query(query), self.clip(clips), mask)

    def forward(self, query: Tensor, clips: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        return self.spans(self.query(query), self.clip(clips), mask)

    @staticmethod
    def projected_scores(q: Tensor, c: Tensor, mask: Tensor) -> Tensor:
        """:meth:`scores` from projected queries ``W_q q`` and clips ``W_c c`` (projected once
        for a whole gallery)."""
        q, c = nn.functional.normalize(q, dim=-1), nn.functional.normalize(c, dim=-1)
        cos = torch.einsum("qd,vld->qvl", q, c)
        return cos.masked_fill(~mask[None], -1.0).max(dim=-1).values

    def spans(self, q: Tensor, c: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Start and end logits ``[B, L]`` from projected query ``[B, H]`` and clips
        ``[B, L, H]`` pairs (:meth:`forward` after the projections)."""
        sim = torch.einsum("bd,bld->bl", q, c)[:, None]
        st, ed = self.st(sim)[:, 0], self.ed(sim)[:, 0]
        return st.masked_fill(~mask, -torch.inf), ed.masked_fill(~mask, -torch.inf)


def span_loss(st: Tensor, ed: Tensor, start: Tensor, end: Tensor) -> Tensor:
    """Cross-entropy of the gold start and end clips (TVR: the sum of the two)."""
    return nn.functional.cross_entropy(st, start) + nn.functional.cross_entropy(ed, end)


def best_spans(
    st: np.ndarray,
    ed: np.ndarray,
    *,
    max_len: int,
    k: int,
    weight: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best spans over all rows of start/end probabilities ``[N, L]`` (N videos of one
    query): score ``weight[n] * st[n, a] * ed[n, b]`` for ``a <= b < min(a + max_len,
    lengths[n])``; returns (row, a, b, score), best first (stable order on ties)."""
    n, length = st.shape
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    lens = np.full(n, length) if lengths is None else np.asarray(lengths)
    a, b = np.meshgrid(np.arange(length), np.arange(length), indexing="ij")
    band = (b >= a) & (b < a + max_len)
    ok = band[None] & (b[None] < lens[:, None, None])
    prod = w[:, None, None] * st[:, :, None] * ed[:, None, :]
    flat = np.where(ok, prod, -1.0).reshape(-1)
    k = min(k, int(ok.sum()))
    if 0 < k < flat.size:  # every span tied with the k-th too, so ties keep their order
        part = np.flatnonzero(flat >= -np.partition(-flat, k - 1)[k - 1])
    else:
        part = np.arange(flat.size)
    top = part[np.lexsort((part, -flat[part]))][:k]  # best first, ties by position
    row, rest = np.divmod(top, length * length)
    return row, rest // length, rest % length, flat[top]
