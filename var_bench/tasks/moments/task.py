"""Moment task types: corpus moment retrieval (TVR's VCMR) and single-video grounding.

* ``moment-retrieval`` (group ``vcmr``): a sentence retrieves (video, start, end) from the split's
  gallery of videos. Metrics: ``R@1``, ``R@5``, ``R@10`` from the gold video's rank (a video
  ranks by the best score of its predictions) and ``R@K,IoU=m`` for K in 1, 5, 10 and m in 0.3,
  0.5, 0.7 (a hit when one of the top K predictions is on a gold video with tIoU >= m). Main
  score ``R@1,IoU=0.5``.
* ``grounding`` (group ``tsg``): the video is given; ``R@1,IoU=m``, ``R@5,IoU=m`` and ``mIoU``
  (the mean tIoU of each query's top prediction), as UCA reports temporal sentence grounding.
  Main score ``R@1,IoU=0.5``.

Every R@K is 100 x the mean over queries of an exact tie-aware credit from per-query counts b,
e, t (:func:`.kernel.credit`): under the official ``expected`` rule the chance that a random
order of the tied predictions puts a hit in the top K; ``optimistic`` [b < K]; ``pessimistic``
[b + e < K]. mIoU over the tied top predictions: their mean, best or worst.

The gold (``gold="moments"``) is built from a benchmark's tables by :meth:`_Moments.
gold_from_tables`: one row per gold segment (several per query allowed), each with its video.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from var_bench.errors import DataError, InputError
from var_bench.tasks.base import MEAN, MetricSpec, PerQuery, Task, register_task_type
from var_bench.tasks.gold import Gold, IdList
from var_bench.tasks.moments.kernel import (
    RULES,
    best_iou,
    credit,
    hit_counts,
    top_iou,
    video_counts,
)
from var_bench.tasks.moments.submission import MomentPrediction, read_moments

#: tIoU thresholds of the moment metrics.
THRESHOLDS: tuple[float, ...] = (0.3, 0.5, 0.7)
#: How a benchmark's tables give the gold segments: ``seconds`` (``start_s``/``end_s`` columns,
#: ``duration_s``) or ``frames`` (a ``segments`` column of [start, end) frames and ``num_frames``
#: at the collection's frame rate).
SEGMENT_UNITS: tuple[str, ...] = ("seconds", "frames")


def moment_metric(k: int, m: float) -> str:
    """The name of a moment recall: ``R@1,IoU=0.5``."""
    return f"R@{k},IoU={m}"


def _field(m: float) -> str:
    return f"{round(m * 10):02d}"


@dataclass(frozen=True)
class _Moments(Task):
    """What both moment types share: the gold from tables, reading, the IoU counts."""

    #: R@K of the moment metrics.
    ks: ClassVar[tuple[int, ...]] = ()
    group: ClassVar[str] = ""
    rules = RULES
    main_score = "R@1,IoU=0.5"
    group_noun = "query set"
    per_query_noun = "per-query counts (b, e, t of the first hit)"
    difficulty_label = "shortfall (100 minus the query's credit at the main score)"

    name: str = "moments"
    gold: str = "moments"
    #: A boolean column of the split table selecting the queries (None: every row).
    query_filter: str | None = None
    segment_unit: str = "seconds"

    def __post_init__(self) -> None:
        if self.segment_unit not in SEGMENT_UNITS:
            raise InputError(
                f"{self.type_name}: segment_unit expected one of {', '.join(SEGMENT_UNITS)}, "
                f"got {self.segment_unit!r}"
            )

    @property
    def groups(self) -> tuple[str, ...]:
        return (self.group,)

    # --- gold ---------------------------------------------------------------------------------

    def gold_from_tables(self, table: Any, videos: Any | None, fps: float) -> Gold:
        """The gold of one split from its built tables (pandas DataFrames).

        Args:
            table: the split table: one row per query, or per video with its caption (then the
                query id is the video id); ``query_filter`` selects the query rows.
            videos: the split's video table (the gallery, with ``duration_s``), or None: the
                gallery is ``table``'s videos (durations ``num_frames / fps``).
            fps: frames per second, for ``segment_unit="frames"``.

        Returns:
            A :class:`Gold` whose positives hold one entry per gold segment (its video) and
            ``segments`` the [start_s, end_s] rows; ``gallery_meta``: ``{"duration_s": ...}``.

        Raises:
            DataError: a query without a gold segment (e.g. a split with no temporal annotation).
        """
        rows = table[table[self.query_filter].astype(bool)] if self.query_filter else table
        gallery_table = videos if videos is not None else table
        gallery = [str(v) for v in gallery_table["video_id"]]
        if "duration_s" in gallery_table:
            durations = np.asarray(gallery_table["duration_s"], dtype=np.float64)
        else:
            durations = np.asarray(gallery_table["num_frames"], dtype=np.float64) / fps
        where = {v: j for j, v in enumerate(gallery)}
        qids = [str(q) for q in (rows["query_id"] if "query_id" in rows else rows["video_id"])]
        indptr, indices, segments = [0], [], []
        for qid, vid, segs in zip(qids, rows["video_id"], self._segments(rows, fps)):
            if not segs:
                raise DataError(
                    f"{self.type_name}: query {qid}: expected at least one gold segment, got "
                    f"none (no temporal annotation on this split?)"
                )
            for s in segs:
                indices.append(where[str(vid)])
                segments.append(s)
            indptr.append(len(indices))
        meta = rows.reset_index(drop=True)
        return Gold(
            IdList.of(qids),
            IdList.of(gallery),
            (np.asarray(indptr), np.asarray(indices, dtype=np.int64)),
            query_meta=meta,
            gallery_meta={"duration_s": durations},
            segments=np.asarray(segments, dtype=np.float64).reshape(-1, 2),
        )

    def _segments(self, rows: Any, fps: float) -> list[list[tuple[float, float]]]:
        if self.segment_unit == "seconds":
            return [[(float(s), float(e))] for s, e in zip(rows["start_s"], rows["end_s"])]
        return [
            [(float(s) / fps, float(e) / fps) for s, e in segs] if segs is not None else []
            for segs in rows["segments"]
        ]

    @staticmethod
    def padded_gold(gold: Gold) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(video, start, end) as (Q, G) arrays (video -1 = padding) and distinct gold videos
        per query."""
        indptr, indices = gold.positives
        counts = np.diff(indptr)
        width = int(counts.max(initial=1))
        q = np.repeat(np.arange(gold.queries.n), counts)
        col = np.arange(indices.size) - np.repeat(indptr[:-1], counts)
        video = np.full((gold.queries.n, width), -1, dtype=np.int64)
        start, end = np.zeros(video.shape), np.zeros(video.shape)
        video[q, col] = indices
        start[q, col], end[q, col] = gold.segments[:, 0], gold.segments[:, 1]
        ordered = np.sort(video, axis=1)
        first = np.concatenate(
            [np.ones((len(video), 1), bool), ordered[:, 1:] != ordered[:, :-1]], 1
        )
        distinct = np.count_nonzero(first & (ordered >= 0), axis=1)
        return video, start, end, distinct

    # --- reading and scoring ------------------------------------------------------------------

    def query_video(self, gold: Gold) -> np.ndarray | None:
        return None

    def read(
        self,
        submission: Any,
        gold: Any,
        *,
        benchmark: str,
        groups: Sequence[str] | None = None,
        split: str = "test",
        **_: Any,
    ) -> MomentPrediction:
        if groups is not None and tuple(groups) != self.groups:
            raise InputError(
                f"{self.name}: expected the group {self.group}, got {', '.join(groups)}"
            )
        if isinstance(submission, MomentPrediction):
            return submission
        return read_moments(
            submission,
            query_ids=gold.queries.ids(),
            gallery_ids=gold.gallery.ids(),
            query_video=self.query_video(gold),
            benchmark=benchmark,
            task=self.name,
            group=self.group,
            split=split,
        )

    def _hits(self, p: MomentPrediction, gold: Gold) -> tuple[dict[str, np.ndarray], Any]:
        gv, gs, ge, distinct = self.padded_gold(gold)
        on_gold, iou = best_iou(p.video, p.start, p.end, gv, gs, ge)
        out = {}
        for m in THRESHOLDS:
            b, e, t = hit_counts(p.score, p.valid, on_gold & (iou >= m))
            out[f"b{_field(m)}"], out[f"e{_field(m)}"], out[f"t{_field(m)}"] = b, e, t
        return out, (on_gold, iou, distinct)

    def difficulty(self, per_query: PerQuery, rule: str | None) -> np.ndarray:
        """100 minus the query's credit (percent) at the main score: 100 = missed."""
        return 100.0 - self.values(per_query, rule)[self.main_score]

    def query_scores(self, prediction: MomentPrediction) -> dict[str, np.ndarray] | None:
        """Per query its best prediction score per gallery video (-inf: not predicted), so a
        report lists the videos retrieved; None for grounding (one video per query)."""
        if self.group != "vcmr":
            return None
        p = prediction
        n_v = int(p.video.max(initial=-1)) + 1
        out = np.full((p.video.shape[0], max(n_v, 1)), -np.inf)
        rows = np.broadcast_to(np.arange(p.video.shape[0])[:, None], p.video.shape)
        np.maximum.at(out, (rows[p.valid], p.video[p.valid]), p.score[p.valid])
        return {self.group: out}

    def query_details(self, prediction: MomentPrediction, gold: Gold) -> dict[str, list[str]]:
        """Per query one line: the gold segment, the top prediction with its tIoU, and both on
        a text timeline of the gold video (``=`` gold, ``^`` prediction, ``#`` both)."""
        gv, gs, ge, _ = self.padded_gold(gold)
        on_gold, iou = best_iou(prediction.video, prediction.start, prediction.end, gv, gs, ge)
        durations = (
            (gold.gallery_meta or {}).get("duration_s")
            if isinstance(gold.gallery_meta, Mapping)
            else None
        )
        top = np.argmax(np.where(prediction.valid, prediction.score, -np.inf), axis=1)
        names = gold.gallery.ids()
        lines = []
        for i, j in enumerate(top):
            g = f"gold {gs[i, 0]:.1f}-{ge[i, 0]:.1f} s"
            if not prediction.valid[i, j]:
                lines.append(f"{g}; no prediction")
                continue
            a, b = prediction.start[i, j], prediction.end[i, j]
            where = "" if on_gold[i, j] else f" on {names[prediction.video[i, j]]}"
            line = f"{g}; top {a:.1f}-{b:.1f} s{where} (tIoU {iou[i, j]:.2f})"
            if durations is not None:
                line += " " + timeline(
                    float(durations[gv[i, 0]]),
                    (gs[i, 0], ge[i, 0]),
                    (a, b) if on_gold[i, j] else None,
                )
            lines.append(line)
        return {self.group: lines}

    def _credit(self, per_query: PerQuery, prefix: str, k: int, rule: str | None) -> np.ndarray:
        b, e, t = (per_query[f"{x}{prefix}"] for x in "bet")
        return credit(b, e, t, k, rule or self.official_rule)

    def _moment_values(self, per_query: PerQuery, rule: str | None) -> dict[str, np.ndarray]:
        return {
            moment_metric(k, m): 100.0 * self._credit(per_query, _field(m), k, rule)
            for m in THRESHOLDS
            for k in self.ks
        }

    def summarise(self, per_query: PerQuery, rule: str | None) -> dict[str, float]:
        values = self.values(per_query, rule)
        return {m.name: float(np.mean(values[m.name])) for m in self.metrics}

    @classmethod
    def per_query_from_json(cls, raw: Any, where: str) -> dict[str, np.ndarray]:
        if not isinstance(raw, Mapping) or set(raw) != set(cls.per_query_fields):
            raise InputError(
                f"{where}: expected per-query fields {', '.join(cls.per_query_fields)}, got "
                f"{', '.join(map(str, raw)) if isinstance(raw, Mapping) else type(raw).__name__}"
            )
        out = {}
        for k, kind in cls.per_query_fields.items():
            a = np.asarray(raw[k], dtype=np.int64 if kind == "count" else np.float64)
            if a.ndim != 1 or (kind == "count" and np.any(a < 0)) or not np.all(np.isfinite(a)):
                raise InputError(f"{where}: {k}: expected a list of {kind}s")
            out[k] = a
        if len({len(v) for v in out.values()}) > 1:
            raise InputError(f"{where}: expected per-query lists of one length")
        return out


def timeline(
    duration: float, gold: tuple[float, float], pred: tuple[float, float] | None, width: int = 40
) -> str:
    """A text timeline of one video: ``=`` the gold segment, ``^`` the prediction, ``#`` both,
    ``.`` neither; a prediction past the duration is cut at the right edge.

    >>> timeline(40.0, (10.0, 20.0), (15.0, 25.0), width=8)
    '|..=#^...|'
    """
    cells = []
    for c in range(width):
        lo, hi = c * duration / width, (c + 1) * duration / width
        in_gold = min(hi, gold[1]) > max(lo, gold[0]) or (gold[0] == gold[1] and lo <= gold[0] < hi)
        in_pred = pred is not None and (min(hi, pred[1]) > max(lo, pred[0]))
        cells.append("#" if in_gold and in_pred else "=" if in_gold else "^" if in_pred else ".")
    return "|" + "".join(cells) + "|"


def _moment_specs(ks: tuple[int, ...]) -> tuple[MetricSpec, ...]:
    return tuple(
        MetricSpec(
            moment_metric(k, m),
            True,
            MEAN,
            "%",
            f"a top-{k} prediction on the gold video with tIoU >= {m}",
        )
        for m in THRESHOLDS
        for k in ks
    )


_HIT_FIELDS = {f"{x}{_field(m)}": "count" for m in THRESHOLDS for x in "bet"}


@register_task_type("moment-retrieval")
@dataclass(frozen=True)
class MomentRetrieval(_Moments):
    """Corpus moment retrieval (VCMR): (video, start, end) from the whole gallery."""

    ks = (1, 5, 10)
    group = "vcmr"
    metrics = (
        MetricSpec("R@1", True, MEAN, "%", "the gold video ranked first"),
        MetricSpec("R@5", True, MEAN, "%", "the gold video in the top 5"),
        MetricSpec("R@10", True, MEAN, "%", "the gold video in the top 10"),
        *_moment_specs((1, 5, 10)),
    )
    per_query_fields = {"bvideo": "count", "evideo": "count", "tvideo": "count", **_HIT_FIELDS}
    curve_points = {}

    def group_title(self, group: str) -> str:
        return "sentence -> moment (vcmr)"

    def score(self, prediction: MomentPrediction, gold: Gold) -> dict[str, PerQuery]:
        hits, (on_gold, _, distinct) = self._hits(prediction, gold)
        vb, ve, vt = video_counts(
            prediction.video,
            prediction.score,
            prediction.valid,
            on_gold,
            distinct,
            gold.gallery.n,
        )
        return {self.group: {"bvideo": vb, "evideo": ve, "tvideo": vt, **hits}}

    def values(self, per_query: PerQuery, rule: str | None) -> dict[str, np.ndarray]:
        out = {f"R@{k}": 100.0 * self._credit(per_query, "video", k, rule) for k in (1, 5, 10)}
        return {**out, **self._moment_values(per_query, rule)}


@register_task_type("grounding")
@dataclass(frozen=True)
class Grounding(_Moments):
    """Single-video grounding (temporal sentence grounding): the query's video is given."""

    ks = (1, 5)
    group = "tsg"
    metrics = (
        *_moment_specs((1, 5)),
        MetricSpec("mIoU", True, MEAN, "IoU %", "mean tIoU (x100) of the top prediction"),
    )
    per_query_fields = {
        **_HIT_FIELDS,
        **{f"iou_{rule}": "value" for rule in RULES},
    }

    def group_title(self, group: str) -> str:
        return "sentence -> segment of its video (tsg)"

    def query_video(self, gold: Gold) -> np.ndarray:
        indptr, indices = gold.positives
        return indices[indptr[:-1]]

    def read(self, submission: Any, gold: Any, **kw: Any) -> MomentPrediction:
        indptr, indices = gold.positives
        if np.any(indices != np.repeat(indices[indptr[:-1]], np.diff(indptr))):
            raise InputError(f"{self.name}: expected one gold video per query, got several")
        return super().read(submission, gold, **kw)

    def score(self, prediction: MomentPrediction, gold: Gold) -> dict[str, PerQuery]:
        hits, (_, iou, _) = self._hits(prediction, gold)
        top = top_iou(prediction.score, prediction.valid, iou)
        return {self.group: {**hits, **{f"iou_{r}": top[r] for r in RULES}}}

    def values(self, per_query: PerQuery, rule: str | None) -> dict[str, np.ndarray]:
        rule = rule or self.official_rule
        return {
            **self._moment_values(per_query, rule),
            "mIoU": 100.0 * np.asarray(per_query[f"iou_{rule}"], dtype=np.float64),
        }
