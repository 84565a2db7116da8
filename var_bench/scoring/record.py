"""The result record: a typed, versioned, reproducible account of one scored submission.

JSON layout (keys in this order; ``docs/protocol.md`` documents each key)::

    {
      "benchmark": "ucfcrime-ar", "split": "test", "ties": "expected", "directions": ["t2v", "v2t"],
      "metrics": {"t2v": {"R@1": .., "R@5": .., "R@10": .., "MdR": .., "MnR": ..}, "v2t": {..}},
      "SumR": ..,
      "bounds": {"optimistic": {"metrics": {..}, "SumR": ..}, "pessimistic": {..}},
      "tied_queries": {"t2v": 0, "v2t": 0},
      "per_query": {"t2v": {"higher": [b_1, ..], "tied": [e_1, ..]}, "v2t": {..}},
      "ci": null | {...}, "by_class": null | {...},
      "name": null | "...", "disclosure": {...}, "provenance": null | {...}, "warnings": [...],
      "ids_sha256": "..", "submission": "sub.npy" | null, "submission_sha256": ".." | null,
      "versions": {"var_bench": "..", "benchmark": "..", "record_schema": 1},
      "date": "2026-11-21T12:00:00Z"
    }

``per_query`` keeps, for every query in canonical order, b (gallery items scoring strictly higher
than the true item) and e (other items tied with it): every metric under every tie rule, the
bounds, confidence intervals and paired comparisons can be recomputed from them.
``directions`` (written, never read back: it is the keys of ``metrics``) names the directions
scored; a one-direction submission (``{"t2v": S}``, ``--direction``) has one, and its SumR covers
that direction alone. ``provenance``: what the submission file said about how it was made
(:mod:`var_bench.tasks.retrieval.submission.provenance`; written by ``var-bench evaluate``), else null.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.tasks.retrieval.counts import QueryRanks
from var_bench.tasks.retrieval.names import SUMR, TIE_RULES

RECORD_SCHEMA = 1

#: Disclosure fields a leaderboard entry should answer (None = not stated).
DISCLOSURE_KEYS: tuple[str, ...] = (
    "test_time_normalisation",  # e.g. "none", "dual softmax", "QB-Norm": uses the whole query set
    "extra_training_data",      # e.g. "none", "UCA captions"
    "checkpoint_selection",     # e.g. "val split", "last epoch", "test set"
    "tuned_on_test",            # hyper-parameters or fusion weights chosen on test: "no", or which
    "training_data",            # e.g. "train", "train+val", "train + UCA captions"
)
#: Disclosure keys that ``var-bench evaluate`` adds: the registered reference model that made the
#: submission, and which features it ran on (``real ...`` or ``synthetic ...``). The leaderboard
#: shows a record as a reproduction of a published row only when both are present and the
#: features are real.
REFERENCE_MODEL_KEY = "reference_model"
FEATURES_KEY = "features"
#: Every disclosure key a record can carry: the stated ones, then the two ``evaluate`` adds.
#: Written by ``var-bench evaluate`` too: the paper deviations the model ran with
#: (``var_bench.models.deviations``) and the ``var-bench extract`` identities of the features (JSON).
DEVIATIONS_KEY = "deviations"
EXTRACTION_KEY = "extraction"
RECORD_DISCLOSURE_KEYS: tuple[str, ...] = DISCLOSURE_KEYS + (REFERENCE_MODEL_KEY, FEATURES_KEY,
                                                             DEVIATIONS_KEY, EXTRACTION_KEY)
REAL_FEATURES = "real"


@dataclass
class ResultRecord:
    """One scored submission. Metric values: R@K in percent, MdR/MnR in ranks (1 = first)."""

    benchmark: str
    split: str
    ties: str
    metrics: dict[str, dict[str, float]]
    SumR: float
    bounds: dict[str, dict[str, Any]]
    tied_queries: dict[str, int]
    per_query: dict[str, QueryRanks]
    ids_sha256: str
    versions: dict[str, Any]
    date: str
    submission: str | None = None
    submission_sha256: str | None = None
    ci: dict[str, Any] | None = None
    by_class: dict[str, Any] | None = None
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
        "benchmark", "split", "ties", "directions", "metrics", SUMR, "bounds", "tied_queries",
        "per_query", "ci", "by_class", "name", "disclosure", "provenance", "features_digest",
        "warnings", "ids_sha256", "submission",
        "submission_sha256", "versions", "date",
    )

    def __post_init__(self) -> None:
        if self.ties not in TIE_RULES:
            raise InputError(f"ties: expected one of {', '.join(TIE_RULES)}, got {self.ties!r}")

    @property
    def directions(self) -> list[str]:
        return list(self.metrics)

    def to_dict(self) -> dict[str, Any]:
        raw = {f.name: getattr(self, f.name) for f in fields(self)}
        raw["per_query"] = {d: q.to_dict() for d, q in self.per_query.items()}
        raw["directions"] = self.directions
        return {k: _plain(raw[k]) for k in self._ORDER}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def save(self, path: str | os.PathLike) -> None:
        """Write the record as JSON, atomically."""
        atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ResultRecord":
        known = {f.name for f in fields(cls)}
        missing = [k for k in ("benchmark", "split", "ties", "metrics", SUMR, "per_query") if k not in d]
        if missing:
            raise InputError(f"result record: expected keys {', '.join(missing)}, they are missing")
        from var_bench.scoring.record_checks import check_record_dict

        check_record_dict(d)  # types and ranges of every field, before anything uses them
        schema = d.get("versions", {}).get("record_schema")
        if schema is not None and schema > RECORD_SCHEMA:
            raise InputError(
                f"result record: expected record_schema <= {RECORD_SCHEMA}, got {schema} "
                f"(upgrade var-bench)"
            )
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["per_query"] = {k: QueryRanks.from_dict(v) for k, v in d["per_query"].items()}
        kwargs.setdefault("bounds", {})
        kwargs.setdefault("tied_queries", {})
        kwargs.setdefault("ids_sha256", "")
        kwargs.setdefault("versions", {})
        kwargs.setdefault("date", "")
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ResultRecord":
        """Read a record written by :meth:`save`; a bad file is a one-line :class:`InputError`."""
        from var_bench.scoring.record_checks import parse_record_json

        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise InputError(f"{path}: expected a result record (JSON), found no file") from None
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: expected a result record (JSON), got unreadable JSON ({e})") from None
        data = parse_record_json(text, str(path))
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
        try:
            return cls.from_dict(data)
        except InputError as e:
            raise InputError(f"{path}: {e}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{path}: expected a result record, got a malformed one ({e})") from None


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
