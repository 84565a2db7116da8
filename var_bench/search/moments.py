"""Window similarity as a moment baseline: the segments ``var-bench search`` returns, as ranked
(video, start_s, end_s, score) predictions for the moment tasks (``docs/moments.md``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from var_bench.models.baselines.moments import K, entries
from var_bench.search.segments import windows


def window_moments(
    query_ids: Sequence[str],
    video_ids: Sequence[str],
    snippet_sim: Sequence[np.ndarray],
    snippet_seconds: float | Sequence[float],
    *,
    k: int = K,
    width: int | None = None,
) -> list[dict]:
    """The top ``k`` snippet windows of the corpus per query.

    Args:
        snippet_sim: per video, ``[Q, T_v]`` query-snippet similarities (any model's).
        snippet_seconds: seconds per snippet (one number, or one per video).
        width: window width in snippets (default ``search.segments.default_width(T_v)``).
    """
    secs = np.broadcast_to(np.asarray(snippet_seconds, dtype=np.float64), (len(video_ids),))
    cand_v, cand_a, cand_b, cand_s = [], [], [], []
    for j, sim in enumerate(snippet_sim):
        sim = np.asarray(sim, dtype=np.float64)
        csum = np.concatenate([np.zeros((sim.shape[0], 1)), np.cumsum(sim, axis=1)], axis=1)
        for a, b in windows(sim.shape[1], width):
            cand_v.append(j)
            cand_a.append(a * secs[j])
            cand_b.append(b * secs[j])
            cand_s.append((csum[:, b] - csum[:, a]) / (b - a))
    scores = np.stack(cand_s, axis=1)  # [Q, windows]
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return entries(
        query_ids,
        [
            [
                [video_ids[cand_v[c]], float(cand_a[c]), float(cand_b[c]), float(scores[i, c])]
                for c in row
            ]
            for i, row in enumerate(top)
        ],
    )
