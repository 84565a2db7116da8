"""Leaderboard entries: one typed row per published method or verified user record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from var_bench.scoring.metrics.counts import QueryRanks
from var_bench.scoring.record import DISCLOSURE_KEYS, FEATURES_KEY, REAL_FEATURES, REFERENCE_MODEL_KEY
from var_bench.leaderboard.published import PublishedRow, PublishedTable
from var_bench.leaderboard.verify import VerifiedRecord

PUBLISHED = "published"
USER = "user"

#: Short labels for disclosure fields in the flags column (unknown keys show as themselves).
DISCLOSURE_LABELS: Mapping[str, str] = {
    "test_time_normalisation": "test-time re-scoring",
    "extra_training_data": "extra training data",
    "checkpoint_selection": "checkpoint",
}
# Values that disclose "nothing special": no flag for them.
_PLAIN_VALUES = frozenset({"none", "no", "n/a", "false"})
_NORMALISED = ("normalis", "normaliz")


@dataclass(frozen=True)
class Entry:
    """One leaderboard row. R@K in percent, MdR/MnR in ranks; None = not available.

    ``kind`` is :data:`PUBLISHED` or :data:`USER`; ``source`` is the paper table or the record's
    file; ``ci`` is the record's ``{"intervals": {dir: {metric: [lo, hi]}, "SumR": [lo, hi]}, ..}``;
    ``per_query`` keeps user entries' counts so they can be plotted and compared.
    """

    method: str
    kind: str
    metrics: Mapping[str, Mapping[str, float | None]]
    sumr: float
    source: str
    rank: int | None = None
    ci: Mapping[str, Any] | None = None
    flags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    disclosure: Mapping[str, str | None] = field(default_factory=dict)
    versions: Mapping[str, Any] = field(default_factory=dict)
    date: str | None = None
    ids_sha256: str | None = None
    submitted_ties: str | None = None
    rescored_from: str | None = None
    text_features: str | None = None
    #: Registered model that reruns a published row, or that made a user entry.
    reference_model: str | None = None
    #: For a published row: the user entry reproducing it on real features (see board.py).
    reproduced: "Entry | None" = None
    by_class: Mapping[str, Any] | None = None
    per_query: Mapping[str, QueryRanks] | None = None

    @property
    def is_published(self) -> bool:
        return self.kind == PUBLISHED

    def interval(self, direction: str | None, metric: str) -> tuple[float, float] | None:
        """The CI of ``metric`` (of ``direction``; None for SumR), or None when there is none."""
        if not self.ci:
            return None
        intervals = self.ci.get("intervals") or {}
        if direction is None:
            # bootstrap_ci puts SumR beside the directions inside "intervals"; accept it top-level too.
            where = intervals.get(metric, self.ci.get(metric))
        else:
            where = (intervals.get(direction) or {}).get(metric)
        if where is None or len(where) != 2:
            return None
        return float(where[0]), float(where[1])


def published_entry(table: PublishedTable, row: PublishedRow) -> Entry:
    """A published row as an entry (numbers exactly as printed)."""
    return Entry(
        method=row.method,
        kind=PUBLISHED,
        metrics=row.metrics,
        sumr=row.sumr,
        source=table.source,
        text_features=row.text_features,
        reference_model=row.reference_model,
    )


def record_flags(verified: VerifiedRecord) -> tuple[str, ...]:
    """Short flags for a user entry: warnings, disclosures worth a look, re-scoring.

    A warning about normalised columns becomes ``normalised columns?``; other warnings ``warning``
    (their full text is listed under the table). A disclosure field that is unanswered is listed
    under ``undisclosed``; one with a value other than "none" is shown as ``label: value``.
    """
    record = verified.record
    flags: list[str] = []
    for w in record.warnings:
        lowered = w.lower()
        flag = "normalised columns?" if any(s in lowered for s in _NORMALISED) else "warning"
        if flag not in flags:
            flags.append(flag)
    undisclosed = []
    for key in (*DISCLOSURE_KEYS, *(k for k in record.disclosure if k not in DISCLOSURE_KEYS)):
        value = record.disclosure.get(key)
        label = DISCLOSURE_LABELS.get(key, key)
        if value is None or str(value).strip() == "":
            undisclosed.append(label)
        elif str(value).strip().lower() not in _PLAIN_VALUES:
            flags.append(f"{label}: {value}")
    if undisclosed:
        flags.append("undisclosed: " + ", ".join(undisclosed))
    if verified.rescored_from:
        flags.append(f"re-scored from ties={verified.rescored_from}")
    return tuple(flags)


def user_entry(verified: VerifiedRecord) -> Entry:
    """A verified record as an entry: values under the leaderboard tie rule, provenance kept."""
    record = verified.record
    return Entry(
        method=" ".join((record.name or verified.label).split()),  # one line in every table
        kind=USER,
        metrics=verified.metrics,
        sumr=verified.sumr,
        source=verified.label,
        ci=verified.ci,
        flags=record_flags(verified),
        warnings=tuple(record.warnings),
        disclosure=dict(record.disclosure),
        versions=dict(record.versions),
        date=record.date or None,
        ids_sha256=record.ids_sha256 or None,
        submitted_ties=record.ties,
        rescored_from=verified.rescored_from,
        by_class=verified.by_class,
        per_query=dict(record.per_query),
        reference_model=record.disclosure.get(REFERENCE_MODEL_KEY) or None,
    )


def reproduces(entry: Entry, model: str) -> bool:
    """True when user ``entry`` was made by reference model ``model`` on real features."""
    features = str(entry.disclosure.get(FEATURES_KEY) or "").strip().lower()
    return (not entry.is_published and entry.reference_model == model
            and features.split(" ")[0] == REAL_FEATURES)
