"""The moment kernel: temporal IoU and the per-query counts of ranked (video, start, end, score)
predictions, in a few vectorised passes (no per-query Python loop).

Predictions arrive padded: arrays of shape (Q, P) (``video`` the gallery index, -1 = padding;
``start``, ``end`` in seconds; ``score``), the gold as (Q, G) arrays (``gold_video``, -1 =
padding; ``gold_start``, ``gold_end``: one row per gold segment, several per query allowed).

* tIoU of [s1, e1] and [s2, e2]: i / (|e1 - s1| + |e2 - s2| - i), i = max(0, min(e1, e2) -
  max(s1, s2)); when both are zero-length (union 0) it is 1 for the same point, else 0.
  Times are scored as submitted (a prediction past the duration is not clipped).
* A prediction *hits* at threshold m when its video is a gold video and its tIoU with one of
  that video's gold segments is >= m (several gold segments: the best-overlapping one counts).
* Counts, per query, from which R@K under every tie rule follows exactly (:func:`credit`): b
  misses scoring strictly above the best hit, e misses tied with it, t hits tied with it (t >= 1;
  0 when nothing hits):

  - the gold video's rank (corpus task): a video scores the best score of its predictions; d =
    the best gold video's score; b = other videos listed above d, e = other videos tied with d,
    t = gold videos at d. A gold video missing from the list scores -inf: every listed video is
    above it and the unlisted ones tie with it (e = gallery - gold videos - listed);
  - the first hit at threshold m: h = the best score of a hit; b = misses above h, e = misses
    tied with h, t = hits at h; no hit: b = :data:`MISS` (never within any K <= 100), e = t = 0.
* R@K credit of one query: ``optimistic`` [b < K]; ``pessimistic`` [b + e < K]; ``expected``
  (the official rule) the chance that a uniformly random order of the tied block puts a hit in
  the top K: with j = clip(K - b, 0, e + t) places of the block inside the top K, 1 - C(e, j) /
  C(e + t, j) (no hit among the block's first j).
"""

from __future__ import annotations

import numpy as np

#: Predictions allowed per query (TVR's cap).
MAX_PREDICTIONS = 100
#: b of a query no prediction hits: past every K a metric may ask for.
MISS = MAX_PREDICTIONS


def tiou(s1: np.ndarray, e1: np.ndarray, s2: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """Elementwise temporal IoU (broadcasting), as defined in the module docstring.

    >>> tiou(np.array([0.0, 0.0, 2.0]), np.array([2.0, 1.0, 2.0]),
    ...      np.array([1.0, 2.0, 2.0]), np.array([3.0, 3.0, 2.0])).round(4).tolist()
    [0.3333, 0.0, 1.0]
    """
    s1, e1, s2, e2 = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (s1, e1, s2, e2)))
    inter = np.maximum(0.0, np.minimum(e1, e2) - np.maximum(s1, s2))
    union = (e1 - s1) + (e2 - s2) - inter
    same = (s1 == s2) & (e1 == e2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), same.astype(float))


def best_iou(
    video: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    gold_video: np.ndarray,
    gold_start: np.ndarray,
    gold_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per prediction (Q, P): whether its video is a gold video, and its best tIoU over that
    video's gold segments (0 elsewhere)."""
    same = (video[:, :, None] == gold_video[:, None, :]) & (gold_video[:, None, :] >= 0)
    iou = tiou(start[:, :, None], end[:, :, None], gold_start[:, None, :], gold_end[:, None, :])
    iou = np.where(same, iou, -1.0).max(axis=2)
    on_gold = same.any(axis=2)
    return on_gold, np.where(on_gold, iou, 0.0)


#: The tie rules, the official one first.
RULES: tuple[str, ...] = ("expected", "optimistic", "pessimistic")


def credit(b: np.ndarray, e: np.ndarray, t: np.ndarray, k: int, rule: str) -> np.ndarray:
    """Per-query R@K credit in [0, 1] from (b, e, t) under ``rule`` (module docstring).

    >>> credit(np.array([0, 3, MISS]), np.array([1, 3, 0]), np.array([2, 1, 0]), 1,
    ...        "expected").round(4).tolist()
    [0.6667, 0.0, 0.0]
    """
    b, e, t = (np.asarray(a, dtype=np.int64) for a in (b, e, t))
    if rule == "optimistic":
        return ((b < k) & (t > 0)).astype(np.float64)
    if rule == "pessimistic":
        return ((b + e < k) & (t > 0)).astype(np.float64)
    j = np.clip(k - b, 0, e + t)
    none = np.ones(b.shape)
    for i in range(k):  # C(e, j) / C(e + t, j) as a product of j <= K factors
        step = i < j
        none = np.where(step, none * (e - i).clip(0) / np.maximum(e + t - i, 1), none)
    return np.where(t > 0, 1.0 - none, 0.0)


def hit_counts(
    score: np.ndarray, valid: np.ndarray, hit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(b, e, t) of the first hit per query (module docstring); ``hit``, ``valid``: (Q, P)."""
    hit = hit & valid
    h = np.where(hit, score, -np.inf).max(axis=1, initial=-np.inf)
    other = valid & ~hit
    b = np.count_nonzero(other & (score > h[:, None]), axis=1)
    e = np.count_nonzero(other & (score == h[:, None]), axis=1)
    t = np.count_nonzero(hit & (score == h[:, None]), axis=1)
    found = hit.any(axis=1)
    return (
        np.where(found, b, MISS).astype(np.int64),
        np.where(found, e, 0).astype(np.int64),
        t.astype(np.int64),
    )


def video_counts(
    video: np.ndarray,
    score: np.ndarray,
    valid: np.ndarray,
    on_gold: np.ndarray,
    gold_videos: np.ndarray,
    gallery: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(b, e, t) of the gold video's rank among the gallery's videos, per query (module docstring).

    ``gold_videos``: per query, how many distinct gold videos it has; ``gallery``: videos in the
    gallery.
    """
    q_n = video.shape[0]
    d = np.where(on_gold & valid, score, -np.inf).max(axis=1, initial=-np.inf)
    # one representative per (query, video): its best prediction (rows sorted by video, then
    # score descending)
    order = np.lexsort((-score, video), axis=1)
    v = np.take_along_axis(video, order, axis=1)
    s = np.take_along_axis(score, order, axis=1)
    ok = np.take_along_axis(valid, order, axis=1)
    gold = np.take_along_axis(on_gold, order, axis=1)
    rep = ok & np.concatenate([np.ones((q_n, 1), bool), v[:, 1:] != v[:, :-1]], axis=1)
    other = rep & ~gold
    dd = d[:, None]
    b = np.count_nonzero(other & (s > dd), axis=1)
    e = np.count_nonzero(other & (s == dd), axis=1)
    t = np.count_nonzero(rep & gold & (s == dd), axis=1)
    missing = ~np.isfinite(d)
    listed = np.count_nonzero(other, axis=1)
    b = np.where(missing, listed, b)
    e = np.where(missing, gallery - gold_videos - listed, e)
    t = np.where(missing, gold_videos, t)
    return b.astype(np.int64), e.astype(np.int64), t.astype(np.int64)


def top_iou(score: np.ndarray, valid: np.ndarray, iou: np.ndarray) -> dict[str, np.ndarray]:
    """The tIoU of the top-scored prediction per query under each tie rule: over the predictions
    tied at the top, their mean (``expected``), best (``optimistic``) and worst
    (``pessimistic``); 0 for a query without predictions."""
    top = valid & (score == np.where(valid, score, -np.inf).max(axis=1, initial=-np.inf)[:, None])
    n = top.sum(axis=1)
    some = n > 0
    mean = np.where(some, np.where(top, iou, 0.0).sum(axis=1) / np.maximum(n, 1), 0.0)
    best = np.where(some, np.where(top, iou, -np.inf).max(axis=1, initial=-np.inf), 0.0)
    worst = np.where(some, np.where(top, iou, np.inf).min(axis=1, initial=np.inf), 0.0)
    return {"expected": mean, "optimistic": best, "pessimistic": worst}
