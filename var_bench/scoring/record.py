"""The result record: a typed, versioned, reproducible account of one scored submission, the
same for every task type (MTEB's ``TaskResult``: every record names its main score).

JSON layout (keys in this order; ``docs/protocol.md`` documents each key)::

    {
      "benchmark": "ucfcrime-ar", "task": "retrieval", "task_type": "retrieval",
      "split": "test", "ties": "expected", "groups": ["t2v", "v2t"], "main_score": "SumR",
      "metrics": {"t2v": {"R@1": .., "R@5": .., "R@10": .., "MdR": .., "MnR": ..}, "v2t": {..}},
      "summary": {"SumR": ..},
      "bounds": {"optimistic": {"metrics": {..}, "summary": {..}}, "pessimistic": {..}},
      "details": {"tied_queries": {"t2v": 0, "v2t": 0}},
      "per_query": {"t2v": {"higher": [b_1, ..], "tied": [e_1, ..]}, "v2t": {..}},
      "ci": null | {...}, "by_class": null | {...}, "slices": null | {...},
      "contamination": null | [...],
      "name": null | "...", "disclosure": {...}, "provenance": null | {...},
      "features_digest": null | "..", "warnings": [...],
      "query_ids_sha256": "..", "gallery_ids_sha256": "..",
      "submission": "sub.npy" | null, "submission_sha256": ".." | null,
      "versions": {"var_bench": "..", "benchmark": "..", "record_schema": 2},
      "date": "2026-11-21T12:00:00Z"
    }

``metrics`` holds every metric of the task per group (a retrieval direction), ``summary`` the
task-level figures (SumR) and ``main_score`` names the one that ranks. ``per_query`` keeps what the
task type's scorer keeps of every query in canonical order (retrieval: b, the gallery items
scoring strictly higher than the true item, and e, the others tied with it): every metric under
every rule, the bounds, confidence intervals and paired comparisons are recomputed from it.
``ties`` is the rule the figures are stated under (null for a task with none); ``bounds`` the
figures under the other rules. ``groups`` (written, never read back: the keys of ``metrics``)
names the groups scored; a one-direction submission has one, and its SumR covers it alone.
``provenance``: what the submission file said about how it was made (written by
``var-bench evaluate``), else null. Records of schema 1 (before task types) are read and upgraded.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.tasks import get_task_type

RECORD_SCHEMA = 2

#: Disclosure fields a leaderboard entry should answer (None = not stated).
DISCLOSURE_KEYS: tuple[str, ...] = (
    "test_time_normalisation",  # e.g. "none", "dual softmax", "QB-Norm": uses the whole query set
    "extra_training_data",  # e.g. "none", "UCA captions"
    "checkpoint_selection",  # e.g. "val split", "last epoch", "test set"
    "tuned_on_test",  # hyper-parameters or fusion weights chosen on test: "no", or which
    "training_data",  # e.g. "train", "train+val", "train + UCA captions"
)
#: Disclosure keys that ``var-bench evaluate`` adds: the registered reference model that made the
#: submission, and which features it ran on (``real ...`` or ``synthetic ...``). The leaderboard
#: shows a record as a reproduction of a published row only when both are present and the
#: features are real.
REFERENCE_MODEL_KEY = "reference_model"
FEATURES_KEY = "features"
#: Every disclosure key a record can carry: the stated ones, then the two ``evaluate`` adds.
#: Written by ``var-bench evaluate`` too: the paper deviations the model ran with
#: (``var_bench.models.deviations``) and the ``var-bench extract`` identities of the features
#: (JSON).
DEVIATIONS_KEY = "deviations"
EXTRACTION_KEY = "extraction"
RECORD_DISCLOSURE_KEYS: tuple[str, ...] = DISCLOSURE_KEYS + (
    REFERENCE_MODEL_KEY,
    FEATURES_KEY,
    DEVIATIONS_KEY,
    EXTRACTION_KEY,
)
REAL_FEATURES = "real"
#: An optional disclosure: whether the method reads descriptions of the test videos written by a
#: model (an MLLM's captions, e.g. a reranker over Holmes-VAU descriptions): "none", or which.
TEST_DESCRIPTIONS_KEY = "model_written_test_descriptions"
#: Disclosure keys ``score`` accepts beyond :data:`DISCLOSURE_KEYS` (kept only when stated).
OPTIONAL_DISCLOSURE_KEYS: tuple[str, ...] = (TEST_DESCRIPTIONS_KEY,)


@dataclass
class ResultRecord:
    """One scored submission: metrics per group, the summary figures, the main score's name, the
    per-query counts they come from and how the submission was made."""

    benchmark: str
    split: str
    ties: str | None
    metrics: dict[str, dict[str, float]]
    summary: dict[str, float]
    main_score: str
    bounds: dict[str, dict[str, Any]]
    per_query: dict[str, Any]
    query_ids_sha256: str
    gallery_ids_sha256: str
    versions: dict[str, Any]
    date: str
    task: str = "retrieval"
    task_type: str = "retrieval"
    details: dict[str, Any] = field(default_factory=dict)
    submission: str | None = None
    submission_sha256: str | None = None
    ci: dict[str, Any] | None = None
    by_class: dict[str, Any] | None = None
    #: The figures on subsets of the queries (:mod:`var_bench.scoring.slices`), or None.
    slices: dict[str, Any] | None = None
    #: What the declared training data holds of the scored split: one
    #: :meth:`~var_bench.data.contamination.Overlap.to_dict` per name in it, or None.
    contamination: list[dict[str, Any]] | None = None
    name: str | None = None
    disclosure: dict[str, str | None] = field(
        default_factory=lambda: {k: None for k in DISCLOSURE_KEYS}
    )
    warnings: list[str] = field(default_factory=list)
    provenance: dict[str, Any] | None = None
    #: Set digest of the feature set the result was computed on (the store's
    #: ``features_digest``, docs/features.md); None when unknown (a submission scored alone).
    #: Leaderboards group entries by it.
    features_digest: str | None = None

    # Order of keys in the JSON file: the protocol's keys first, provenance last.
    _ORDER = (
        "benchmark",
        "task",
        "task_type",
        "split",
        "ties",
        "groups",
        "main_score",
        "metrics",
        "summary",
        "bounds",
        "details",
        "per_query",
        "ci",
        "by_class",
        "slices",
        "contamination",
        "name",
        "disclosure",
        "provenance",
        "features_digest",
        "warnings",
        "query_ids_sha256",
        "gallery_ids_sha256",
        "submission",
        "submission_sha256",
        "versions",
        "date",
    )

    @property
    def groups(self) -> list[str]:
        """The groups scored (retrieval: directions), in order."""
        return list(self.metrics)

    @property
    def task_class(self) -> type:
        """The registered class of the record's task type."""
        return get_task_type(self.task_type)

    @property
    def main_value(self) -> float:
        """The main score: a summary figure, or the metric of a one-group task."""
        return main_value(self.main_score, self.metrics, self.summary)

    def to_dict(self) -> dict[str, Any]:
        raw = {f.name: getattr(self, f.name) for f in fields(self)}
        cls = self.task_class
        raw["per_query"] = {g: cls.per_query_to_json(q) for g, q in self.per_query.items()}
        raw["groups"] = self.groups
        return {k: _plain(raw[k]) for k in self._ORDER}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def save(self, path: str | os.PathLike) -> None:
        """Write the record as JSON, atomically."""
        atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResultRecord:
        """A record from its JSON dict (schema 1 is upgraded first); every field is checked.

        Raises:
            InputError: a missing or mistyped field, a schema newer than this var-bench.
        """
        from var_bench.scoring.record_checks import check_record_dict, upgrade

        d = upgrade(d)
        missing = [
            k
            for k in ("benchmark", "split", "metrics", "summary", "main_score", "per_query")
            if k not in d
        ]
        if missing:
            raise InputError(f"result record: expected keys {', '.join(missing)}, they are missing")
        check_record_dict(d)  # types and ranges of every field, before anything uses them
        schema = d.get("versions", {}).get("record_schema")
        if schema is not None and schema > RECORD_SCHEMA:
            raise InputError(
                f"result record: expected record_schema <= {RECORD_SCHEMA}, got {schema} "
                f"(upgrade var-bench)"
            )
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        task_cls = get_task_type(d.get("task_type", "retrieval"))
        rules = task_cls.rules
        if rules and d.get("ties") not in rules:
            raise InputError(f"ties: expected one of {', '.join(rules)}, got {d.get('ties')!r}")
        kwargs["per_query"] = {
            g: task_cls.per_query_from_json(q, f"per_query.{g}") for g, q in d["per_query"].items()
        }
        for key, default in (
            ("bounds", {}),
            ("details", {}),
            ("versions", {}),
            ("date", ""),
            ("query_ids_sha256", ""),
            ("gallery_ids_sha256", ""),
        ):
            kwargs.setdefault(key, default)
        kwargs.setdefault("ties", None)
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ResultRecord:
        """Read a record written by :meth:`save`; a bad file is a one-line :class:`InputError`."""
        from var_bench.readback import read_text
        from var_bench.scoring.record_checks import parse_record_json

        try:  # a regular, bounded, UTF-8 file (a FIFO is refused before it is opened)
            text = read_text(path, "result record")
        except FileNotFoundError:
            raise InputError(f"{path}: expected a result record (JSON), found no file") from None
        except OSError as e:
            raise InputError(
                f"{path}: expected a readable result record (JSON), got {e.strerror or e}"
            ) from None
        data = parse_record_json(text, str(path))
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
        try:
            return cls.from_dict(data)
        except InputError as e:
            raise InputError(f"{path}: {e}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(
                f"{path}: expected a result record, got a malformed one ({e})"
            ) from None


def main_value(
    main_score: str, metrics: dict[str, dict[str, float]], summary: dict[str, float]
) -> float:
    """The value of ``main_score``: a summary figure, else the metric of the one group."""
    if main_score in summary:
        return float(summary[main_score])
    if len(metrics) == 1:
        return float(next(iter(metrics.values()))[main_score])
    raise InputError(
        f"main score {main_score}: expected a summary figure or a one-group record, "
        f"got groups {', '.join(metrics)}"
    )


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and dataclasses inside ``value`` into JSON-ready objects."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    return value
