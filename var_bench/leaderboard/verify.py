"""Re-verify user result records before they are ranked.

A record is trusted only as far as its per-query counts (b, e) go: its metrics are recomputed from
them under the record's own tie rule and must match what it states; its ``ids_sha256`` must equal
the hash of the benchmark's current canonical test id list; a record scored under another tie
rule is re-scored under the leaderboard rule (``expected``) from the same counts.

Everything else a record states is either recomputed from those counts or not shown as fact:
its confidence intervals are recomputed (same method, level and seed; replicates capped at
:data:`MAX_REPLICATES`), its per-class breakdown is recomputed when the benchmark's class labels
are at hand and dropped otherwise, and :func:`recomputed_warnings` derives the warnings that the
counts themselves support. Each such step leaves a note on the :class:`VerifiedRecord`.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from var_bench.benchmarks import BenchmarkSpec
from var_bench.errors import InputError
from var_bench.scoring.stats import bootstrap, breakdown
from var_bench.tasks.retrieval import ranks
from var_bench.tasks.retrieval.counts import QueryRanks
from var_bench.tasks.retrieval.names import DEFAULT_TIES, METRICS, SUMR
from var_bench.scoring.record import ResultRecord

log = logging.getLogger(__name__)

#: The tie rule every leaderboard entry is ranked under.
LEADERBOARD_TIES = DEFAULT_TIES
#: The only split a leaderboard ranks.
LEADERBOARD_SPLIT = "test"

#: ``(spec, split) -> sha256`` of the canonical ordered id list (injectable for tests).
IdsHash = Callable[[BenchmarkSpec, str], str]

#: Most bootstrap replicates the leaderboard spends on recomputing one record's intervals: a
#: record may ask for any number (1e9 would run for hours); 10 000 is what ``score --ci`` uses.
MAX_REPLICATES = 10_000
#: Share of tied queries from which the counts alone earn a warning (a zero-padded top-k list
#: or quantised scores): real float scores tie almost never.
TIED_SHARE_WARNING = 0.25

# Stated metrics are floats written by the scorer; allow the last bits of a JSON round trip.
_REL_TOL = 1e-9
_ABS_TOL = 1e-6


@dataclass(frozen=True)
class VerifiedRecord:
    """A record that passed every check, with its values under the leaderboard tie rule.

    ``metrics``/``sumr`` are under :data:`LEADERBOARD_TIES`; ``rescored_from`` names the record's
    own tie rule when it differed. ``ci`` is always recomputed from the per-query counts under the
    leaderboard rule (the record's level and seed, replicates capped), never copied; ``by_class``
    is recomputed from the benchmark's class labels when the caller has them, else None.
    ``notes``: what was recomputed, capped or dropped; ``checks``: warnings derived from the
    counts (:func:`recomputed_warnings`).
    """

    label: str
    record: ResultRecord
    metrics: dict[str, dict[str, float]]
    sumr: float
    rescored_from: str | None
    ci: dict[str, Any] | None
    by_class: dict[str, Any] | None
    notes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


def default_ids_hash(spec: BenchmarkSpec, split: str) -> str:
    """The shipped checksum of ``spec``'s ordered ``split`` id list (no download needed)."""
    from var_bench.data.splits import expected_ids_sha256  # the one place checksums live

    return expected_ids_sha256(spec, split)


def recompute(
    per_query: Mapping[str, QueryRanks], ties: str
) -> tuple[dict[str, dict[str, float]], float]:
    """Metrics per direction and SumR from per-query counts under ``ties`` (via metrics.ranks)."""
    metrics = {d: dict(ranks.summarise(q, ties=ties)) for d, q in per_query.items()}
    return metrics, float(ranks.sum_recall(metrics))


def _close(a: Any, b: float) -> bool:
    try:
        return math.isclose(float(a), b, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
    except (TypeError, ValueError):
        return False


def _check_shape(record: ResultRecord, spec: BenchmarkSpec, label: str) -> None:
    want = list(spec.direction_names)
    for what, got in (("metrics", list(record.metrics)), ("per_query", list(record.per_query))):
        if sorted(got) != sorted(want):
            raise InputError(
                f"record {label}: expected {what} for directions {', '.join(want)}, "
                f"got {', '.join(got) or 'none'}"
            )
    for d, q in record.per_query.items():
        if len(q) != spec.test_size:
            raise InputError(
                f"record {label}: expected {spec.test_size} per-query ranks for {d}, got {len(q)}"
            )


def verify_record(
    record: ResultRecord,
    spec: BenchmarkSpec,
    label: str,
    ids_hash: IdsHash | None = None,
    metadata: Any = None,
) -> VerifiedRecord:
    """Check ``record`` (named ``label`` in messages) and return it under the leaderboard rule.

    Raises :class:`InputError` when its directions or query counts are not the benchmark's, when
    its stated metrics differ from those recomputed from its per-query counts under its own tie
    rule, or when its ``ids_sha256`` is not the benchmark's current test id-list hash.
    ``metadata``: the test table (``class``, ``anomalous`` in canonical order) to recompute the
    per-class breakdown from; without it a stated breakdown is dropped.
    """
    _check_shape(record, spec, label)
    stated, stated_sumr = recompute(record.per_query, record.ties)
    for d in spec.direction_names:
        for m in METRICS:
            if not _close(record.metrics[d].get(m), stated[d][m]):
                raise InputError(
                    f"record {label}: metrics do not match its per-query ranks ({d} {m}: states "
                    f"{record.metrics[d].get(m)!r}, per-query ranks give {stated[d][m]!r} under "
                    f"ties={record.ties})"
                )
    if not _close(record.SumR, stated_sumr):
        raise InputError(
            f"record {label}: metrics do not match its per-query ranks ({SUMR}: states "
            f"{record.SumR!r}, per-query ranks give {stated_sumr!r})"
        )
    want_ids = (ids_hash or default_ids_hash)(spec, LEADERBOARD_SPLIT)
    if record.ids_sha256 != want_ids:
        raise InputError(
            f"record {label}: expected ids_sha256 {want_ids} (the current {spec.name} test id "
            f"list), got {record.ids_sha256 or 'none'}; re-score the submission"
        )
    if record.ties == LEADERBOARD_TIES:
        metrics, sumr, rescored = stated, stated_sumr, None
    else:
        metrics, sumr = recompute(record.per_query, LEADERBOARD_TIES)
        rescored = record.ties
        log.info("record %s: re-scored from ties=%s to ties=%s", label, record.ties, LEADERBOARD_TIES)
    notes: list[str] = []
    ci = _recomputed_ci(record, notes)
    by_class = None
    if record.by_class is not None or metadata is not None:
        if metadata is not None:
            by_class = breakdown.by_class(record.per_query, metadata, LEADERBOARD_TIES,
                                          classes=spec.classes)
            if record.by_class is not None:
                notes.append("per-class table recomputed from the per-query ranks")
        else:
            notes.append("per-class table dropped: the class labels were not at hand to "
                         "recompute it")
    return VerifiedRecord(label, record, metrics, sumr, rescored, ci, by_class, tuple(notes),
                          recomputed_warnings(record.per_query, sumr, spec))


def recomputed_warnings(per_query: Mapping[str, QueryRanks], sumr: float,
                        spec: BenchmarkSpec) -> tuple[str, ...]:
    """Warnings the per-query counts support on their own, whatever the record says.

    * a perfect SumR (every true item first in both directions: an oracle or a leak, not a model);
    * at least :data:`TIED_SHARE_WARNING` of a direction's queries tied with other items (e > 0),
      which is what a zero-padded top-k list or quantised scores give.
    """
    found = []
    if math.isclose(sumr, 100.0 * 3 * len(per_query)):
        found.append("implausible: perfect SumR (every true item ranked first): an oracle or "
                     "a leak of the test answers, not a model")
    for d, q in per_query.items():
        share = ranks.tied_query_count(q) / max(1, len(q))
        if share >= TIED_SHARE_WARNING:
            found.append(f"{d}: {100 * share:.0f}% of the queries are tied with other items "
                         f"(zero-padded top-k lists or quantised scores?)")
    return tuple(found)


def _recomputed_ci(record: ResultRecord, notes: list[str]) -> dict[str, Any] | None:
    """The record's bootstrap intervals recomputed under the leaderboard rule from its counts.

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
    ok = (isinstance(level, (int, float)) and not isinstance(level, bool) and 0 < level < 1
          and isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2 ** 63
          and isinstance(replicates, (int, float)) and not isinstance(replicates, bool)
          and math.isfinite(replicates) and replicates >= 1)
    if not ok:
        notes.append("intervals dropped: the record's ci settings are malformed")
        return None
    if replicates > MAX_REPLICATES:
        notes.append(f"intervals recomputed with {MAX_REPLICATES} bootstrap replicates (the record "
                     f"asked for {replicates:g})")
        replicates = MAX_REPLICATES
    else:
        notes.append("intervals recomputed from the per-query ranks")
    return bootstrap.bootstrap_ci(record.per_query, LEADERBOARD_TIES, replicates=int(replicates),
                                  level=float(level), seed=seed)


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
        raise InputError(f"{path}: expected a result record (a JSON object), got {type(data).__name__}")
    return data


def load_records(
    results_dir: str | os.PathLike, spec: BenchmarkSpec
) -> list[tuple[Path, ResultRecord]]:
    """Every ``*.json`` result record in ``results_dir`` (sorted by name) for ``benchmark``'s test split.

    Records of other benchmarks or splits are skipped with a logged note; a JSON object that is
    no result record at all (no ``benchmark`` key: a ``compare --json`` output,
    notes) is skipped with one warning line; a file that is not JSON, or a malformed record, is a
    one-line :class:`InputError` naming it.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError(f"--results: expected a folder of result records, got {str(folder)!r}")
    found: list[tuple[Path, ResultRecord]] = []
    for path in sorted(folder.glob("*.json")):
        data = _load_one(path)
        name = data.get("benchmark")
        if "benchmark" not in data:
            log.warning("%s: skipped, not a result record (expected the key 'benchmark' of a "
                        "'var-bench score --json' record)", path)
            continue
        if name != spec.name:
            log.info("%s: skipped, a record of benchmark %r, not %s", path, name, spec.name)
            continue
        if data.get("split") != LEADERBOARD_SPLIT:
            log.info("%s: skipped, a record of split %r, not %s", path, data.get("split"),
                     LEADERBOARD_SPLIT)
            continue
        try:
            record = ResultRecord.from_dict(data)
        except InputError as e:
            raise InputError(f"{path}: {e}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(f"{path}: expected a result record, got a malformed one ({e})") from None
        found.append((path, record))
    return found
