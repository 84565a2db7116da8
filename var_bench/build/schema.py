"""Column types and column documentation of the built datasets (one place for both).

The dataset card, ``docs/data.md`` and the Parquet files' Hugging Face feature metadata all come
from :data:`COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets

from ..benchmarks import BenchmarkSpec

_List = getattr(datasets, "List", datasets.Sequence)  # datasets >= 4 names it List


@dataclass(frozen=True)
class Column:
    name: str
    feature: object
    doc: str


def _segments_doc(fps_note: str) -> str:
    return ("Temporal anomaly segments [[start, end], ...] in frame numbers, half-open "
            f"(start <= frame < end){fps_note}; [] for a test video with no anomaly; null on "
            "train/val (no temporal annotation upstream).")


COLUMNS: dict[str, tuple[Column, ...]] = {
    "ucfcrime-ar": (
        Column("video_id", datasets.Value("string"),
               "Canonical id: the video file stem, verbatim (e.g. Abuse028_x264, Normal_Videos_003_x264)."),
        Column("class", datasets.Value("string"),
               "UCF-Crime class: one of the 13 anomaly classes or Normal."),
        Column("anomalous", datasets.Value("bool"), "True unless the class is Normal."),
        Column("caption_en", datasets.Value("string"),
               "English caption (the one the paper uses); whitespace runs folded."),
        Column("caption_zh", datasets.Value("string"), "Chinese caption; whitespace runs folded."),
        Column("video_path", datasets.Value("string"),
               "Upstream relative path <folder>/<file>.mp4 (folder Training_/Testing_Normal_Videos_Anomaly for normals)."),
        Column("num_frames", datasets.Value("int32"),
               "Frame count of the video (test split, from UR-DMU's list); null where unknown."),
        Column("segments", _List(_List(datasets.Value("int32"))),
               _segments_doc(", about 30 fps; ends past num_frames clipped to it")),
        Column("upstream_index", datasets.Value("int32"),
               "0-based row of the video in its upstream file (train rows for train and val)."),
    ),
    "xdviolence-ar": (
        Column("video_id", datasets.Value("string"),
               "Canonical id: the video stem, verbatim (contains # = - . @: quote it in URLs)."),
        Column("class", datasets.Value("string"),
               "Class of the first label code (Normal, Fighting, Shooting, Riot, Abuse, Car accident, Explosion)."),
        Column("anomalous", datasets.Value("bool"), "True for violent videos (label code other than A)."),
        Column("labels", _List(datasets.Value("string")),
               "Label codes in id order, 0 padding dropped (A, B1, B2, B4, B5, B6, G; no B3)."),
        Column("label_names", _List(datasets.Value("string")), "Class names of the label codes."),
        Column("segments", _List(_List(datasets.Value("int32"))), _segments_doc(" at 24 fps")),
        Column("upstream_index", datasets.Value("int32"),
               "0-based line of the video in its upstream audio list (train lines for train and val)."),
    ),
}


def columns(spec: BenchmarkSpec) -> tuple[Column, ...]:
    return COLUMNS[spec.name]


def features(spec: BenchmarkSpec) -> datasets.Features:
    """The Hugging Face features of ``spec``'s built splits."""
    return datasets.Features({c.name: c.feature for c in columns(spec)})
