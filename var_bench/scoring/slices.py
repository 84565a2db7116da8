"""Slices: the figures of a record on a subset of its queries (``record.slices``).

Today's slices split the test queries by whether the query video's source (the film or upload it
was cut from, :mod:`var_bench.data.integrity`) has clips in the training splits:
``source_unseen`` (267 of XDViolence-AR's 800) and ``source_seen`` (533). A slice's figures are
the task's own (:meth:`~var_bench.tasks.base.Task.summarise` over the per-query counts of the
slice's queries), so they have the main figures' exactness, tie rules and bounds; intervals come
from the same bootstrap over the slice's queries.

A slice is stored as ``{"description", "queries": n, "index": [query positions], "metrics",
"summary", "bounds", "ci"}``: ``index`` names the queries, so a comparison can be run on the
slice from two records alone (:func:`var_bench.scoring.compare` with ``slice=``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from var_bench.benchmarks import BenchmarkSpec
from var_bench.errors import InputError, NotBuiltError
from var_bench.fsutil import sha256_lines
from var_bench.tasks import Gold, Task

SOURCE_UNSEEN = "source_unseen"
SOURCE_SEEN = "source_seen"
#: What each slice holds, as records and reports describe it.
DESCRIPTIONS = {
    SOURCE_UNSEEN: "test queries whose source (film, upload) has no clips in train or val",
    SOURCE_SEEN: "test queries whose source (film, upload) also has clips in train or val",
}
#: Short labels for tables.
LABELS = {SOURCE_UNSEEN: "unseen source", SOURCE_SEEN: "seen source"}


def source_masks(
    spec: BenchmarkSpec,
    gold: Gold,
    split: str,
    *,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
) -> dict[str, np.ndarray] | None:
    """Per slice, a boolean mask over the queries (canonical order); None when there are none:
    not the test split, a gold whose queries are not its videos, a benchmark whose names carry no
    source, or no built dataset (nothing is downloaded unless ``mirror`` is given)."""
    from var_bench.data.integrity import seen_mask
    from var_bench.data.prepare import load_integrity

    if split != "test" or not gold.is_identity:
        return None
    try:
        facts = load_integrity(spec, home=home, mirror=mirror, download_missing=mirror is not None)
    except NotBuiltError:
        return None
    seen = seen_mask(facts, split)
    if seen is None:
        return None
    ids = [c.video_id for c in facts.clips[split]]  # type: ignore[index]
    if len(ids) != gold.queries.n or sha256_lines(ids) != gold.queries.sha256:
        return None
    return {SOURCE_UNSEEN: ~seen, SOURCE_SEEN: seen}


def slice_figures(
    task: Task,
    per_query: Mapping[str, Any],
    index: np.ndarray,
    ties: str | None,
    *,
    ci: bool = False,
    replicates: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """The task's figures on the queries at ``index`` (positions, every group): metrics and
    summary under ``ties``, the bounds under the other rules, and bootstrap intervals (``ci``).

    Example:
        >>> from var_bench.benchmarks import UCFCRIME_AR
        >>> from var_bench.tasks.retrieval import RankCounts
        >>> q = RankCounts([0, 0, 3, 9], [0, 0, 0, 0])
        >>> f = slice_figures(UCFCRIME_AR.task(), {"t2v": q}, np.array([0, 2]), "expected")
        >>> f["queries"], f["metrics"]["t2v"]["R@1"], f["metrics"]["t2v"]["R@5"]
        (2, 50.0, 100.0)
    """
    sub = {g: task.subset(q, index) for g, q in per_query.items()}
    metrics = {g: task.summarise(q, ties) for g, q in sub.items()}
    bounds = {}
    for rule in task.rules:
        if rule == ties:
            continue
        m = {g: task.summarise(q, rule) for g, q in sub.items()}
        bounds[rule] = {"metrics": m, "summary": task.summary(m)}
    interval = None
    if ci:
        from var_bench.scoring.stats.bootstrap import bootstrap_ci

        interval = bootstrap_ci(task, sub, ties, replicates=replicates, seed=seed)
    return {
        "queries": int(len(index)),
        "index": [int(i) for i in index],
        "metrics": metrics,
        "summary": task.summary(metrics),
        "bounds": bounds,
        "ci": interval,
    }


def record_slices(
    task: Task,
    per_query: Mapping[str, Any],
    masks: Mapping[str, np.ndarray],
    ties: str | None,
    **kw: Any,
) -> dict[str, Any]:
    """Every non-empty slice of ``masks`` as stored in a record (:func:`slice_figures` plus its
    description)."""
    out = {}
    for name, mask in masks.items():
        index = np.flatnonzero(mask)
        if len(index):
            out[name] = {"description": DESCRIPTIONS.get(name, name)}
            out[name].update(slice_figures(task, per_query, index, ties, **kw))
    return out


def slice_index(record: Any, name: str) -> np.ndarray:
    """The query positions of slice ``name`` of a record.

    Raises:
        InputError: the record has no such slice.
    """
    slices = record.slices or {}
    if name not in slices:
        have = ", ".join(slices) or "none (score it with the built dataset present)"
        raise InputError(f"slice: expected one of the record's slices ({have}), got {name!r}")
    return np.asarray(slices[name]["index"], dtype=np.int64)
