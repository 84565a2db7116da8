"""Window similarity as a moment baseline: the segments ``var-bench search`` returns, as ranked
(video, start_s, end_s, score) predictions for the moment tasks (``docs/moments.md``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from var_bench.errors import InputError
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


def index_moments(index, split: str = "test", *, top: int = K, home=None) -> list[dict]:
    """Every query of the indexed benchmark's ``split`` answered by ``index`` (a
    :class:`~var_bench.search.Index` of that split's videos) as moment submission entries, the
    top ``top`` videos each with its best window (:meth:`~var_bench.search.Index.moments`).

    Raises:
        InputError: a benchmark whose queries are not sentences over its videos, more than
            ``K`` predictions, or an index that does not hold exactly the split's videos.

    Example:
        >>> entries = index_moments(Index.load("uca-index"), "test")  # doctest: +SKIP
        >>> entries[0]["predictions"][0]  # doctest: +SKIP
        ['Abuse037_x264', 12.8, 25.6, 0.41]
    """
    from var_bench.benchmarks import get_benchmark
    from var_bench.data.prepare import load_table

    spec = get_benchmark(index.info.benchmark)
    if not any(c.name == "query_id" for c in spec.columns) or spec.query_modality != "text":
        raise InputError(
            f"--moments: expected an index of a benchmark of sentences over its videos (uca), "
            f"got one of {spec.name}"
        )
    if not 1 <= top <= K:
        raise InputError(f"--top: expected 1 to {K} predictions per query, got {top}")
    table = load_table(spec.name, split, home=home, download=False)
    videos = load_table(spec.name, split, home=home, download=False, videos=True)
    want, have = set(videos["video_id"]), set(index.info.videos)
    if want != have:
        raise InputError(
            f"--moments: expected an index of the {len(want)} {spec.name} {split} videos, got "
            f"{len(have)} videos ({len(have - want)} not in the split, {len(want - have)} of it "
            f"missing)"
        )
    rows = index.moments(table[spec.text_column].tolist(), top=top)
    return entries(table["query_id"].tolist(), rows)
