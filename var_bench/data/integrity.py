"""Split-integrity facts of a built benchmark (``integrity.json``) and the pure analyses over them.

At build time (:func:`integrity_facts`) the pipeline stores, beside the split tables:

* ``clips``: per split, the source clip of every video in canonical order (what the benchmark
  unit read off the verified upstream names, :class:`~var_bench.benchmarks.kit.Clip`), with the
  unit's naming rule; null for a benchmark whose names carry no source (UCF-Crime);
* ``captions``: duplicate and near-duplicate captions within and across splits of the text
  column (null without one).

Nothing here is typed in: every id list is computed from the upstream files when the dataset is
built. The analyses (:func:`source_report`, :func:`seen_mask`) are pure functions of those facts.

Rules (documented in ``docs/integrity.md``):

* A test video's source is **seen** when a video of the upstream training list (var-bench's
  ``train`` and ``val``: ``val`` is carved from it) has the same source.
* A test clip **overlaps in time** a training clip of the same source when both state spans and
  ``start < other_end and other_start < end``.
* Captions are **duplicates** when equal as written; **normalised duplicates** when equal after
  lower-casing, replacing every non-alphanumeric character by a space and collapsing spaces;
  **near duplicates** when the Jaccard similarity of their normalised word sets is at least
  :data:`NEAR_CAPTION_JACCARD` (and they are not normalised duplicates).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.benchmarks import SPLITS, BenchmarkSpec
from var_bench.benchmarks.kit import Clip
from var_bench.errors import DataError

INTEGRITY_FILE = "integrity.json"
INTEGRITY_SCHEMA = 1
#: Word-set Jaccard similarity at or above which two captions are near duplicates.
NEAR_CAPTION_JACCARD = 0.9
#: The splits whose sources count as seen in training (val is carved from upstream train).
TRAINING_SPLITS = ("train", "val")

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_caption(text: str) -> str:
    """Lower-case, every non-alphanumeric run -> one space, stripped.

    Example:
        >>> normalise_caption("A man  hits a car, then runs.")
        'a man hits a car then runs'
    """
    return _NON_WORD.sub(" ", str(text).lower()).strip()


def near_pairs(sets: Sequence[set[str]], threshold: float) -> list[tuple[int, int, float]]:
    """Every pair ``i < j`` of word sets whose Jaccard similarity ``|A & B| / |A | B|`` is at
    least ``threshold`` (0 < threshold <= 1), most similar first (ties in ``(i, j)`` order).

    Exact, without the ``n x n`` matrix: prefix filtering (Bayardo, Ma and Srikant, WWW 2007).
    With every set's words ordered rarest first, two sets at Jaccard ``>= t`` share a word among
    the first ``|A| - ceil(t |A|) + 1`` of each (their overlap is at least ``t |A|``), and the
    smaller has at least ``t |A|`` words, so only pairs passing both are compared. Empty sets
    pair with nothing.

    Example:
        >>> near_pairs([{"a", "b", "c"}, {"a", "b", "c", "d"}, {"x"}], 0.7)
        [(0, 1, 0.75)]
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold: expected 0 < t <= 1, got {threshold}")
    freq: dict[str, int] = defaultdict(int)
    for ws in sets:
        for w in ws:
            freq[w] += 1
    postings: dict[str, list[int]] = defaultdict(list)
    candidates: set[tuple[int, int]] = set()
    # Smallest sets first, so a set meets only sets no larger than itself, of which those
    # below t |A| words cannot reach Jaccard t (the length filter).
    for i in sorted(range(len(sets)), key=lambda k: len(sets[k])):
        ws = sets[i]
        n = len(ws)
        if n == 0:
            continue
        # 1e-9: t * n computed a hair above an integer must not shorten the prefix / length bound
        least = math.ceil(threshold * n - 1e-9)
        for w in sorted(ws, key=lambda w: (freq[w], w))[: n - least + 1]:
            candidates.update((min(i, j), max(i, j)) for j in postings[w] if len(sets[j]) >= least)
            postings[w].append(i)
    out = []
    for i, j in candidates:
        inter = len(sets[i] & sets[j])
        jac = inter / (len(sets[i]) + len(sets[j]) - inter)
        if jac >= threshold - 1e-9:
            out.append((i, j, jac))
    out.sort(key=lambda p: (-p[2], p[0], p[1]))
    return out


def caption_duplicates(
    captions: Mapping[str, Sequence[tuple[str, str]]], threshold: float = NEAR_CAPTION_JACCARD
) -> dict[str, Any]:
    """Duplicate captions within and across splits.

    Args:
        captions: split -> ``(video_id, caption)`` pairs in canonical order.
        threshold: the word-set Jaccard similarity of a near-duplicate pair.

    Returns:
        ``{"rows": {split: n}, "unique": {split: distinct captions as written},
        "exact": [[[split, id], ...], ...], "normalised": [...], "near": [[[split, id],
        [split, id], jaccard], ...], "threshold": t}``: groups of two or more videos whose
        captions are equal as written (``exact``) or after :func:`normalise_caption`
        (``normalised``, a superset of ``exact``'s pairs), and near-duplicate pairs that are not
        normalised duplicates, most similar first.

    Example:
        >>> r = caption_duplicates({"train": [("a", "A man runs."), ("b", "a man runs")],
        ...                         "test": [("c", "A man runs."), ("d", "A dog barks")]})
        >>> r["unique"], r["exact"]
        ({'train': 2, 'test': 2}, [[['train', 'a'], ['test', 'c']]])
        >>> len(r["normalised"][0])
        3
    """
    rows = {s: len(v) for s, v in captions.items()}
    unique = {s: len({t for _, t in v}) for s, v in captions.items()}
    exact: dict[str, list[list[str]]] = defaultdict(list)
    norm: dict[str, list[list[str]]] = defaultdict(list)
    for split, pairs in captions.items():
        for vid, text in pairs:
            exact[str(text)].append([split, vid])
            norm[normalise_caption(text)].append([split, vid])
    keys = list(norm)
    near: list[list[Any]] = []
    for i, j, jac in near_pairs([set(k.split()) for k in keys], threshold):
        for a in norm[keys[i]]:
            for b in norm[keys[j]]:
                near.append([a, b, round(jac, 4)])
    return {
        "rows": rows,
        "unique": unique,
        "exact": [g for g in exact.values() if len(g) > 1],
        "normalised": [g for g in norm.values() if len(g) > 1],
        "near": near,
        "threshold": threshold,
    }


def integrity_facts(spec: BenchmarkSpec, assembled: Any) -> dict[str, Any]:
    """The integrity facts of one build (``integrity.json``), from the assembler's result
    (``kit.Assembled``: split tables, ``clips``, ``source_rule``)."""
    clips = None
    if assembled.clips is not None:
        clips = {s: [c.to_row() for c in assembled.clips[s]] for s in SPLITS}
        videos = assembled.videos or assembled.splits
        for s in SPLITS:
            ids = [str(v) for v in videos[s]["video_id"]]
            if [row[0] for row in clips[s]] != ids:
                raise DataError(
                    f"{spec.name} {s}: expected one source clip per video in canonical order, "
                    f"got {len(clips[s])} clips for {len(ids)} videos"
                )
    captions = None
    column = spec.text_column
    if column is not None and all(column in assembled.splits[s] for s in SPLITS):
        key = {s: "query_id" if "query_id" in assembled.splits[s] else "video_id" for s in SPLITS}
        captions = caption_duplicates(
            {
                s: list(zip(map(str, t[key[s]]), map(str, t[column])))
                for s, t in ((s, assembled.splits[s]) for s in SPLITS)
            }
        )
        captions["column"] = column
    return {
        "schema": INTEGRITY_SCHEMA,
        "benchmark": spec.name,
        "source_rule": assembled.source_rule,
        "clips": clips,
        "captions": captions,
    }


@dataclass(frozen=True)
class IntegrityFacts:
    """The integrity facts of a built benchmark (``integrity.json``)."""

    benchmark: str
    source_rule: str | None
    clips: dict[str, list[Clip]] | None
    captions: dict[str, Any] | None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = INTEGRITY_FILE) -> IntegrityFacts:
        """Read the stored JSON.

        Raises:
            DataError: a file of another schema or shape.
        """
        try:
            if raw["schema"] != INTEGRITY_SCHEMA:
                raise DataError(
                    f"{where}: expected integrity schema {INTEGRITY_SCHEMA}, got {raw['schema']}"
                )
            clips = raw["clips"]
            return cls(
                str(raw["benchmark"]),
                raw["source_rule"],
                None
                if clips is None
                else {s: [Clip.from_row(r) for r in rows] for s, rows in clips.items()},
                raw["captions"],
            )
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(
                f"{where}: expected integrity facts, got a malformed file ({e})"
            ) from None


def write_integrity(folder: Path, facts: Mapping[str, Any]) -> None:
    """Write ``integrity.json`` into a build folder being assembled (not yet swapped in)."""
    (Path(folder) / INTEGRITY_FILE).write_text(json.dumps(facts, indent=0) + "\n", "utf-8")


@dataclass(frozen=True)
class SourceReport:
    """Source overlap of one split with the training splits.

    ``seen``: per video of the split (canonical order), whether its source has training clips;
    ``time_overlaps``: ``(video, training video)`` pairs of the same source sharing time;
    ``groups``: source -> the split's videos from it, for sources with two or more;
    ``kinds``: source kind -> (videos, of them seen).
    """

    split: str
    video_ids: tuple[str, ...]
    seen: tuple[bool, ...]
    time_overlaps: tuple[tuple[Clip, Clip], ...]
    groups: dict[str, tuple[str, ...]]
    kinds: dict[str, tuple[int, int]]
    training_sources: int
    split_sources: int
    shared_sources: int

    @property
    def seen_count(self) -> int:
        return sum(self.seen)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary plus the per-video flags."""
        return {
            "split": self.split,
            "videos": len(self.video_ids),
            "seen": self.seen_count,
            "unseen": len(self.video_ids) - self.seen_count,
            "kinds": {k: {"videos": n, "seen": s} for k, (n, s) in self.kinds.items()},
            "sources": {
                "training": self.training_sources,
                self.split: self.split_sources,
                "shared": self.shared_sources,
            },
            "same_source_groups": len(self.groups),
            "videos_in_same_source_groups": sum(len(v) for v in self.groups.values()),
            "time_overlaps": [
                {
                    "video": a.video_id,
                    "span": [a.start_s, a.end_s],
                    "training_video": b.video_id,
                    "training_span": [b.start_s, b.end_s],
                }
                for a, b in self.time_overlaps
            ],
            "seen_videos": [v for v, s in zip(self.video_ids, self.seen) if s],
            "groups": {k: list(v) for k, v in self.groups.items()},
        }


def source_report(
    clips: Mapping[str, Sequence[Clip]],
    split: str = "test",
    training: Sequence[str] = TRAINING_SPLITS,
) -> SourceReport:
    """Which videos of ``split`` come from a source with clips in the ``training`` splits.

    Example:
        >>> c = lambda v, s, a=None, b=None: Clip(v, s, "film", a, b)
        >>> r = source_report({"train": [c("t1", "F", 0, 60)], "val": [],
        ...                    "test": [c("q1", "F", 50, 90), c("q2", "G"), c("q3", "G")]})
        >>> r.seen, [(a.video_id, b.video_id) for a, b in r.time_overlaps], r.groups
        ((True, False, False), [('q1', 't1')], {'G': ('q2', 'q3')})
    """
    by_source: dict[str, list[Clip]] = defaultdict(list)
    for s in training:
        for clip in clips.get(s, ()):
            by_source[clip.source].append(clip)
    test = list(clips[split])
    seen = tuple(c.source in by_source for c in test)
    overlaps = tuple((c, o) for c in test for o in by_source.get(c.source, ()) if c.overlaps(o))
    grouped: dict[str, list[str]] = defaultdict(list)
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c, s in zip(test, seen):
        grouped[c.source].append(c.video_id)
        kinds[c.kind][0] += 1
        kinds[c.kind][1] += int(s)
    split_sources = set(grouped)
    return SourceReport(
        split=split,
        video_ids=tuple(c.video_id for c in test),
        seen=seen,
        time_overlaps=overlaps,
        groups={k: tuple(v) for k, v in grouped.items() if len(v) > 1},
        kinds={k: (v[0], v[1]) for k, v in sorted(kinds.items())},
        training_sources=len(by_source),
        split_sources=len(split_sources),
        shared_sources=len(split_sources & set(by_source)),
    )


def seen_mask(facts: IntegrityFacts, split: str = "test") -> np.ndarray | None:
    """Per video of ``split`` (canonical order), whether its source is seen in training; None
    when the benchmark's names carry no source."""
    if facts.clips is None:
        return None
    return np.array(source_report(facts.clips, split).seen, dtype=bool)
