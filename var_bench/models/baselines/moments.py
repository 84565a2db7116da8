"""Moment baselines: ranked (video, start_s, end_s, score) predictions, the input of the moment
tasks (``docs/moments.md``).

* :func:`random_moments`: chance: per query, ``k`` uniformly drawn videos and spans (seeded);
* :func:`whole_video_moments`: the top ``k`` videos of any video-level scores, each predicted
  whole (``[0, duration]``): video retrieval with no localisation;
* the window similarity ``var-bench search`` uses, as a named baseline:
  :func:`var_bench.search.moments.window_moments` (beside the windows it slides);
* :class:`MomentHead` + :func:`span_moments`: XML's moment head as in TVR's code (Lei et al.,
  ECCV 2020): the query-clip similarity ``s_t = q . c_t`` of projected query and clip features
  goes through two 1-D convolutions (kernel 5, XML's ``ConvSE``) giving start and end logits over
  the clips; trained with cross-entropy on the gold start and end clips (:func:`span_loss`); spans
  ``[a, b]`` with ``a <= b < a + max_len`` score ``P_st(a) P_ed(b)`` (TVR's ``get_st_ed_prob``),
  times the video's score in the corpus task.

Only the head is here: XML's video-retrieval branch is ``models.baselines.xml_baseline``; training
the head inside ``var-bench train`` on UCA features is not wired (docs/moments.md).
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

    def forward(self, query: Tensor, clips: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        sim = torch.einsum("bd,bld->bl", self.query(query), self.clip(clips))[:, None]
        st, ed = self.st(sim)[:, 0], self.ed(sim)[:, 0]
        return st.masked_fill(~mask, -torch.inf), ed.masked_fill(~mask, -torch.inf)


def span_loss(st: Tensor, ed: Tensor, start: Tensor, end: Tensor) -> Tensor:
    """Cross-entropy of the gold start and end clips (TVR: the sum of the two)."""
    return nn.functional.cross_entropy(st, start) + nn.functional.cross_entropy(ed, end)


def top_spans(
    st: np.ndarray, ed: np.ndarray, *, max_len: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of start/end probabilities ``[N, L]``, the ``k`` best spans ``[a, b]`` (clips,
    inclusive) with ``a <= b < a + max_len`` by ``st[a] * ed[b]``: (a, b, score), each
    ``[N, k]``."""
    n, length = st.shape
    prod = st[:, :, None] * ed[:, None, :]  # [N, L, L]
    a, b = np.meshgrid(np.arange(length), np.arange(length), indexing="ij")
    ok = (b >= a) & (b < a + max_len)
    flat = np.where(ok[None], prod, -1.0).reshape(n, -1)
    k = min(k, int(ok.sum()))
    top = np.argsort(-flat, axis=1, kind="stable")[:, :k]
    return top // length, top % length, np.take_along_axis(flat, top, axis=1)


def span_moments(
    query_ids: Sequence[str],
    video_ids: Sequence[str],
    st_prob: np.ndarray,
    ed_prob: np.ndarray,
    clip_seconds: float,
    *,
    video_scores: np.ndarray | None = None,
    videos_per_query: int = 10,
    max_len: int = 16,
    k: int = K,
) -> list[dict]:
    """Moments from start/end probabilities ``[Q, V, L]`` (softmax over each video's clips).

    The corpus task (``video_scores`` ``[Q, V]``): the ``videos_per_query`` best videos, each
    span scored ``video_score * P_st(a) * P_ed(b)`` (TVR's VCMR score), the top ``k`` kept.
    Grounding (``video_scores`` None, one video per query, ``V = 1``): the top ``k`` spans. A
    span ``[a, b]`` of clips covers seconds ``[a * clip_seconds, (b + 1) * clip_seconds]``.
    """
    q_n, v_n, _ = st_prob.shape
    vs = np.ones((q_n, v_n)) if video_scores is None else np.asarray(video_scores)
    rows = []
    for i in range(q_n):
        cand = []
        for j in np.argsort(-vs[i], kind="stable")[:videos_per_query]:
            a, b, s = top_spans(st_prob[i, j][None], ed_prob[i, j][None], max_len=max_len, k=k)
            for x, y, z in zip(a[0], b[0], s[0]):
                cand.append((float(vs[i, j] * z), int(j), int(x), int(y)))
        cand.sort(key=lambda c: -c[0])
        rows.append(
            [
                [video_ids[j], x * clip_seconds, (y + 1) * clip_seconds, score]
                for score, j, x, y in cand[:k]
            ]
        )
    return entries(query_ids, rows)
