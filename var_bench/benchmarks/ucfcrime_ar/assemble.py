"""Assemble UCFCrime-AR from its raw files (captions, split list, temporal annotations): the
unit's assembler, which the spec names lazily so that only a build imports openpyxl and pandas."""

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
    read_lines,
)
from var_bench.benchmarks.spec import BenchmarkSpec
from var_bench.benchmarks.ucfcrime_ar.annotations import (
    clip_segments,
    read_ucf_frames,
    read_ucf_temporal,
)
from var_bench.benchmarks.ucfcrime_ar.captions import read_captions
from var_bench.errors import DataError

#: UCF-Crime keeps normal videos in these folders; their class is the spec's normal class.
NORMAL_FOLDERS = ("Training_Normal_Videos_Anomaly", "Testing_Normal_Videos_Anomaly")


def _classify(spec: BenchmarkSpec, df: pd.DataFrame, name: str) -> pd.DataFrame:
    def cls(folder: str) -> str:
        if folder in NORMAL_FOLDERS:
            return spec.normal_class
        if folder in spec.classes and folder != spec.normal_class:
            return folder
        raise DataError(
            f"{name}: expected a class folder ({', '.join(spec.classes[:-1])} or "
            f"{' / '.join(NORMAL_FOLDERS)}), got {folder!r}"
        )

    df = df.copy()
    df["class"] = df["folder"].map(cls)
    df["anomalous"] = df["class"] != spec.normal_class
    return df


def _attach_test_annotations(
    df: pd.DataFrame, temporal_path: Path, frames_path: Path, notes: list[str]
) -> pd.DataFrame:
    temporal = read_ucf_temporal(temporal_path)
    frames = read_ucf_frames(frames_path)
    ids = set(df["video_id"])
    for source, table in ((temporal_path.name, temporal), (frames_path.name, frames)):
        if set(table) != ids:
            missing, extra = sorted(ids - set(table)), sorted(set(table) - ids)
            raise DataError(
                f"{source}: expected the {len(ids)} test videos of the captions, got "
                f"{len(missing)} missing (e.g. {missing[:1]}) and {len(extra)} extra "
                f"(e.g. {extra[:1]})"
            )
    num_frames, segments = [], []
    for vid, cls in zip(df["video_id"], df["class"]):
        t, f = temporal[vid], frames[vid]
        if t.segments != f.segments:
            raise DataError(
                f"{vid}: expected the same segments in {temporal_path.name} and "
                f"{frames_path.name}, got {t.segments} and {f.segments}"
            )
        if t.label != cls:
            raise DataError(
                f"{vid}: expected class {cls} (captions) in {temporal_path.name}, got {t.label}"
            )
        segs, changed = clip_segments(t.segments, f.num_frames)
        if changed:
            notes.append(
                f"{vid}: segment end clipped to the frame count {f.num_frames} "
                f"(upstream {t.segments})"
            )
        num_frames.append(f.num_frames)
        segments.append(segs)
    df = df.copy()
    df["num_frames"] = num_frames
    df["segments"] = segments
    return df


def assemble(spec: BenchmarkSpec, raw: Mapping[str, Path], rule: ValidationRule) -> Assembled:
    """Raw files (by role, see ``spec.sources``) -> train/val/test tables in canonical order."""
    notes: list[str] = []
    train = _classify(spec, read_captions(raw["captions_train"]), raw["captions_train"].name)
    test = _classify(spec, read_captions(raw["captions_test"]), raw["captions_test"].name)

    official = read_lines(raw["split_train"])  # Class/Name.mp4 lines of the official split
    if set(official) != set(train["video_path"]):
        raise DataError(
            f"{raw['captions_train'].name}: expected the {len(official)} videos of the "
            f"official UCF-Crime train split ({raw['split_train'].name}), got "
            f"{len(set(train['video_path']) ^ set(official))} differences"
        )
    for split, df in (("train", train), ("test", test)):
        check_class_counts(spec, split, df)

    for df, name in ((train, "train"), (test, "test")):
        n_dup = len(df) - df["caption_en"].nunique()
        if n_dup:
            notes.append(
                f"{name}: {n_dup} English captions repeat an earlier one (kept; one "
                f"positive per query)"
            )

    test = _attach_test_annotations(test, raw["annotation_test"], raw["frames_test"], notes)
    train = train.assign(num_frames=None, segments=None)
    splits = carve_validation({"train": train, "test": test}, rule)
    check_disjoint(spec, splits)
    return Assembled(splits, notes)
