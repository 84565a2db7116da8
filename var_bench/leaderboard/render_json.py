"""The leaderboard as JSON: every entry with all of its fields, for machines.

Strings are JSON-escaped by :func:`json.dumps` (``ensure_ascii=False``; no raw control
characters survive, every user string is one line); ``tier`` (1 = top) is on every entry and
``comparisons`` names the method of every pairwise tier test.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from var_bench._version import __version__
from var_bench.leaderboard.board import Leaderboard
from var_bench.leaderboard.entries import Entry
from var_bench.leaderboard.tiers import LEVEL, PAIRED, REPLICATES, WILSON, method_text
from var_bench.tasks import Task

SCHEMA = 2


def entry_dict(entry: Entry, task: Task) -> dict[str, Any]:
    """All fields of ``entry``; ``per_query`` as the task's lists per group (retrieval:
    ``{direction: {"higher": [..], "tied": [..]}}``)."""
    per_query = None
    if entry.per_query is not None:
        per_query = {d: task.per_query_to_json(q) for d, q in entry.per_query.items()}
    return {
        "rank": entry.rank,
        "tier": entry.tier,
        "method": entry.method,
        "kind": entry.kind,
        "source_kind": entry.source_kind,
        "feature_set": entry.feature_set,
        "feature_origin": entry.feature_origin,
        "features_digest": entry.features_digest,
        "training_data": entry.training_data,
        "synthetic": entry.synthetic,
        "metrics": {d: dict(v) for d, v in entry.metrics.items()},
        "summary": dict(entry.summary),
        "score": entry.score,
        "ci": entry.ci,
        "flags": list(entry.flags),
        "warnings": list(entry.warnings),
        "disclosure": dict(entry.disclosure),
        "source": entry.source,
        "text_features": entry.text_features,
        "reference_model": entry.reference_model,
        # A declared claim that a user entry reran this row's reference model, not a verification.
        "reproduced": (
            None
            if entry.reproduced is None
            else {
                "method": entry.reproduced.method,
                "score": entry.reproduced.score,
                "source": entry.reproduced.source,
                "date": entry.reproduced.date,
                "declared": True,
            }
        ),
        "checks": list(entry.checks),
        "verification_notes": list(entry.notes),
        "duplicates": list(entry.duplicates),
        "submission_sha256": entry.submission_sha256,
        "submitted_ties": entry.submitted_ties,
        "rescored_from": entry.rescored_from,
        "versions": dict(entry.versions),
        "date": entry.date,
        "ids_sha256": entry.ids_sha256,
        "by_class": entry.by_class,
        "per_query": per_query,
        # only where the record has slices (the unseen-source score, docs/integrity.md)
        **({"slices": dict(entry.slices)} if entry.slices else {}),
    }


def leaderboard_dict(board: Leaderboard) -> dict[str, Any]:
    spec, task = board.spec, board.task
    groups = len(task.groups)
    return {
        "schema": SCHEMA,
        "benchmark": spec.name,
        "task": task.name,
        "task_type": task.type_name,
        "title": spec.title,
        "split": board.split,
        "ties": board.ties,
        "main_score": task.main_score,
        "groups": [
            {
                "name": g,
                "label": task.group_label(g),
                "description": task.group_description(g),
                "queries": board.sizes.get(g),
            }
            for g in task.groups
        ],
        "metrics": [
            {
                "name": m.name,
                "higher_is_better": m.higher_is_better,
                "aggregation": m.aggregation,
                "unit": m.unit,
            }
            for m in task.metrics
        ],
        "summaries": [
            {"name": s.name, "terms": list(s.terms), "higher_is_better": s.higher_is_better}
            for s in task.summaries
        ],
        "published": {
            "source": board.published.source,
            "paper": board.published.paper,
            "note": board.published.note,
        },
        "generated_by": {"var_bench": __version__},
        "order": board.order,
        "track": board.track,
        "tracks": list(board.tracks),
        "tiers": {
            "level": LEVEL,
            "paired_method": method_text(task, PAIRED, groups),
            "aggregate_method": method_text(task, WILSON, groups),
            "replicates": REPLICATES,
        },
        "comparisons": [
            {
                "a": board.entries[t.a].method,
                "b": board.entries[t.b].method,
                "method": t.method,
                "better": (
                    None
                    if t.better is None
                    else board.entries[t.a if t.better == "a" else t.b].method
                ),
                "p_value": t.p_value,
                "p_adjusted": t.p_adjusted,
            }
            for t in board.tests
        ],
        "dropped_duplicates": [{"file": d, "kept": k} for d, k in board.dropped],
        "entries": [entry_dict(e, task) for e in board.entries],
    }


def _numpy_default(value: Any) -> Any:
    # Metric functions may hand back NumPy scalars; JSON wants Python numbers.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_json(board: Leaderboard) -> str:
    """Indented JSON (ends with a newline)."""
    text = json.dumps(
        leaderboard_dict(board),
        indent=1,
        ensure_ascii=False,
        allow_nan=False,
        default=_numpy_default,
    )
    return text + "\n"
