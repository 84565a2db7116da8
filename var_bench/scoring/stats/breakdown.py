"""Per-class and anomalous-vs-normal breakdown of a scored submission.

A group's metrics are computed on the subset of queries whose item belongs to the group (for a
paired task query i of every direction is canonical video i; otherwise each direction's queries
carry their own labels), while each query still ranks the whole test gallery: the per-query
counts of the full pass are reused, nothing is re-ranked. So R@K(group) = 100 / n_group * sum over
the group's queries of the R@K credit, and the group metrics are directly comparable with the
overall ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks import Task

#: Keys of the breakdown dict (the anomalous/normal groups sit beside the per-class table).
CLASSES, ANOMALOUS, NORMAL = "classes", "anomalous", "normal"


def group_metrics(
    task: Task,
    per_query: Mapping[str, Any],
    masks: Mapping[str, np.ndarray] | np.ndarray,
    rule: str | None,
) -> dict[str, Any]:
    """``{"n", "metrics": {group: {metric: value}}, "summary": {name: value}}`` over the queries
    in each group's mask (one mask: the same for every group; ``n``: the first group's count)."""
    if not isinstance(masks, Mapping):
        masks = {g: np.asarray(masks) for g in per_query}
    metrics = {g: task.summarise(task.subset(q, masks[g]), rule) for g, q in per_query.items()}
    first = next(iter(masks.values()))
    return {"n": int(np.count_nonzero(first)), "metrics": metrics, "summary": task.summary(metrics)}


def _labels(metadata: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        labels = np.asarray(metadata["class"]).astype(str)
        anomalous = np.asarray(metadata["anomalous"]).astype(bool)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise InputError(
            f"metadata: expected columns 'class' and 'anomalous', got an unusable table "
            f"({type(e).__name__}: {e})"
        ) from None
    if len(labels) != n or len(anomalous) != n:
        raise InputError(f"metadata: expected one row per query ({n}), got {len(labels)} rows")
    return labels, anomalous


def by_class(
    task: Task,
    per_query: Mapping[str, Any],
    metadata: Any | Mapping[str, Any],
    rule: str | None,
    *,
    classes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Metrics per class and for anomalous / normal items.

    Args:
        task: the task the counts are of.
        per_query: group -> per-query counts.
        metadata: a table (pandas DataFrame or mapping of columns) with the columns ``class``
            (str) and ``anomalous`` (bool), one row per query in canonical order; or, when the
            groups' queries differ, a mapping group -> such a table.
        rule: the rule the metrics are computed under.
        classes: the order of the per-class entries (default: order of first appearance);
            classes with no query are left out, as is an empty anomalous or normal group (None).

    Returns:
        ``{"classes": {class: group}, "anomalous": group, "normal": group}`` where each group is
        ``{"n", "metrics": {direction: {metric: value}}, "summary": {name: value}}``.

    Raises:
        InputError: a table without the columns, or of another length than the queries.
    """
    per_group = isinstance(metadata, Mapping) and set(metadata) == set(per_query)
    tables = {g: (metadata[g] if per_group else metadata) for g in per_query}
    sizes = {g: task.query_count(q) for g, q in per_query.items()}
    if not per_group and len(set(sizes.values())) != 1:
        raise InputError(
            f"metadata: expected one row per query "
            f"({', '.join(map(str, sorted(set(sizes.values()))))})"
        )
    labelled = {g: _labels(tables[g], sizes[g]) for g in per_query}
    present = list(dict.fromkeys(c for lab, _ in labelled.values() for c in lab.tolist()))
    order = [c for c in (classes or ()) if c in present] + [
        c for c in present if c not in (classes or ())
    ]
    groups = {
        c: group_metrics(task, per_query, {g: lab == c for g, (lab, _) in labelled.items()}, rule)
        for c in order
    }
    anom = {g: a for g, (_, a) in labelled.items()}
    return {
        CLASSES: groups,
        ANOMALOUS: (
            group_metrics(task, per_query, anom, rule)
            if all(a.any() for a in anom.values())
            else None
        ),
        NORMAL: (
            group_metrics(task, per_query, {g: ~a for g, a in anom.items()}, rule)
            if not any(a.all() for a in anom.values())
            else None
        ),
    }
