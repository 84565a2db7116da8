"""Every Eval Ever (EEE, evaleval/every_eval_ever, ``eval.schema.json`` 0.2.1): one result record as
an EEE aggregate record, and an EEE record read back as a *declared, unverified* leaderboard row.

Export (``var-bench export RECORD --to eee``): the record is verified first, exactly as the
leaderboard does (:func:`var_bench.leaderboard.adapters.keys.flat_scores`), then written with

- ``source_metadata.source_type`` ``evaluation_run`` (var_bench recomputed every number from the
  per-query ranks; a number copied from a paper would be ``documentation``);
- one ``evaluation_results`` item per score key (:func:`keys.score_keys`: ``t2v_R1`` ...
  ``SumR``): ``metric_config.lower_is_better`` from the task (MdR, MnR: true), ``score_type``
  ``continuous`` with its bounds (R@K 0-100 %, ranks 1-N, SumR 0-600 for two directions);
  ``score_details.uncertainty.confidence_interval`` (95 % percentile bootstrap) and
  ``num_samples`` (queries) when the record carries intervals;
- ``source_data`` ``other`` (the dataset is built locally from pinned upstream files; its id list
  is named by its id-list hashes), ``eval_library`` var_bench and its version.

Import (``var-bench import FILE``): the file is validated (:class:`EEERecord`, pydantic), its
``evaluation_results`` are matched to the benchmark's score keys (``source_data.dataset_name`` is
the benchmark; ``evaluation_name`` ends with a key: ``t2v_R1``, ``t2v R@1``, ``SumR``), each
``lower_is_better`` must agree with the task, and it is stored beside the result records, where the
leaderboard shows it as a ``declared (unverified)`` row: no per-query ranks back its numbers, so
its tier comes from Wilson intervals on its recalls, like a paper row.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.leaderboard.adapters.keys import score_key
from var_bench.leaderboard.entries import DECLARED_ROW, Entry, one_line
from var_bench.leaderboard.verify import LEADERBOARD_SPLIT, IdsHash, verify_record
from var_bench.scoring.record import ResultRecord
from var_bench.tasks import Task

#: The EEE schema version written (evaleval/every_eval_ever ``eval.schema.json``).
SCHEMA_VERSION = "0.2.1"
#: What a file must hold to be read as an EEE record (and skipped as a result record).
#: The suffix of an imported EEE record stored beside the result records.
IMPORTED_SUFFIX = ".eee.json"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SourceMetadata(_Open):
    source_type: Literal["documentation", "evaluation_run"]
    source_organization_name: str
    evaluator_relationship: Literal["first_party", "third_party", "collaborative", "other"]
    source_name: str | None = None


class EvalLibrary(_Open):
    name: str
    version: str


class ModelInfo(_Open):
    name: str
    id: str


class SourceData(_Open):
    dataset_name: str
    source_type: Literal["url", "hf_dataset", "other"]


class MetricConfig(_Open):
    lower_is_better: bool


class ConfidenceInterval(_Open):
    lower: float
    upper: float
    confidence_level: float | None = Field(default=None, ge=0, le=1)


class Uncertainty(_Open):
    confidence_interval: ConfidenceInterval | None = None
    num_samples: int | None = None


class ScoreDetails(_Open):
    score: float
    uncertainty: Uncertainty | None = None


class EvaluationResult(_Open):
    evaluation_name: str
    source_data: SourceData
    metric_config: MetricConfig
    score_details: ScoreDetails


class EEERecord(BaseModel):
    """The parts of an EEE aggregate record var_bench reads (required keys of the schema; the
    top level admits no other keys, as the schema says)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str
    evaluation_id: str
    retrieved_timestamp: str
    source_metadata: SourceMetadata
    eval_library: EvalLibrary
    model_info: ModelInfo
    evaluation_results: list[EvaluationResult] = Field(min_length=1)
    evaluation_timestamp: str | None = None
    dedupe_identity: dict[str, Any] | None = None
    detailed_evaluation_results: dict[str, Any] | None = None


def _bounds(task: Task, metric: str, n: int | None) -> tuple[float, float] | None:
    spec = next((m for m in task.metrics if m.name == metric), None)
    if spec is not None and spec.is_percentage:
        return 0.0, 100.0
    if spec is not None:
        return (1.0, float(n)) if n else None  # a rank: 1 .. gallery size
    summary = next((s for s in task.summaries if s.name == metric), None)
    if summary is None:
        return None
    return 0.0, 100.0 * len(summary.terms) * len(task.groups)


def _timestamp(date: str | None) -> str:
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(str(date).replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return str(int(when.timestamp()))


def eee_record(record: ResultRecord, ids_hash: IdsHash | None = None) -> dict[str, Any]:
    """The EEE aggregate record of a verified result record (see the module docstring).

    Raises:
        InputError: the record fails verification.
    """
    from var_bench import __version__

    spec = get_benchmark(record.benchmark)
    verified = verify_record(record, spec, record.name or record.benchmark, ids_hash)
    task = verified.task
    name = record.name or "unnamed"
    stamp = _timestamp(record.date)
    n = spec.test_videos
    intervals = (verified.ci or {}).get("intervals", {})
    level = (verified.ci or {}).get("level")
    sizes = {g: task.query_count(q) for g, q in record.per_query.items()}
    results = []
    rows = [(g, m.name, verified.metrics[g][m.name]) for g in task.groups for m in task.metrics]
    rows += [(None, s, v) for s, v in verified.summary.items()]
    for group, metric, value in rows:
        key = score_key(group, metric)
        config: dict[str, Any] = {
            "evaluation_description": (
                f"{spec.title} {LEADERBOARD_SPLIT}: "
                + (f"{task.group_label(group)} {metric}" if group else metric)
                + f", ties {task.official_rule}" * bool(task.official_rule)
            ),
            "lower_is_better": not task.higher_is_better(metric),
        }
        bounds = _bounds(task, metric, n)
        if bounds is not None:
            config.update(score_type="continuous", min_score=bounds[0], max_score=bounds[1])
        config["additional_details"] = {"key": key, "task": task.name}
        details: dict[str, Any] = {"score": float(value)}
        ci = (intervals.get(group) or {}).get(metric) if group else intervals.get(metric)
        if ci is not None and len(ci) == 2:
            details["uncertainty"] = {
                "confidence_interval": {
                    "lower": float(ci[0]),
                    "upper": float(ci[1]),
                    **({"confidence_level": float(level)} if level is not None else {}),
                    "method": str((verified.ci or {}).get("method", "bootstrap")),
                },
                "num_samples": int(sizes[group] if group else min(sizes.values())),
                **(
                    {"num_bootstrap_samples": int(verified.ci["replicates"])}
                    if (verified.ci or {}).get("replicates")
                    else {}
                ),
            }
        results.append(
            {
                "evaluation_name": f"{spec.name} {key}",
                "source_data": {
                    "dataset_name": spec.name,
                    "source_type": "other",
                    "additional_details": {
                        "title": spec.title,
                        "version": spec.version,
                        "split": LEADERBOARD_SPLIT,
                        "query_ids_sha256": str(record.query_ids_sha256),
                        "gallery_ids_sha256": str(record.gallery_ids_sha256),
                    },
                },
                "metric_config": config,
                "score_details": details,
            }
        )
    disclosure = {k: str(v) for k, v in (record.disclosure or {}).items() if v is not None}
    return {
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": f"{spec.name}/{name}/{stamp}",
        "evaluation_timestamp": str(record.date),
        "retrieved_timestamp": stamp,
        "source_metadata": {
            "source_name": "var_bench",
            "source_type": "evaluation_run",
            "source_organization_name": disclosure.get("organization", "not stated"),
            "evaluator_relationship": "other",
            "additional_details": {"verified_by": "var_bench (recomputed from per-query ranks)"},
        },
        "eval_library": {"name": "var_bench", "version": __version__},
        "model_info": {
            "name": name,
            "id": disclosure.get("reference_model", name),
            "additional_details": disclosure,
        },
        "evaluation_results": results,
        **(
            {
                "dedupe_identity": {
                    "content_hash": record.submission_sha256,
                    "hash_algorithm": "sha256",
                }
            }
            if record.submission_sha256
            else {}
        ),
    }


def write_eee_json(
    record: ResultRecord, path: str | os.PathLike, ids_hash: IdsHash | None = None
) -> None:
    """Write :func:`eee_record` as JSON to ``path``, atomically."""
    text = json.dumps(eee_record(record, ids_hash), indent=1, allow_nan=False)
    atomic_write_text(path, text + "\n")


def read_eee(path: str | os.PathLike) -> EEERecord:
    """An EEE record file, validated.

    Raises:
        InputError: not JSON, or not an EEE record (the first problem, in one line).
    """
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: expected an Every Eval Ever record (JSON), found no file"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: expected an Every Eval Ever record (JSON), got {e}") from None
    return parse_eee(data, str(path))


def parse_eee(data: Any, label: str) -> EEERecord:
    """Validate an EEE record already parsed from JSON (see :func:`read_eee`)."""
    try:
        return EEERecord.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(
            f"{label}: expected an Every Eval Ever record ({SCHEMA_VERSION}); {where}: "
            f"{first['msg']}"
        ) from None


def _key_of(name: str, keys: list[str]) -> str | None:
    """The score key an ``evaluation_name`` ends with (``... t2v_R1``, ``... t2v R@1``)."""
    text = name.strip()
    for key in keys:
        group, _, metric = key.rpartition("_")
        spelled = [key]
        if group:
            at = re.sub(r"^R(\d)", r"R@\1", metric)  # R1 -> R@1
            spelled += [f"{group} {metric}", f"{group} {at}"]
        if any(text == s or text.endswith(" " + s) for s in spelled):
            return key
    return None


def declared_scores(eee: EEERecord, spec: BenchmarkSpec, label: str) -> tuple[Task, dict, dict]:
    """(task, metrics per group, summaries) of an EEE record's results for ``spec`` (others are
    ignored). A missing summary is computed from the metrics when they are all given.

    Raises:
        InputError: no result for ``spec``, a ``lower_is_better`` that contradicts the task, or
            neither the main score nor every metric it sums.
    """
    task = spec.task()
    keys = {score_key(g, m.name): (g, m.name) for g in task.groups for m in task.metrics}
    keys.update({score_key(None, s.name): (None, s.name) for s in task.summaries})
    mine = [
        r
        for r in eee.evaluation_results
        if r.source_data.dataset_name.strip().lower() in (spec.name, spec.title.lower())
    ]
    if not mine:
        raise InputError(
            f"{label}: expected evaluation_results with source_data.dataset_name {spec.name!r}, "
            f"got {sorted({r.source_data.dataset_name for r in eee.evaluation_results})}"
        )
    metrics: dict[str, dict[str, float | None]] = {g: {} for g in task.groups}
    summary: dict[str, float] = {}
    for r in mine:
        key = _key_of(r.evaluation_name, list(keys))
        if key is None:
            continue
        group, metric = keys[key]
        if r.metric_config.lower_is_better == task.higher_is_better(metric):
            raise InputError(
                f"{label}: {r.evaluation_name}: expected lower_is_better "
                f"{str(not task.higher_is_better(metric)).lower()} for {metric}, got "
                f"{str(r.metric_config.lower_is_better).lower()}"
            )
        if group is None:
            summary[metric] = r.score_details.score
        else:
            metrics[group][metric] = r.score_details.score
    if task.main_score not in summary:
        try:
            summary.update(task.summary(metrics))
        except (KeyError, ValueError, InputError):
            pass
    if task.main_score not in summary:
        raise InputError(
            f"{label}: expected {task.main_score} for {spec.name}, or every metric it sums, "
            f"got {', '.join(sorted(k for g in metrics.values() for k in g)) or 'none'}"
        )
    for g in task.groups:
        for m in task.metrics:
            metrics[g].setdefault(m.name, None)
    return task, metrics, summary


def import_eee(
    path: str | os.PathLike, benchmark: str | BenchmarkSpec, results_dir: str | os.PathLike
) -> tuple[Any, Path]:
    """Check an EEE record and store it in ``results_dir`` as ``<stem>.eee.json`` (the file as
    given, validated), where :func:`~var_bench.leaderboard.board.build_leaderboard` reads it as a
    declared row. Returns (the row, the stored path).

    Raises:
        InputError: no EEE record, or none for ``benchmark`` (see :func:`declared_scores`).
    """
    spec = get_benchmark(benchmark)
    src = Path(path)
    entry = declared_entry(src, spec)
    stem = src.name.removesuffix(".json").removesuffix(".eee")
    target = Path(results_dir) / f"{stem}{IMPORTED_SUFFIX}"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, src.read_text("utf-8"))
    return entry, target


def declared_entry(path: Any, spec: Any) -> Entry:
    """An imported Every Eval Ever record as a leaderboard row of ``spec``'s task: its numbers as
    stated, flagged unverified (no per-query ranks: the tier tests use Wilson intervals, as for
    a paper row).

    Raises:
        InputError: the file is no EEE record for ``spec`` (see
            :func:`var_bench.leaderboard.adapters.eee.declared_scores`).
    """
    eee = read_eee(path)
    label = getattr(path, "name", str(path))
    task, metrics, summary = declared_scores(eee, spec, label)
    origin = eee.source_metadata.source_type
    return Entry(
        method=one_line(eee.model_info.name),
        kind=DECLARED_ROW,
        metrics=metrics,
        summary=summary,
        score=float(summary[task.main_score]),
        source=label,
        flags=(
            f"unverified: imported from {one_line(eee.eval_library.name)} "
            f"({'a paper or page' if origin == 'documentation' else 'an evaluation run'}, "
            "Every Eval Ever)",
        ),
        date=eee.evaluation_timestamp,
    )
