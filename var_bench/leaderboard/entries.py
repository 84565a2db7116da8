"""Leaderboard entries: one typed row per published method or verified user record.

What an entry shows is either recomputed (metrics, SumR, intervals, per-class tables and the
warnings :func:`var_bench.leaderboard.verify.recomputed_warnings` derives from the per-query
counts) or declared by the submitter (disclosures, feature set, training data, scorer warnings
as written in the record, reproduction claims) and labelled so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from var_bench.leaderboard.published import PublishedRow, PublishedTable
from var_bench.leaderboard.verify import VerifiedRecord
from var_bench.scoring.record import (
    DISCLOSURE_KEYS,
    FEATURES_KEY,
    REAL_FEATURES,
    REFERENCE_MODEL_KEY,
)
from var_bench.scoring.record_checks import as_digest

PUBLISHED = "published"
USER = "user"
#: A row imported from another tool's record (Every Eval Ever): numbers only, nothing verified.
DECLARED_ROW = "declared"
#: Where a row's numbers come from (the provenance "Source" column).
SOURCE_PAPER = "paper"
SOURCE_VERIFIED = "verified record"
SOURCE_DECLARED = "declared, unverified"

#: Short labels for disclosure fields in the flags column (unknown keys show as themselves).
DISCLOSURE_LABELS: Mapping[str, str] = {
    "test_time_normalisation": "test-time re-scoring",
    "extra_training_data": "extra training data",
    "checkpoint_selection": "checkpoint",
    "tuned_on_test": "tuned on test",
    "training_data": "training data",
    "model_written_test_descriptions": "uses model-written descriptions of the test videos",
}
#: Disclosure keys shown in their own provenance column rather than as flags.
_COLUMN_KEYS = frozenset({"training_data"})
# Values that disclose "nothing special": no flag for them.
_PLAIN_VALUES = frozenset({"none", "no", "n/a", "false"})
_NORMALISED = ("normalis", "normaliz")
_SYNTHETIC = "synthetic"
# What `var-bench evaluate` writes: "real features (rgb, flow)" / "synthetic features (...)".
_STREAMS_RE = re.compile(r"^(?:real|synthetic)\s+features\s*\(([^)]*)\)\s*$", re.I)
# Stream names (docs/features.md) as shown on the board: the I3D ones share one "I3D" prefix.
_I3D_TITLES = {"rgb": "RGB", "flow": "Flow"}
_STREAM_TITLES = {"clip": "CLIP", "text_emb": "TEVAD text", "audio": "VGGish audio"}
#: Digest characters shown beside a feature set (``I3D RGB+Flow #54927e8d``) and the shortest
#: digest prefix ``--track`` takes.
DIGEST_SHOWN = 8
_NOT_STATED = "not stated"


def one_line(value: Any) -> str:
    """``value`` as text on one line: every run of whitespace (newlines too) becomes one space,
    control characters are dropped."""
    text = "" if value is None else str(value)
    text = "".join(c for c in text if c.isprintable() or c.isspace())
    return " ".join(text.split())


@dataclass(frozen=True)
class Entry:
    """One leaderboard row: metrics per group, the summaries and ``score``, the main score the
    board ranks by (retrieval: R@K in percent, MdR/MnR in ranks, SumR); None = not available.

    ``kind`` is :data:`PUBLISHED`, :data:`USER` or :data:`DECLARED_ROW`; ``source`` is the paper
    table or the record's file; ``ci`` holds intervals recomputed from per-query counts
    (``{"intervals": {group: {metric: [lo, hi]}, summary: [lo, hi]}, ..}``); ``per_query`` keeps
    user entries' counts so they can be plotted and compared. ``tier``: 1 + the number of rows
    significantly better (see :mod:`var_bench.leaderboard.tiers`).
    """

    method: str
    kind: str
    metrics: Mapping[str, Mapping[str, float | None]]
    summary: Mapping[str, float]
    score: float
    source: str
    rank: int | None = None
    ci: Mapping[str, Any] | None = None
    flags: tuple[str, ...] = ()
    #: Scorer warnings as the record states them (declared: a record can delete them).
    warnings: tuple[str, ...] = ()
    disclosure: Mapping[str, str | None] = field(default_factory=dict)
    versions: Mapping[str, Any] = field(default_factory=dict)
    date: str | None = None
    ids_sha256: str | None = None
    submitted_ties: str | None = None
    rescored_from: str | None = None
    text_features: str | None = None
    #: Registered model that reruns a published row, or that (declared) made a user entry.
    reference_model: str | None = None
    #: For a published row: the user entry that *claims* to rerun it on real features (declared,
    #: never verified: it does not make the published numbers reproduced).
    reproduced: Entry | None = None
    by_class: Mapping[str, Any] | None = None
    per_query: Mapping[str, Any] | None = None
    tier: int | None = None
    #: Feature set, and how it is known: "paper", "record" (feature identity) or "declared".
    feature_set: str | None = None
    feature_origin: str | None = None
    training_data: str | None = None
    synthetic: bool = False
    submission_sha256: str | None = None
    #: Warnings recomputed from the per-query counts, and what verification recomputed/dropped.
    checks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: Other files holding the same submission (same submission_sha256), dropped as duplicates.
    duplicates: tuple[str, ...] = ()
    #: The set digest of the feature store the record was computed on (64 hex; None: unknown,
    #: e.g. a paper row or a submission scored alone). Rows of one digest share their features.
    features_digest: str | None = None
    #: The main score on each slice of the record's queries (``source_unseen``, ...), recomputed
    #: from the per-query counts under the official rule; None when the record has none.
    slices: Mapping[str, float] | None = None

    @property
    def track(self) -> str | None:
        """The feature set as the board groups it: the name, and the digest's first
        :data:`DIGEST_SHOWN` characters when known (``I3D RGB+Flow #54927e8d``)."""
        if self.features_digest is None:
            return self.feature_set
        return f"{self.feature_set or _NOT_STATED} #{self.features_digest[:DIGEST_SHOWN]}"

    @property
    def is_published(self) -> bool:
        return self.kind == PUBLISHED

    @property
    def is_declared(self) -> bool:
        """An imported row: numbers as another tool states them, no per-query ranks."""
        return self.kind == DECLARED_ROW

    @property
    def source_kind(self) -> str:
        if self.is_declared:
            return SOURCE_DECLARED
        return SOURCE_PAPER if self.is_published else SOURCE_VERIFIED

    def value(self, group: str | None, metric: str) -> float | None:
        """``metric`` of ``group``, or the summary ``metric`` when ``group`` is None."""
        if group is None:
            return self.summary.get(metric)
        return self.metrics[group].get(metric)

    def interval(self, direction: str | None, metric: str) -> tuple[float, float] | None:
        """The CI of ``metric`` (of ``direction``; None for a summary), or None when there is
        none."""
        if not self.ci:
            return None
        intervals = self.ci.get("intervals") or {}
        if direction is None:
            # bootstrap_ci puts summaries beside the groups inside "intervals"; accept them
            # top-level too.
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
        summary=row.summary,
        score=row.score,
        source=table.source,
        text_features=row.text_features,
        reference_model=row.reference_model,
        feature_set=table.features,
        feature_origin=SOURCE_PAPER if table.features else None,
    )


def streams_label(streams) -> str:
    """Store stream names -> a feature-set name: ``rgb, flow`` -> ``I3D RGB+Flow``; ``rgb, flow,
    clip`` -> ``I3D RGB+Flow, CLIP``; ``clip`` -> ``CLIP``; ``rgb, audio`` -> ``I3D RGB, VGGish
    audio``; a user layout's stream shows as its name."""
    names = [one_line(s).lower() for s in streams if one_line(s)]
    i3d = [_I3D_TITLES[s] for s in names if s in _I3D_TITLES]
    parts = (["I3D " + "+".join(i3d)] if i3d else []) + [
        _STREAM_TITLES.get(s, s) for s in names if s not in _I3D_TITLES
    ]
    return ", ".join(parts)


def feature_label(text: str) -> str:
    """A feature-set name for display and ``--track``: ``real features (rgb, flow)`` (what
    ``var-bench evaluate`` writes) -> :func:`streams_label` of its streams; anything else one
    line, ``real``/``synthetic`` prefixes dropped."""
    text = one_line(text)
    m = _STREAMS_RE.match(text)
    if m:
        return streams_label(m.group(1).split(",")) or text
    return re.sub(rf"^(?:{REAL_FEATURES}|{_SYNTHETIC})\b[\s:,-]*", "", text, flags=re.I) or text


def record_features(record: Any) -> tuple[str | None, str | None, bool]:
    """(feature set, origin, synthetic) of a record.

    Read from the record's feature identity when it has one (``provenance`` with ``feature_set``
    or ``features``: a name, or the store identity ``var-bench evaluate`` writes, whose
    ``streams`` name it; origin "record"), else from the declared ``features`` disclosure
    (origin "declared"). Synthetic when either says so.
    """
    prov = getattr(record, "provenance", None)
    prov = prov if isinstance(prov, Mapping) else {}
    found: str | None = None
    synthetic = bool(prov.get(_SYNTHETIC)) if isinstance(prov.get(_SYNTHETIC), bool) else False
    for key in ("feature_set", "features"):
        value = prov.get(key)
        if isinstance(value, Mapping):
            synthetic |= bool(value.get(_SYNTHETIC)) is True or value.get("kind") == _SYNTHETIC
            streams = value.get("streams")
            named = value.get("name") or value.get("feature_set")
            if (
                named is None
                and isinstance(streams, list)
                and all(isinstance(s, str) for s in streams)
            ):
                named = streams_label(streams) or None
            value = named
        if isinstance(value, str) and value.strip():
            found = value
            break
    declared = (
        record.disclosure.get(FEATURES_KEY) if isinstance(record.disclosure, Mapping) else None
    )
    for text in (found, declared):
        if isinstance(text, str) and text.strip().lower().startswith(_SYNTHETIC):
            synthetic = True
    if found is not None:
        return feature_label(found), "record", synthetic
    if isinstance(declared, str) and declared.strip():
        return feature_label(declared), "declared", synthetic
    return None, None, synthetic


def leakage_flags(training: str, table: PublishedTable) -> list[str]:
    """One flag per known overlap whose pattern matches the declared training data."""
    return [
        f"leakage: {o.dataset} training data holds {o.test_videos} test videos"
        for o in table.overlaps
        if training and re.search(o.pattern, training, re.I)
    ]


def contamination_flags(record: Any) -> list[str]:
    """The record's in-training flags: its declared training data resolved at score time against
    the benchmarks and the contamination registry (``record.contamination``)."""
    out = []
    for o in getattr(record, "contamination", None) or ():
        if o.get("status") == "overlap":
            out.append(f"in-training: {one_line(o['name'])} holds {o['test_videos']} test videos")
        elif o.get("status") == "unknown" and o.get("kind") == "registry":
            out.append(f"in-training unknown: {one_line(o['name'])}")
    return out


def record_flags(verified: VerifiedRecord, table: PublishedTable | None = None) -> tuple[str, ...]:
    """Short flags for a user entry: recomputed checks, declared warnings and disclosures.

    Recomputed (from the counts, the task's checks): ``implausible: ...``, many tied queries
    (retrieval). Declared: a
    scorer warning about normalised columns in the record becomes ``normalised columns?``, others
    ``warning`` (full text under the table); synthetic features; a disclosure answered with
    something other than "none" is ``label: value``; unanswered ones are listed under
    ``undisclosed``; training data matching a known overlap with the test split is ``leakage``.
    """
    record = verified.record
    flags: list[str] = [
        c.split(":", 1)[0] if c.startswith("implausible") else "many tied queries"
        for c in verified.checks
    ]
    flags = list(dict.fromkeys(flags))
    for w in record.warnings:
        lowered = one_line(w).lower()
        flag = "normalised columns?" if any(s in lowered for s in _NORMALISED) else "warning"
        if flag not in flags:
            flags.append(flag)
    _, _, synthetic = record_features(record)
    if synthetic:
        flags.append("synthetic features")
    undisclosed = []
    for key in (*DISCLOSURE_KEYS, *(k for k in record.disclosure if k not in DISCLOSURE_KEYS)):
        if key in (FEATURES_KEY, REFERENCE_MODEL_KEY):
            continue
        value = record.disclosure.get(key)
        label = DISCLOSURE_LABELS.get(key, one_line(key))
        if value is None or one_line(value) == "":
            undisclosed.append(label)
        elif key not in _COLUMN_KEYS and one_line(value).lower() not in _PLAIN_VALUES:
            flags.append(f"{label}: {one_line(value)}")
    if table is not None:
        training = " ".join(
            one_line(record.disclosure.get(k) or "")
            for k in ("training_data", "extra_training_data")
        )
        flags += leakage_flags(training, table)
    flags += contamination_flags(record)
    if undisclosed:
        flags.append("undisclosed: " + ", ".join(undisclosed))
    if verified.rescored_from:
        flags.append(f"re-scored from ties={verified.rescored_from}")
    model = record.disclosure.get(REFERENCE_MODEL_KEY)
    if model:
        flags.append(f"claims a rerun of {one_line(model)} (declared)")
    return tuple(flags)


def slice_scores(verified: VerifiedRecord) -> dict[str, float] | None:
    """The main score on each slice a record carries, recomputed from its per-query counts and
    the slice's query positions under the official rule (the stated slice figures are not
    trusted); slices whose positions fall outside the queries are left out."""
    record, task = verified.record, verified.task
    if not record.slices:
        return None
    n = min(task.query_count(q) for q in record.per_query.values())
    out = {}
    for name, sl in record.slices.items():
        index = np.asarray(sl.get("index", ()), dtype=np.int64)
        if not len(index) or index.max() >= n:
            continue
        sub = {g: task.subset(q, index) for g, q in record.per_query.items()}
        metrics = {g: task.summarise(q, task.official_rule) for g, q in sub.items()}
        out[name] = task.main_value(metrics, task.summary(metrics))
    return out or None


def user_entry(verified: VerifiedRecord, table: PublishedTable | None = None) -> Entry:
    """A verified record as an entry: values under the leaderboard tie rule, provenance kept."""
    record = verified.record
    features, origin, synthetic = record_features(record)
    training = record.disclosure.get("training_data")
    return Entry(
        method=one_line(record.name or verified.label),  # one line in every table
        kind=USER,
        metrics=verified.metrics,
        summary=verified.summary,
        score=verified.score,
        source=verified.label,
        ci=verified.ci,
        flags=record_flags(verified, table),
        warnings=tuple(one_line(w) for w in record.warnings),
        disclosure={
            one_line(k): (None if v is None else one_line(v)) for k, v in record.disclosure.items()
        },
        versions={one_line(k): one_line(v) for k, v in record.versions.items()},
        date=one_line(record.date) or None,
        ids_sha256=record.query_ids_sha256 or None,
        submitted_ties=record.ties,
        rescored_from=verified.rescored_from,
        by_class=verified.by_class,
        per_query=dict(record.per_query),
        reference_model=one_line(record.disclosure.get(REFERENCE_MODEL_KEY)) or None,
        feature_set=features,
        feature_origin=origin,
        training_data=one_line(training) or None,
        synthetic=synthetic,
        submission_sha256=getattr(record, "submission_sha256", None) or None,
        checks=verified.checks,
        notes=verified.notes,
        # checked again: records built in memory (``records=``) skip the loader's checks
        features_digest=as_digest(getattr(record, "features_digest", None)),
        slices=slice_scores(verified),
    )


def reproduces(entry: Entry, model: str) -> bool:
    """True when user ``entry`` *declares* it was made by reference model ``model`` on real
    features (a claim: shown as declared, never as a verified reproduction)."""
    features = str(entry.disclosure.get(FEATURES_KEY) or "").strip().lower()
    return (
        entry.kind == USER
        and entry.reference_model == model
        and not entry.synthetic
        and features.split(" ")[0] == REAL_FEATURES
    )
