"""Split rules and id-list checksums, read from each benchmark unit's ``splits.json``.

The repository never holds upstream ids: only the validation rule and the sha256 of each built,
ordered id list (``sha256("\\n".join(ids) + "\\n")``, the bytes ``var-bench ids`` prints). A build
whose lists hash differently fails; a result record carries the hash so scores stay traceable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from var_bench.benchmarks import SPLITS, BenchmarkSpec
from var_bench.benchmarks.kit import ValidationRule
from var_bench.errors import DataError, InputError
from var_bench.fsutil import sha256_lines

#: The file, in each benchmark's package, holding its validation rule and id-list checksums.
SPLITS_FILE = "splits.json"


@dataclass(frozen=True)
class SplitInfo:
    """A benchmark's split rule and the sha256 of every built, ordered id list: the split
    tables' ids (query ids when the benchmark has a ``query_id`` column, else video ids) and,
    for a benchmark with gallery tables, their video ids (``videos_sha256``). ``rule``: how val is
    carved from upstream train; None when the benchmark ships its own val split."""

    benchmark: str
    rule: ValidationRule | None
    ids_sha256: Mapping[str, str]
    videos_sha256: Mapping[str, str] | None = None


def split_info(spec: BenchmarkSpec) -> SplitInfo:
    """The rule and checksums shipped for the benchmark ``spec``."""
    return _load(spec)


@cache
def _load(spec: BenchmarkSpec) -> SplitInfo:
    raw = json.loads(spec.resource_text(SPLITS_FILE))
    rule = raw.get("validation_rule")  # absent: the benchmark ships its own val split
    return SplitInfo(
        benchmark=raw["benchmark"],
        rule=(
            None
            if rule is None
            else ValidationRule(rule["source_split"], rule["group_by"], int(rule["denominator"]))
        ),
        ids_sha256=dict(raw["ids_sha256"]),
        videos_sha256=dict(raw["videos_sha256"]) if raw.get("videos_sha256") else None,
    )


def expected_ids_sha256(spec: BenchmarkSpec, split: str) -> str:
    """sha256 of the canonical ordered id list of ``split``, with no download needed."""
    if split not in SPLITS:
        raise InputError(f"split: expected one of {', '.join(SPLITS)}, got {split!r}")
    return split_info(spec).ids_sha256[split]


def check_ids(
    spec: BenchmarkSpec,
    split: str,
    ids: Sequence[str],
    info: SplitInfo | None = None,
    *,
    videos: bool = False,
) -> str:
    """The ids' sha256; :class:`DataError` if it differs from the checksum in ``info`` (default:
    the benchmark's shipped ``splits.json``); ``videos``: the gallery table's ids."""
    got = sha256_lines(list(ids))
    info = info or split_info(spec)
    table = info.videos_sha256 if videos else info.ids_sha256
    if table is None:
        raise DataError(
            f"{spec.name}: the build has video tables, but {spec.resource_location}/"
            f"{SPLITS_FILE} lists no videos_sha256"
        )
    want = table[split]
    if got != want:
        raise DataError(
            f"{spec.name} {split}: ordered id list sha256 expected {want} "
            f"({spec.resource_location}/{SPLITS_FILE}), got {got} from {len(ids)} ids; "
            f"upstream changed or the build is wrong"
        )
    return got
