"""Re-verify user result records before they are ranked.

A record is trusted only as far as its per-query counts (b, e) go: its metrics are recomputed from
them under the record's own tie rule and must match what it states; its ``ids_sha256`` must equal
the hash of the benchmark's current canonical test id list; a record scored under another tie
rule is re-scored under the leaderboard rule (``expected``) from the same counts.
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
from var_bench.scoring.metrics import bootstrap, ranks
from var_bench.scoring.metrics.counts import QueryRanks
from var_bench.scoring.metrics.names import DEFAULT_TIES, METRICS, SUMR
from var_bench.scoring.record import ResultRecord

log = logging.getLogger(__name__)

#: The tie rule every leaderboard entry is ranked under.
LEADERBOARD_TIES = DEFAULT_TIES
#: The only split a leaderboard ranks.
LEADERBOARD_SPLIT = "test"

#: ``(spec, split) -> sha256`` of the canonical ordered id list (injectable for tests).
IdsHash = Callable[[BenchmarkSpec, str], str]

# Stated metrics are floats written by the scorer; allow the last bits of a JSON round trip.
_REL_TOL = 1e-9
_ABS_TOL = 1e-6


@dataclass(frozen=True)
class VerifiedRecord:
    """A record that passed every check, with its values under the leaderboard tie rule.

    ``metrics``/``sumr`` are under :data:`LEADERBOARD_TIES`; ``rescored_from`` names the record's
    own tie rule when it differed. Then its ``ci`` is recomputed under the leaderboard rule (same
    method, level, replicates and seed), and its ``by_class`` is dropped: the class of each query
    is not in the record, so the breakdown cannot be recomputed.
    """

    label: str
    record: ResultRecord
    metrics: dict[str, dict[str, float]]
    sumr: float
    rescored_from: str | None
    ci: dict[str, Any] | None
    by_class: dict[str, Any] | None


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
) -> VerifiedRecord:
    """Check ``record`` (named ``label`` in messages) and return it under the leaderboard rule.

    Raises :class:`InputError` when its directions or query counts are not the benchmark's, when
    its stated metrics differ from those recomputed from its per-query counts under its own tie
    rule, or when its ``ids_sha256`` is not the benchmark's current test id-list hash.
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
        return VerifiedRecord(label, record, stated, stated_sumr, None, record.ci, record.by_class)
    metrics, sumr = recompute(record.per_query, LEADERBOARD_TIES)
    log.info("record %s: re-scored from ties=%s to ties=%s", label, record.ties, LEADERBOARD_TIES)
    return VerifiedRecord(label, record, metrics, sumr, record.ties, _rescored_ci(record), None)


def _rescored_ci(record: ResultRecord) -> dict[str, Any] | None:
    """The record's bootstrap intervals recomputed under the leaderboard rule, same settings."""
    if not record.ci:
        return None
    settings = {k: record.ci[k] for k in ("replicates", "level", "seed") if k in record.ci}
    return bootstrap.bootstrap_ci(record.per_query, LEADERBOARD_TIES, **settings)


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

    Records of other benchmarks or splits are skipped with a logged note; a file that is not a
    result record is a one-line :class:`InputError` naming it.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError(f"--results: expected a folder of result records, got {str(folder)!r}")
    found: list[tuple[Path, ResultRecord]] = []
    for path in sorted(folder.glob("*.json")):
        data = _load_one(path)
        name = data.get("benchmark")
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
