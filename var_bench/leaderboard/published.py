"""The published results (Tables II and III of Wu et al., TIP 2024, and its ablation Tables
IV-X), shipped as package data.

Each benchmark unit ships ``published.json`` (``var_bench/benchmarks/<unit>/``), holding every
number exactly as printed in the paper (one decimal, never recomputed; MnR was not published and
is null), for one of the benchmark's tasks (``"task"``, default its first). This module reads it
and checks its shape against that task's groups, metrics and summaries, so the data cannot drift
from them. The optional ``"ablations"`` object holds the paper's ablation tables, by name
(``sampling``, ``vpmpm``, ``alignment``, ``alpha``): per row the printed ``setting``, the
``trial`` of ``var-bench reproduce --ablation`` that reruns it and the metrics printed (a subset
of the task's, R@1 and R@10 in the paper), per group.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import DataError, InputError
from var_bench.tasks import Task

RESOURCE = "published.json"


@dataclass(frozen=True)
class PublishedRow:
    """One method's published row: ``metrics[group][metric]`` (None = not published), the
    summaries as printed and ``score``, the main score."""

    method: str
    metrics: Mapping[str, Mapping[str, float | None]]
    summary: Mapping[str, float]
    score: float
    text_features: str | None
    #: Registered model name that reruns this row (``var-bench train --model NAME``), if any.
    reference_model: str | None = None


@dataclass(frozen=True)
class TrainingOverlap:
    """A dataset whose training split holds test videos: ``pattern`` (a case-insensitive regular
    expression) matched against a record's declared training data flags it as leakage."""

    dataset: str
    pattern: str
    test_videos: int
    note: str


@dataclass(frozen=True)
class AblationRow:
    """One row of a published ablation table: the ``setting`` as printed, the reproduce ``trial``
    that reruns it, and ``metrics[group][metric]`` (only the metrics the paper printed)."""

    setting: str
    trial: str
    metrics: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class AblationTable:
    """A published ablation table: ``name`` (the ``--ablation`` name), ``source`` (which table of
    the paper) and its ``rows`` in the paper's order."""

    name: str
    source: str
    rows: tuple[AblationRow, ...]

    def row(self, trial: str) -> AblationRow | None:
        """The row that ``trial`` reruns, or None."""
        return next((r for r in self.rows if r.trial == trial), None)


@dataclass(frozen=True)
class PublishedTable:
    """A benchmark's published table, rows in the paper's order; ``note``: the benchmark's note
    (e.g. which text features the baselines used) then how the numbers were transcribed."""

    benchmark: str
    task: str
    source: str
    paper: str
    note: str
    rows: tuple[PublishedRow, ...]
    #: The video (and audio) features the paper's rows used, e.g. "I3D RGB+Flow".
    features: str | None = None
    #: Known overlaps of other datasets' training splits with this test split.
    overlaps: tuple[TrainingOverlap, ...] = ()
    #: The paper's ablation tables on this benchmark, by name.
    ablations: Mapping[str, AblationTable] = field(default_factory=lambda: MappingProxyType({}))


def _row(spec: BenchmarkSpec, task: Task, raw: Mapping[str, Any]) -> PublishedRow:
    method = raw["method"]
    if list(raw["metrics"]) != list(task.groups):
        raise DataError(
            f"{RESOURCE} {spec.name} {method}: expected directions {', '.join(task.groups)}, "
            f"got {', '.join(raw['metrics'])}"
        )
    names = [m.name for m in task.metrics]
    for group, values in raw["metrics"].items():
        if list(values) != names:
            raise DataError(
                f"{RESOURCE} {spec.name} {method} {group}: expected metrics "
                f"{', '.join(names)}, got {', '.join(values)}"
            )
    metrics = MappingProxyType({d: MappingProxyType(dict(v)) for d, v in raw["metrics"].items()})
    summary = MappingProxyType(
        {s.name: float(raw[s.name]) for s in task.summaries if raw.get(s.name) is not None}
    )
    if task.main_is_summary and task.main_score not in summary:
        raise DataError(
            f"{RESOURCE} {spec.name} {method}: expected its {task.main_score}, got none"
        )
    score = (
        summary[task.main_score]
        if task.main_is_summary
        else float(next(iter(metrics.values()))[task.main_score])
    )
    return PublishedRow(
        method, metrics, summary, score, raw.get("text_features"), raw.get("reference_model")
    )


def _ablation(spec: BenchmarkSpec, task: Task, name: str, raw: Mapping[str, Any]) -> AblationTable:
    names = {m.name for m in task.metrics}
    rows = []
    for r in raw["rows"]:
        where = f"{RESOURCE} {spec.name} ablation {name} {r['setting']!r}"
        if list(r["metrics"]) != list(task.groups):
            raise DataError(
                f"{where}: expected directions {', '.join(task.groups)}, "
                f"got {', '.join(r['metrics'])}"
            )
        for group, values in r["metrics"].items():
            unknown = [m for m in values if m not in names]
            if unknown or not values:
                raise DataError(
                    f"{where} {group}: expected metrics among {', '.join(sorted(names))}, "
                    f"got {', '.join(values) or 'none'}"
                )
        metrics = MappingProxyType(
            {
                g: MappingProxyType({m: float(v) for m, v in vals.items()})
                for g, vals in r["metrics"].items()
            }
        )
        rows.append(AblationRow(str(r["setting"]), str(r["trial"]), metrics))
    trials = [r.trial for r in rows]
    if len(set(trials)) != len(trials):
        raise DataError(f"{RESOURCE} {spec.name} ablation {name}: expected unique trials")
    return AblationTable(name, str(raw["source"]), tuple(rows))


def published_ablation(benchmark: str | BenchmarkSpec, name: str) -> AblationTable | None:
    """The paper's ablation table ``name`` on ``benchmark`` (None: not published for it)."""
    return published_table(benchmark).ablations.get(name)


def published_table(benchmark: str | BenchmarkSpec) -> PublishedTable:
    """The published table of ``benchmark`` (validated against its task's groups and metrics)."""
    return _table(get_benchmark(benchmark))


@cache
def _table(spec: BenchmarkSpec) -> PublishedTable:
    try:
        text = spec.resource_text(RESOURCE)
    except (InputError, FileNotFoundError):  # a benchmark with no published results yet
        return PublishedTable(spec.name, spec.task().name, "", "", "", ())
    table = json.loads(text)
    names = [t.name for t in spec.tasks]
    if table.get("task", names[0]) not in names:  # published for a task this spec does not have
        return PublishedTable(spec.name, spec.task().name, "", "", "", ())
    try:
        task = spec.task(table.get("task"))
        rows = tuple(_row(spec, task, r) for r in table["rows"])
        note = " ".join(n for n in (table.get("note"), table["transcription_note"]) if n)
        overlaps = tuple(
            TrainingOverlap(o["dataset"], o["pattern"], int(o["test_videos"]), o["note"])
            for o in table.get("training_data_overlaps", ())
        )
        ablations = MappingProxyType(
            {
                name: _ablation(spec, task, name, raw)
                for name, raw in (table.get("ablations") or {}).items()
            }
        )
        return PublishedTable(
            spec.name,
            task.name,
            table["source"],
            table["paper"],
            note,
            rows,
            table.get("features"),
            overlaps,
            ablations,
        )
    except KeyError as e:
        raise DataError(f"{RESOURCE}: expected key {e} for {spec.name}, it is missing") from None
