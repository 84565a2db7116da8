"""Per-class and anomalous-vs-normal breakdown of a scored submission.

A group's metrics are computed on the subset of queries whose pair's video belongs to the group
(query i of every direction is the pair of canonical video i), while each query still ranks the
whole test gallery: the counts (b, e) of the full pass are reused, nothing is re-ranked. So
R@K(group) = 100 / n_group * sum over the group's queries of the R@K credit, and the group
metrics are directly comparable with the overall ones.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks.retrieval.counts import QueryRanks
from var_bench.tasks.retrieval.names import SUMR
from var_bench.tasks.retrieval.ranks import summarise, sum_recall

#: Keys of the breakdown dict (the anomalous/normal groups sit beside the per-class table).
CLASSES, ANOMALOUS, NORMAL = "classes", "anomalous", "normal"


def group_metrics(per_direction: Mapping[str, QueryRanks], mask: np.ndarray, ties: str) -> dict[str, Any]:
    """``{"n", "metrics": {direction: {metric: value}}, "SumR"}`` over the queries in ``mask``."""
    metrics = {d: summarise(q.subset(mask), ties) for d, q in per_direction.items()}
    return {"n": int(np.count_nonzero(mask)), "metrics": metrics, SUMR: sum_recall(metrics)}


def by_class(
    per_direction: Mapping[str, QueryRanks],
    metadata: Any,
    ties: str,
    *,
    classes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Metrics per class and for anomalous / normal videos.

    ``metadata``: a table (pandas DataFrame or mapping of columns) in canonical order with the
    columns ``class`` (str) and ``anomalous`` (bool), one row per test video. ``classes``: the
    order of the per-class entries (default: order of first appearance); classes with no test
    video are left out, as is an empty anomalous or normal group (None).

    Returns ``{"classes": {class: group}, "anomalous": group, "normal": group}`` where each group
    is ``{"n", "metrics": {direction: {R@1, R@5, R@10, MdR, MnR}}, "SumR"}``.
    """
    try:
        labels = np.asarray(metadata["class"]).astype(str)
        anomalous = np.asarray(metadata["anomalous"]).astype(bool)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise InputError(f"metadata: expected columns 'class' and 'anomalous', got an unusable table "
                         f"({type(e).__name__}: {e})") from None
    sizes = {len(q) for q in per_direction.values()}
    if sizes != {len(labels)} or len(anomalous) != len(labels):
        raise InputError(f"metadata: expected one row per query ({', '.join(map(str, sorted(sizes)))}), "
                         f"got {len(labels)} rows")
    present = list(dict.fromkeys(labels.tolist()))
    order = [c for c in (classes or ()) if c in present] + [c for c in present if c not in (classes or ())]
    groups = {c: group_metrics(per_direction, labels == c, ties) for c in order}
    return {
        CLASSES: groups,
        ANOMALOUS: group_metrics(per_direction, anomalous, ties) if anomalous.any() else None,
        NORMAL: group_metrics(per_direction, ~anomalous, ties) if not anomalous.all() else None,
    }
