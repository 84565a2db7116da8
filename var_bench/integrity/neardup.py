"""Near-duplicate videos across splits in feature space.

Each video is one vector: its stored stream features mean-pooled over snippets (and crops, for a
``[T, C, D]`` store), then L2-normalised. A test video and a training (train or val) video are a
**near-duplicate pair** when the cosine similarity of their vectors is at least the threshold
(default :data:`NEAR_VIDEO_COSINE`). Mean-pooled I3D / VGGish vectors of unrelated videos of one
dataset are already similar (the features are non-negative), so the threshold is high; the pairs
it finds are candidates to look at, not proof.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.features.arrowview import ColumnView, list_depth
from var_bench.features.manifest import FeatureManifest
from var_bench.features.store import read_split

#: Cosine similarity at or above which two mean-pooled videos are a near-duplicate pair.
NEAR_VIDEO_COSINE = 0.98


@dataclass(frozen=True)
class NearVideos:
    """Near-duplicate pairs between ``split`` and the training splits in one stream.

    ``pairs``: ``(test video, training split, training video, cosine)``, most similar first (at
    most ``top``); ``videos_with_pair``: test videos with at least one pair; ``count``: all pairs.
    """

    stream: str
    threshold: float
    split: str
    videos: int
    videos_with_pair: int
    count: int
    pairs: tuple[tuple[str, str, str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "threshold": self.threshold,
            "split": self.split,
            "videos": self.videos,
            "videos_with_pair": self.videos_with_pair,
            "pairs": self.count,
            "top_pairs": [
                {"video": a, "training_split": s, "training_video": b, "cosine": round(c, 6)}
                for a, s, b, c in self.pairs
            ],
        }


def pooled(rows: Sequence[np.ndarray]) -> np.ndarray:
    """One L2-normalised vector per video: the mean over every axis but the last.

    Example:
        >>> v = pooled([np.array([[3.0, 0.0], [5.0, 0.0]]), np.array([[0.0, 2.0]])])
        >>> v.tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    out = np.stack([np.asarray(r, dtype=np.float64).reshape(-1, r.shape[-1]).mean(0) for r in rows])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def near_pairs(
    test: tuple[Sequence[str], np.ndarray],
    training: Mapping[str, tuple[Sequence[str], np.ndarray]],
    threshold: float = NEAR_VIDEO_COSINE,
    top: int = 20,
) -> tuple[int, int, list[tuple[str, str, str, float]]]:
    """Pairs (test video, training split, training video, cosine) with cosine >= ``threshold``
    over L2-normalised vectors.

    Returns:
        ``(test videos with a pair, number of pairs, the ``top`` most similar pairs)``.

    Example:
        >>> t = (["q"], np.array([[1.0, 0.0]]))
        >>> tr = {"train": (["a", "b"], np.array([[1.0, 0.0], [0.0, 1.0]]))}
        >>> near_pairs(t, tr, 0.9)
        (1, 1, [('q', 'train', 'a', 1.0)])
    """
    ids, vecs = test
    hit = np.zeros(len(ids), dtype=bool)
    found: list[tuple[str, str, str, float]] = []
    count = 0
    for split, (tids, tvecs) in training.items():
        if not len(tids) or not len(ids):
            continue
        sim = vecs @ tvecs.T
        ii, jj = np.nonzero(sim >= threshold)
        count += len(ii)
        hit[ii] = True
        found += [(ids[i], split, tids[j], float(sim[i, j])) for i, j in zip(ii, jj)]
    found.sort(key=lambda p: (-p[3], p[0], p[2]))
    return int(hit.sum()), count, found[:top]


def store_vectors(store: Path, split: str, stream: str) -> tuple[list[str], np.ndarray]:
    """The pooled vectors (:func:`pooled`) of every video of ``split`` in a feature store."""
    table = read_split(store, split, ["video_id", stream])
    view = ColumnView(table[stream], list_depth(table.schema.field(stream).type), stream)
    ids = [str(v) for v in table["video_id"].to_pylist()]
    rows = [view[i] for i in range(len(view))]
    keep = [i for i, r in enumerate(rows) if r is not None and r.size]
    if not keep:
        return [], np.zeros((0, 1))
    return [ids[i] for i in keep], pooled([rows[i] for i in keep])


def near_duplicate_videos(
    store: str | Path,
    *,
    stream: str | None = None,
    split: str = "test",
    threshold: float = NEAR_VIDEO_COSINE,
    top: int = 20,
) -> NearVideos:
    """Near-duplicate videos between ``split`` and train/val of a feature store.

    Args:
        store: the feature store's folder (``var-bench build``).
        stream: the stream compared (default: the store's first).
        split, threshold, top: the split checked, the cosine threshold, how many pairs to list.

    Raises:
        InputError: no store there, or a stream it does not hold.
    """
    store = Path(store)
    m = FeatureManifest.read(store)
    if m is None:
        raise InputError(
            f"--features {store}: expected a feature store (manifest.json), found none"
        )
    stream = stream or m.streams[0]
    if stream not in m.streams:
        raise InputError(
            f"--stream: expected one of {', '.join(m.streams)} (the store's streams), "
            f"got {stream!r}"
        )
    test = store_vectors(store, split, stream)
    training = {s: store_vectors(store, s, stream) for s in ("train", "val") if s in m.shards}
    with_pair, count, pairs = near_pairs(test, training, threshold, top)
    return NearVideos(stream, threshold, split, len(test[0]), with_pair, count, tuple(pairs))
