"""Frame-level anomaly detection metrics (the VAD literature's AUC and AP).

Detectors score snippets (16 frames each); the literature (RTFM, UR-DMU) repeats each snippet's
score over its frames, concatenates the frames of all test videos and computes one ROC-AUC and one
average precision over that long vector. All values here are fractions in [0, 1] (papers print
them in percent).

* ROC-AUC, Mann-Whitney form with ties counted half: with P positive and N negative frames,
  AUC = (1 / (P N)) * sum over (positive p, negative q) of ([s_p > s_q] + 0.5 [s_p = s_q]).
* Average precision, step-wise (as sklearn's ``average_precision_score``): thresholds at the
  distinct scores in decreasing order, AP = sum_k (R_k - R_{k-1}) P_k with precision P_k and
  recall R_k of "score >= threshold k" and R_0 = 0 (no interpolation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from var_bench.errors import InputError
from var_bench.benchmarks import DEFAULT_SNIPPET_FRAMES as SNIPPET_FRAMES


def _scores_1d(scores: Any, what: str) -> np.ndarray:
    a = np.asarray(scores)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise InputError(f"{what}: expected numeric scores, got dtype {a.dtype}")
    a = a.astype(np.float64).reshape(-1) if a.ndim <= 1 else None
    if a is None:
        raise InputError(f"{what}: expected a 1-D array of scores, got shape {np.shape(scores)}")
    if not np.isfinite(a).all():
        raise InputError(f"{what}: expected finite scores, got NaN or Inf")
    return a


def _scores_and_labels(scores: Any, labels: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    s = _scores_1d(scores, what)
    y = np.asarray(labels).reshape(-1) if np.ndim(labels) <= 1 else None
    if y is None or y.shape != s.shape:
        raise InputError(f"{what}: expected {s.shape[0]} labels (one per score), got shape "
                         f"{np.shape(labels)}")
    if not np.isin(y, (0, 1)).all():
        raise InputError(f"{what}: expected labels 0 (normal) or 1 (anomalous), got other values")
    return s, y.astype(bool)


def snippet_scores_to_frames(scores: Any, snippet_frames: int = SNIPPET_FRAMES,
                             num_frames: int | None = None) -> np.ndarray:
    """Frame scores from snippet scores: snippet i's score covers frames [i F, (i + 1) F).

    ``num_frames``: crop to that many frames, or extend with the last snippet's score when the
    video has more frames than T F (the features drop a last partial snippet). float64 [frames].

    >>> snippet_scores_to_frames([0.1, 0.9], snippet_frames=2, num_frames=5).tolist()
    [0.1, 0.1, 0.9, 0.9, 0.9]
    """
    s = _scores_1d(scores, "snippet_scores_to_frames")
    if int(snippet_frames) != snippet_frames or snippet_frames < 1:
        raise InputError(f"snippet_frames: expected a positive integer, got {snippet_frames!r}")
    if s.size == 0:
        raise InputError("snippet_scores_to_frames: expected at least one snippet score, got none")
    frames = np.repeat(s, int(snippet_frames))
    if num_frames is None:
        return frames
    if int(num_frames) != num_frames or num_frames < 1:
        raise InputError(f"num_frames: expected a positive integer, got {num_frames!r}")
    if num_frames <= frames.size:
        return frames[: int(num_frames)]
    return np.concatenate([frames, np.full(int(num_frames) - frames.size, s[-1])])


def frame_labels(segments: Sequence[Sequence[int]] | None, num_frames: int) -> np.ndarray:
    """0/1 int8 frame labels [num_frames]: 1 inside any half-open segment [start, end).

    Segment ends beyond the video are clipped. ``segments`` None (no temporal annotation, as on
    train/val) is refused: such videos cannot be scored per frame.

    >>> frame_labels([[1, 3]], 5).tolist()
    [0, 1, 1, 0, 0]
    """
    if segments is None:
        raise InputError("frame_labels: expected temporal segments [[start, end], ...], got null "
                         "(only the test split is annotated)")
    if int(num_frames) != num_frames or num_frames < 0:
        raise InputError(f"num_frames: expected a non-negative integer, got {num_frames!r}")
    out = np.zeros(int(num_frames), np.int8)
    for seg in segments:
        if len(seg) != 2:
            raise InputError(f"frame_labels: expected [start, end] pairs, got {list(seg)!r}")
        start, end = max(int(seg[0]), 0), min(int(seg[1]), int(num_frames))
        if start < end:
            out[start:end] = 1
    return out


def frame_auc(scores: Any, labels: Any) -> float:
    """ROC-AUC = P(s_pos > s_neg) + 0.5 P(s_pos = s_neg) over all positive-negative pairs.

    Computed from counts per distinct score (no pair loop): for each distinct value v with p_v
    positives and q_v negatives, the positives at v beat the negatives below v and tie with q_v.

    >>> frame_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    >>> frame_auc([0.5, 0.5], [0, 1])
    0.5
    """
    s, y = _scores_and_labels(scores, labels, "frame_auc")
    P, N = int(y.sum()), int((~y).sum())
    if P == 0 or N == 0:
        raise InputError(f"frame_auc: expected both anomalous and normal frames, got {P} "
                         f"anomalous and {N} normal")
    _, inverse = np.unique(s, return_inverse=True)
    pos = np.bincount(inverse[y], minlength=inverse.max() + 1).astype(np.float64)
    neg = np.bincount(inverse[~y], minlength=inverse.max() + 1).astype(np.float64)
    neg_below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])
    return float((pos * (neg_below + 0.5 * neg)).sum() / (P * N))


def frame_ap(scores: Any, labels: Any) -> float:
    """Average precision, step-wise: sum_k (R_k - R_{k-1}) P_k over the distinct scores
    (decreasing), as sklearn's ``average_precision_score``.

    >>> frame_ap([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.8333333333333333
    """
    s, y = _scores_and_labels(scores, labels, "frame_ap")
    P = int(y.sum())
    if P == 0:
        raise InputError("frame_ap: expected at least one anomalous frame, got none")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    # The last position of each run of equal scores: one threshold per distinct value.
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    tp = np.cumsum(y)[last].astype(np.float64)
    precision = tp / (last + 1)
    recall = tp / P
    return float((np.diff(np.r_[0.0, recall]) * precision).sum())


@dataclass(frozen=True)
class FrameMetrics:
    """Frame-level detection result over the concatenated frames of ``videos`` videos."""

    auc: float
    ap: float
    frames: int
    anomalous_frames: int
    videos: int


def _table_columns(table: Any, names: Sequence[str]) -> dict[str, list]:
    """Columns of a pandas DataFrame, pyarrow Table, datasets.Dataset or dict as Python lists."""
    if isinstance(table, Mapping):
        present = list(table.keys())
    elif hasattr(table, "column_names"):  # pyarrow Table, datasets.Dataset
        present = list(table.column_names)
    elif hasattr(table, "columns"):  # pandas DataFrame
        present = list(table.columns)
    else:
        raise InputError(f"evaluate_detector: expected a table (DataFrame, pyarrow Table, Dataset "
                         f"or dict of columns), got {type(table).__name__}")
    out = {}
    for name in (n for n in names if n in present):
        col = table[name]
        if hasattr(col, "to_pylist"):
            col = col.to_pylist()
        elif hasattr(col, "tolist"):
            col = col.tolist()
        # pandas turns missing ints into NaN: keep "unknown" as None.
        out[name] = [None if isinstance(v, float) and v != v else v for v in col]
    return out


def evaluate_detector(per_video_snippet_scores: Mapping[str, Any], table: Any,
                      snippet_frames: int = SNIPPET_FRAMES) -> FrameMetrics:
    """Frame AUC and AP of a detector over every video of ``table`` (a test split), as the VAD
    literature computes them: per video, snippet scores repeated over frames
    (:func:`snippet_scores_to_frames`) against :func:`frame_labels` of its ``segments``; all
    videos' frames concatenated in table order; one :func:`frame_auc` and :func:`frame_ap`.

    A video's frame count is the table's ``num_frames`` where known (UCFCrime-AR), else T F
    (XDViolence-AR). ``table``: the split as a DataFrame, pyarrow Table, Dataset or dict of
    columns with ``video_id`` and ``segments``. Every video needs scores; unknown ids are refused.
    """
    cols = _table_columns(table, ["video_id", "segments", "num_frames"])
    if "video_id" not in cols or "segments" not in cols:
        raise InputError("evaluate_detector: expected a table with video_id and segments columns")
    vids = cols["video_id"]
    missing = [v for v in vids if v not in per_video_snippet_scores]
    if missing:
        raise InputError(f"evaluate_detector: expected scores for all {len(vids)} videos, "
                         f"{len(missing)} missing (first: {missing[0]!r})")
    extra = set(per_video_snippet_scores) - set(vids)
    if extra:
        raise InputError(f"evaluate_detector: got scores for {len(extra)} ids not in the table "
                         f"(first: {sorted(extra)[0]!r})")
    lengths = cols.get("num_frames", [None] * len(vids))
    all_scores, all_labels = [], []
    for vid, segs, nf in zip(vids, cols["segments"], lengths):
        if segs is None:
            raise InputError(f"evaluate_detector: video {vid!r} has no temporal annotation "
                             f"(segments null); use the test split")
        snip = per_video_snippet_scores[vid]
        frames = snippet_scores_to_frames(snip, snippet_frames, None if nf is None else int(nf))
        all_scores.append(frames)
        all_labels.append(frame_labels(segs, frames.size))
    scores, labels = np.concatenate(all_scores), np.concatenate(all_labels)
    return FrameMetrics(auc=frame_auc(scores, labels), ap=frame_ap(scores, labels),
                        frames=int(scores.size), anomalous_frames=int(labels.sum()),
                        videos=len(vids))
