"""Assemble UCA from its three JSON files: one row per sentence, a video table per split.

Upstream shape (one file per split): ``{video_id: {"duration": s, "timestamps": [[start_s,
end_s], ...], "sentences": [...]}}``. Quirks are repaired and listed in the build's notes, or
refused with one line naming the video:

* whitespace around and inside a sentence: trimmed and folded (silently: hundreds of sentences
  start with a space);
* an exact repeat (same video, same sentence, same segment): dropped, listed (7 in train);
* an end past the duration by at most :data:`END_SLACK_S`: clipped to the duration, listed;
* zero-length, reversed or negative segments, ends further past the duration, an empty sentence,
  a video whose lists differ in length, a duration that is not a positive number: refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from var_bench.benchmarks.kit import Assembled
from var_bench.benchmarks.spec import SPLITS, BenchmarkSpec
from var_bench.benchmarks.uca import UPSTREAM_COUNTS
from var_bench.errors import DataError

#: An end at most this far past the duration is clipped (rounding to 0.1 s upstream).
END_SLACK_S = 0.5
_CLASS = re.compile(r"^([A-Za-z]+?)(?:_Videos_?)?\d")


def video_class(spec: BenchmarkSpec, video_id: str) -> str:
    """The UCF-Crime class of a file stem: its leading letters (``Normal_Videos_003`` ->
    ``Normal``).

    >>> from var_bench.benchmarks.uca import SPEC
    >>> video_class(SPEC, "RoadAccidents012_x264"), video_class(SPEC, "Normal_Videos_003_x264")
    ('RoadAccidents', 'Normal')
    """
    m = _CLASS.match(video_id)
    if m is None or m.group(1) not in spec.classes:
        raise DataError(
            f"{video_id}: expected a UCF-Crime file stem (<Class><NNN>_x264), got another name"
        )
    return m.group(1)


def _number(value: Any, what: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"{where}: expected {what} as a finite number, got {value!r}")
    return float(value)


def parse_split(
    spec: BenchmarkSpec, data: Any, name: str, notes: list[str]
) -> tuple[list[dict], list[dict]]:
    """One upstream file's JSON -> (sentence rows, video rows), repairing and listing quirks."""
    if not isinstance(data, Mapping):
        raise DataError(f"{name}: expected an object of videos, got {type(data).__name__}")
    rows, videos = [], []
    for vid, entry in data.items():
        where = f"{name} {vid}"
        if not isinstance(entry, Mapping) or not {"duration", "timestamps", "sentences"} <= set(
            entry
        ):
            raise DataError(f"{where}: expected duration, timestamps and sentences, got {entry!r}")
        duration = _number(entry["duration"], "the duration", where)
        stamps, sentences = entry["timestamps"], entry["sentences"]
        if duration <= 0:
            raise DataError(f"{where}: expected a positive duration, got {duration}")
        if not isinstance(stamps, list) or not isinstance(sentences, list):
            raise DataError(f"{where}: expected lists of timestamps and sentences")
        if len(stamps) != len(sentences):
            raise DataError(
                f"{where}: expected one timestamp per sentence, got {len(stamps)} timestamps "
                f"and {len(sentences)} sentences"
            )
        cls = video_class(spec, vid)
        seen: set[tuple[str, float, float]] = set()
        kept = 0
        for i, (stamp, sentence) in enumerate(zip(stamps, sentences)):
            at = f"{where} sentence {i}"
            if not isinstance(stamp, list) or len(stamp) != 2:
                raise DataError(f"{at}: expected [start_s, end_s], got {stamp!r}")
            start = _number(stamp[0], "start_s", at)
            end = _number(stamp[1], "end_s", at)
            text = " ".join(str(sentence).split()) if isinstance(sentence, str) else ""
            if not text:
                raise DataError(f"{at}: expected a sentence, got {sentence!r}")
            if start < 0 or end <= start:
                raise DataError(f"{at}: expected 0 <= start_s < end_s, got [{start}, {end}]")
            if end > duration:
                if end > duration + END_SLACK_S or start >= duration:
                    raise DataError(
                        f"{at}: expected the segment within the duration {duration} s, "
                        f"got [{start}, {end}]"
                    )
                notes.append(f"{at}: end {end} s clipped to the duration {duration} s")
                end = duration
            key = (text, start, end)
            if key in seen:
                notes.append(f"{at}: exact repeat of an earlier sentence and segment (dropped)")
                continue
            seen.add(key)
            kept += 1
            rows.append(
                {
                    "query_id": f"{vid}#{i}",
                    "video_id": vid,
                    "sentence": text,
                    "start_s": start,
                    "end_s": end,
                    "duration_s": duration,
                    "video_ids": [vid],
                    "class": cls,
                    "anomalous": cls != spec.normal_class,
                    "upstream_index": i,
                }
            )
        if not kept:
            raise DataError(f"{where}: expected at least one sentence, got none")
        videos.append(
            {
                "video_id": vid,
                "class": cls,
                "anomalous": cls != spec.normal_class,
                "duration_s": duration,
                "num_sentences": kept,
            }
        )
    return rows, videos


def assemble(spec: BenchmarkSpec, raw: Mapping[str, Path], rule: Any = None) -> Assembled:
    """Raw files (roles ``train``, ``val``, ``test``) -> sentence tables and video tables."""
    notes: list[str] = []
    splits, videos = {}, {}
    owner: dict[str, str] = {}
    for split in SPLITS:
        path = Path(raw[split])
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(
                f"{path.name}: expected UCA's JSON, got an unreadable file ({e})"
            ) from None
        rows, vids = parse_split(spec, data, path.name, notes)
        want = UPSTREAM_COUNTS[split]
        upstream = sum(len(v["sentences"]) for v in data.values())
        if (len(vids), upstream) != (want["videos"], want["sentences"]):
            raise DataError(
                f"{path.name}: expected {want['videos']} videos / {want['sentences']} sentences "
                f"(UCA {split}), got {len(vids)} / {upstream}"
            )
        for v in vids:
            if v["video_id"] in owner:
                raise DataError(
                    f"uca: expected disjoint splits, got {v['video_id']!r} in both "
                    f"{owner[v['video_id']]} and {split}"
                )
            owner[v["video_id"]] = split
        splits[split] = pd.DataFrame(rows, columns=[c.name for c in spec.columns])
        videos[split] = pd.DataFrame(vids)
    return Assembled(splits, notes, videos)
