"""The result of assembling one benchmark from its raw files, before anything is written, and the
checks every assembler runs on its split tables."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from var_bench.benchmarks.kit.sources import Clip
from var_bench.benchmarks.kit.validation import ValidationRule, validation_mask
from var_bench.benchmarks.spec import SPLITS, BenchmarkSpec
from var_bench.errors import DataError

if TYPE_CHECKING:  # pandas is imported by the assemblers that build the tables, not here
    import pandas as pd


@dataclass
class Assembled:
    """Per split, a table in canonical order; ``notes`` records every quirk the build repaired.

    ``videos``: per split, the gallery table (``video_id`` first) when the split tables hold
    queries that are not the videos themselves (a ``query_id`` column and the positive videos of
    each query in ``video_ids``: a table gold); None when each row is one video and its query.
    """

    splits: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    videos: dict[str, pd.DataFrame] | None = None
    #: Per split, the source clip of every video in canonical order (:class:`~.sources.Clip`),
    #: when the unit's upstream names carry a source; None otherwise.
    clips: dict[str, list[Clip]] | None = None
    #: The naming rule the clips were read by (one paragraph, shown by ``var-bench audit``).
    source_rule: str | None = None


def check_class_counts(spec: BenchmarkSpec, split: str, df: pd.DataFrame) -> None:
    """Videos per class must equal the spec's expected counts (1610/290, 3954/800 and per class)."""
    want = {c: n for c, n in spec.upstream_class_counts[split].items() if n}
    got = dict(Counter(df["class"]))
    if got != want:
        diff = {
            c: (want.get(c, 0), got.get(c, 0))
            for c in sorted(set(want) | set(got))
            if want.get(c, 0) != got.get(c, 0)
        }
        raise DataError(
            f"{spec.name} {split}: expected {sum(want.values())} videos with the published class "
            f"counts, got {len(df)}; (expected, got) per class: {diff}"
        )


def carve_validation(
    upstream: dict[str, pd.DataFrame], rule: ValidationRule
) -> dict[str, pd.DataFrame]:
    """Upstream {train, test} -> {train, val, test} by the validation rule (upstream order kept)."""
    src = upstream[rule.source_split]
    mask = np.array(
        validation_mask(list(src["video_id"]), list(src[rule.group_by]), rule.denominator),
        dtype=bool,
    )
    out = dict(upstream)
    out["val"] = src[mask].reset_index(drop=True)
    out[rule.source_split] = src[~mask].reset_index(drop=True)
    return {s: out[s].reset_index(drop=True) for s in SPLITS}


def check_disjoint(spec: BenchmarkSpec, splits: dict[str, pd.DataFrame]) -> None:
    """No video may sit in two splits: a video seen in training must never be scored in test."""
    seen: dict[str, str] = {}
    for name, df in splits.items():
        for vid in df["video_id"]:
            if vid in seen:
                raise DataError(
                    f"{spec.name}: expected disjoint splits, got {vid!r} in both "
                    f"{seen[vid]} and {name}"
                )
            seen[vid] = name
