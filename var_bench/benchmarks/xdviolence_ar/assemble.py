"""Assemble XDViolence-AR from its raw files (VGGish lists, test temporal annotations): the unit's
assembler, which the spec names lazily so that only a build imports pandas."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from var_bench.benchmarks.kit import (
    Assembled,
    ValidationRule,
    carve_validation,
    check_class_counts,
    check_disjoint,
)
from var_bench.benchmarks.spec import BenchmarkSpec
from var_bench.benchmarks.xdviolence_ar.annotations import read_xd_annotations
from var_bench.benchmarks.xdviolence_ar.lists import read_xd_list, xd_label_codes
from var_bench.benchmarks.xdviolence_ar.sources import SOURCE_RULE, xd_clip
from var_bench.errors import DataError

NORMAL_CODE = "A"


def _table(spec: BenchmarkSpec, ids: list[str], source: str) -> pd.DataFrame:
    rows = []
    for i, vid in enumerate(ids):
        codes = xd_label_codes(vid)
        unknown = [c for c in codes if c not in spec.class_codes]
        if not codes or unknown or (NORMAL_CODE in codes and codes != [NORMAL_CODE]):
            raise DataError(
                f"{source}: expected label codes from {', '.join(spec.class_codes)} "
                f"(A alone for normal videos), got {codes} in {vid!r}"
            )
        names = [spec.class_codes[c] for c in codes]
        rows.append(
            {
                "video_id": vid,
                "class": names[0],
                "anomalous": codes != [NORMAL_CODE],
                "labels": codes,
                "label_names": names,
                "upstream_index": i,
            }
        )
    df = pd.DataFrame.from_records(rows)
    dup = df["video_id"][df["video_id"].duplicated()]
    if len(dup):
        raise DataError(f"{source}: expected each video once, got {dup.iloc[0]!r} more than once")
    return df


def assemble(spec: BenchmarkSpec, raw: Mapping[str, Path], rule: ValidationRule) -> Assembled:
    """Raw files (by role, see ``spec.sources``) -> train/val/test tables in canonical order."""
    notes: list[str] = []
    train = _table(spec, read_xd_list(raw["list_train"]), raw["list_train"].name)
    test = _table(spec, read_xd_list(raw["list_test"]), raw["list_test"].name)
    for split, df in (("train", train), ("test", test)):
        check_class_counts(spec, split, df)

    parsed = read_xd_annotations(raw["annotation_test"])
    annotations = parsed.segments
    violent = set(test.loc[test["anomalous"], "video_id"])
    if set(annotations) != violent:
        missing, extra = sorted(violent - set(annotations)), sorted(set(annotations) - violent)
        raise DataError(
            f"{raw['annotation_test'].name}: expected one line per violent test video "
            f"({len(violent)}), got {len(missing)} missing (e.g. {missing[:1]}) and "
            f"{len(extra)} not violent test videos (e.g. {extra[:1]})"
        )
    if parsed.stripped_mp4:
        notes.append(
            f"{raw['annotation_test'].name}: stripped a stray .mp4 from {parsed.stripped_mp4} names"
        )
    test = test.assign(segments=[annotations.get(v, []) for v in test["video_id"]])
    train = train.assign(segments=None)
    splits = carve_validation({"train": train, "test": test}, rule)
    check_disjoint(spec, splits)
    clips = {split: [xd_clip(v) for v in df["video_id"]] for split, df in splits.items()}
    return Assembled(splits, notes, clips=clips, source_rule=SOURCE_RULE)
