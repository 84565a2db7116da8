"""Re-verify user result records before they are ranked, for any task type.

A record is trusted only as far as its per-query counts go (retrieval: b, e): its metrics and
summaries are recomputed from them by its task under the record's own rule and must match what it
states; its query and gallery id hashes must equal the gold's (for today's benchmarks the hash of
the current canonical test id list); a record scored under another rule is re-scored under the
task's official rule (retrieval: ``expected`` ties) from the same counts.

Everything else a record states is either recomputed from those counts or not shown as fact:
its confidence intervals are recomputed (same method, level and seed; replicates capped at
:data:`MAX_REPLICATES`), its per-class breakdown is recomputed when the benchmark's class labels
are at hand and dropped otherwise, and :func:`recomputed_warnings` derives the warnings that the
counts themselves support. Each such step leaves a note on the :class:`VerifiedRecord`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from var_bench.benchmarks import BenchmarkSpec
from var_bench.errors import InputError
from var_bench.scoring.record import ResultRecord
from var_bench.scoring.stats import bootstrap, breakdown
from var_bench.tasks import Gold, IdList, Task

log = logging.getLogger(__name__)

#: The only split a leaderboard ranks.
LEADERBOARD_SPLIT = "test"

#: ``(spec, split) -> sha256`` of the canonical ordered id list (injectable for tests).
IdsHash = Callable[[BenchmarkSpec, str], str]

#: Most bootstrap replicates the leaderboard spends on recomputing one record's intervals: a
#: record may ask for any number (1e9 would run for hours); 10 000 is what ``score --ci`` uses.
MAX_REPLICATES = 10_000

# Stated metrics are floats written by the scorer; allow the last bits of a JSON round trip.
_REL_TOL = 1e-9
_ABS_TOL = 1e-6


@dataclass(frozen=True)
class VerifiedRecord:
    """A record that passed every check, with its values under the task's official rule.

    ``metrics``/``summary``/``score`` (the main score) are under the official rule;
    ``rescored_from`` names the record's own rule when it differed. ``ci`` is always recomputed
    from the per-query counts under the official rule (the record's level and seed, replicates
    capped), never copied; ``by_class`` is recomputed from the benchmark's class labels when the
    caller has them, else None. ``notes``: what was recomputed, capped or dropped; ``checks``:
    warnings derived from the counts (the task's :meth:`~var_bench.tasks.base.Task.checks`).
    """

    label: str
    record: ResultRecord
    task: Task
    metrics: dict[str, dict[str, float]]
    summary: dict[str, float]
    score: float
    rescored_from: str | None
    ci: dict[str, Any] | None
    by_class: dict[str, Any] | None
    notes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


def default_ids_hash(spec: BenchmarkSpec, split: str) -> str:
    """The shipped checksum of ``spec``'s ordered ``split`` id list (no download needed)."""
    from var_bench.data.splits import expected_ids_sha256  # the one place checksums live

    return expected_ids_sha256(spec, split)


def leaderboard_gold(
    spec: BenchmarkSpec, task: Task, ids_hash: IdsHash | None = None, home: Any = None
) -> Gold:
    """The test gold records are verified against: ``ids_hash`` (tests) replaces the shipped
    checksum of an identity gold; other golds come from the built dataset."""
    if ids_hash is not None and task.paired and spec.test_videos:
        return Gold.identity(IdList(spec.test_videos, ids_hash(spec, LEADERBOARD_SPLIT)))
    from var_bench.data.gold import load_gold

    return load_gold(spec, task, LEADERBOARD_SPLIT, home=home)


def recompute(
    task: Task, per_query: Mapping[str, Any], rule: str | None
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Metrics per group and the summaries from per-query counts under ``rule``."""
    metrics = {g: dict(task.summarise(q, rule)) for g, q in per_query.items()}
    return metrics, task.summary(metrics)


def _close(a: Any, b: float) -> bool:
    try:
        return math.isclose(float(a), b, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
    except (TypeError, ValueError):
        return False


def _check_shape(record: ResultRecord, task: Task, sizes: Mapping[str, int], label: str) -> None:
    want = list(task.groups)
    for what, got in (("metrics", list(record.metrics)), ("per_query", list(record.per_query))):
        if sorted(got) != sorted(want):
            raise InputError(
                f"record {label}: expected {what} for directions {', '.join(want)}, "
                f"got {', '.join(got) or 'none'}"
            )
    for g, q in record.per_query.items():
        n = task.query_count(q)
        if n != sizes[g]:
            raise InputError(
                f"record {label}: expected {sizes[g]} {task.per_query_noun} for {g}, got {n}"
            )


def verify_record(
    record: ResultRecord,
    spec: BenchmarkSpec,
    label: str,
    ids_hash: IdsHash | None = None,
    metadata: Any = None,
    gold: Gold | None = None,
) -> VerifiedRecord:
    """Check ``record`` (named ``label`` in messages) and return it under the official rule.

    Args:
        record: the record.
        spec: the benchmark it must be of.
        label: its name in messages.
        ids_hash: replaces the shipped id-list checksum (tests).
        metadata: the test table (``class``, ``anomalous`` in canonical order) to recompute the
            per-class breakdown from; without it a stated breakdown is dropped.
        gold: the test gold (default: :func:`leaderboard_gold`).

    Raises:
        InputError: its task is not one of the benchmark's, its groups or query counts are not
            the task's, its stated metrics differ from those recomputed from its per-query counts
            under its own rule, or its id hashes are not the gold's.
    """
    task = spec.task(record.task)
    gold = gold if gold is not None else leaderboard_gold(spec, task, ids_hash)
    _check_shape(record, task, task.group_sizes(gold), label)
    stated, stated_summary = recompute(task, record.per_query, record.ties)
    noun = task.per_query_noun
    for g in task.groups:
        for m in (m.name for m in task.metrics):
            if not _close(record.metrics[g].get(m), stated[g][m]):
                raise InputError(
                    f"record {label}: metrics do not match its {noun} ({g} {m}: states "
                    f"{record.metrics[g].get(m)!r}, {noun} give {stated[g][m]!r} under "
                    f"ties={record.ties})"
                )
    for name, value in stated_summary.items():
        if not _close(record.summary.get(name), value):
            raise InputError(
                f"record {label}: metrics do not match its {noun} ({name}: states "
                f"{record.summary.get(name)!r}, {noun} give {value!r})"
            )
    for what, got, want in (
        ("ids_sha256", record.query_ids_sha256, gold.queries.sha256),
        ("gallery ids_sha256", record.gallery_ids_sha256, gold.gallery.sha256),
    ):
        if got != want:
            raise InputError(
                f"record {label}: expected {what} {want} (the current {spec.name} test id "
                f"list), got {got or 'none'}; re-score the submission"
            )
    official = task.official_rule
    if record.ties == official:
        metrics, summary, rescored = stated, stated_summary, None
    else:
        metrics, summary = recompute(task, record.per_query, official)
        rescored = record.ties
        log.info("record %s: re-scored from ties=%s to ties=%s", label, record.ties, official)
    notes: list[str] = []
    ci = _recomputed_ci(task, record, notes)
    by_class = None
    if record.by_class is not None or metadata is not None:
        if metadata is not None:
            by_class = breakdown.by_class(
                task, record.per_query, metadata, official, classes=spec.classes
            )
            if record.by_class is not None:
                notes.append(f"per-class table recomputed from the {noun}")
        else:
            notes.append(
                "per-class table dropped: the class labels were not at hand to recompute it"
            )
    from var_bench.scoring.record import main_value

    return VerifiedRecord(
        label,
        record,
        task,
        metrics,
        summary,
        main_value(task.main_score, metrics, summary),
        rescored,
        ci,
        by_class,
        tuple(notes),
        task.checks(record.per_query, official),
    )


def _recomputed_ci(task: Task, record: ResultRecord, notes: list[str]) -> dict[str, Any] | None:
    """The record's bootstrap intervals recomputed under the official rule from its counts.

    Settings come from the record (level, seed, replicates) when they are well-formed, replicates
    capped at :data:`MAX_REPLICATES`; malformed settings drop the intervals with a note.
    """
    if not record.ci:
        return None
    if not isinstance(record.ci, Mapping):
        notes.append("intervals dropped: the record's ci is not an object")
        return None
    level, seed, replicates = (record.ci.get(k) for k in ("level", "seed", "replicates"))
    level = 0.95 if level is None else level
    seed = 0 if seed is None else seed
    replicates = MAX_REPLICATES if replicates is None else replicates
    ok = (
        isinstance(level, (int, float))
        and not isinstance(level, bool)
        and 0 < level < 1
        and isinstance(seed, int)
        and not isinstance(seed, bool)
        and 0 <= seed < 2**63
        and isinstance(replicates, (int, float))
        and not isinstance(replicates, bool)
        and math.isfinite(replicates)
        and replicates >= 1
    )
    if not ok:
        notes.append("intervals dropped: the record's ci settings are malformed")
        return None
    if replicates > MAX_REPLICATES:
        notes.append(
            f"intervals recomputed with {MAX_REPLICATES} bootstrap replicates (the record "
            f"asked for {replicates:g})"
        )
        replicates = MAX_REPLICATES
    else:
        notes.append(f"intervals recomputed from the {task.per_query_noun}")
    return bootstrap.bootstrap_ci(
        task,
        record.per_query,
        task.official_rule,
        replicates=int(replicates),
        level=float(level),
        seed=seed,
    )


def _load_one(path: Path) -> dict[str, Any]:
    from var_bench.scoring.record_checks import parse_record_json

    try:
        # No NaN/Infinity literals, bounded depth (issue 11): one line, never an internal error.
        data = parse_record_json(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(
            f"{path}: expected a result record (JSON), got an unreadable file ({e})"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected a result record (a JSON object), got {type(data).__name__}"
        )
    return data


#: Top-level keys of an Every Eval Ever record (``var-bench import`` reads those files).
EEE_KEYS = ("schema_version", "evaluation_results")


def is_eee(data: Any) -> bool:
    """True for a JSON object that looks like an EEE record (not a result record)."""
    return isinstance(data, dict) and all(k in data for k in EEE_KEYS) and "benchmark" not in data


def load_records(
    results_dir: str | os.PathLike, spec: BenchmarkSpec, task: Task | None = None
) -> list[tuple[Path, ResultRecord]]:
    """Every ``*.json`` result record in ``results_dir`` (sorted by name) for ``spec``'s test split
    (and ``task``, default the benchmark's first).

    Records of other benchmarks, tasks or splits are skipped with a logged note; a JSON object that
    is no result record at all (no ``benchmark`` key: a ``compare --json`` output, notes) is skipped
    with one warning line; a file that is not JSON, or a malformed record, is a one-line
    :class:`InputError` naming it.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError(f"--results: expected a folder of result records, got {str(folder)!r}")
    found: list[tuple[Path, ResultRecord]] = []
    for path in sorted(folder.glob("*.json")):
        data = _load_one(path)
        if is_eee(data):
            continue  # an imported Every Eval Ever record: a declared row, not a result record
        name = data.get("benchmark")
        if "benchmark" not in data:
            log.warning(
                "%s: skipped, not a result record (expected the key 'benchmark' of a "
                "'var-bench score --json' record)",
                path,
            )
            continue
        if name != spec.name:
            log.info("%s: skipped, a record of benchmark %r, not %s", path, name, spec.name)
            continue
        want_task = (task or spec.task()).name
        if data.get("task", spec.task().name) != want_task:
            log.info("%s: skipped, a record of task %r, not %s", path, data.get("task"), want_task)
            continue
        if data.get("split") != LEADERBOARD_SPLIT:
            log.info(
                "%s: skipped, a record of split %r, not %s",
                path,
                data.get("split"),
                LEADERBOARD_SPLIT,
            )
            continue
        try:
            record = ResultRecord.from_dict(data)
        except InputError as e:
            raise InputError(f"{path}: {e}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(
                f"{path}: expected a result record, got a malformed one ({e})"
            ) from None
        found.append((path, record))
    return found
