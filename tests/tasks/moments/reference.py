"""A plain-Python reference of the moment metrics, straight from their definitions: every order
of the predictions (and of the videos) that sorts them by score is equally likely; a metric's
expected credit is its mean over those orders, the optimistic one its best, the pessimistic its
worst."""

from __future__ import annotations

from itertools import permutations


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    if union > 0:
        return inter / union
    return 1.0 if a == b else 0.0


def orders(items: list, score) -> list[tuple]:
    """Every permutation of ``items`` sorted by non-increasing score."""
    out = []
    for p in permutations(items):
        if all(score(p[i]) >= score(p[i + 1]) for i in range(len(p) - 1)):
            out.append(p)
    return out or [()]


def best(pred, gold) -> float:
    """A prediction's best tIoU over the gold segments of its video (-1: another video)."""
    vals = [iou((pred[1], pred[2]), (s, e)) for v, s, e in gold if v == pred[0]]
    return max(vals) if vals else -1.0


def rules(values: list[float]) -> dict[str, float]:
    return {
        "expected": sum(values) / len(values),
        "optimistic": max(values),
        "pessimistic": min(values),
    }


def moment_recall(preds, gold, k: int, m: float) -> dict[str, float]:
    """Credit of one query: a top-k prediction on a gold video with tIoU >= m."""
    return rules(
        [float(any(best(p, gold) >= m for p in o[:k])) for o in orders(preds, lambda p: p[3])]
    )


def video_recall(preds, gold, gallery: int, k: int) -> dict[str, float]:
    """Credit of one query: a gold video among the top k videos (a video scores its best
    prediction; unlisted videos score -inf)."""
    score = {v: float("-inf") for v in range(gallery)}
    for v, _, _, s in preds:
        score[v] = max(score[v], s)
    golds = {v for v, _, _ in gold}
    return rules(
        [float(any(v in golds for v in o[:k])) for o in orders(list(range(gallery)), score.get)]
    )


def top_iou(preds, gold) -> dict[str, float]:
    """The tIoU of the first prediction (0 without predictions)."""
    return rules([max(best(o[0], gold), 0.0) if o else 0.0 for o in orders(preds, lambda p: p[3])])
