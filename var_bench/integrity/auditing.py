"""``var-bench audit``: the split-integrity report of one benchmark.

It reads the facts stored with the built dataset (:mod:`var_bench.data.integrity`: source clips
read off the verified upstream names, caption duplicates) and, given a feature store, looks for
near-duplicate videos across splits (:mod:`.neardup`). ``docs/integrity.md`` states the rules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.data.integrity import IntegrityFacts, SourceReport, source_report
from var_bench.data.prepare import load_integrity
from var_bench.integrity.neardup import NEAR_VIDEO_COSINE, NearVideos, near_duplicate_videos


@dataclass(frozen=True)
class AuditReport:
    """What ``var-bench audit`` reports: the source overlap of the test split (None when the
    names carry no source), caption duplicates (None without captions) and near-duplicate videos
    in feature space (None without a store)."""

    benchmark: str
    source_rule: str | None
    sources: SourceReport | None
    captions: dict[str, Any] | None
    videos: NearVideos | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "source_rule": self.source_rule,
            "sources": None if self.sources is None else self.sources.to_dict(),
            "captions": self.captions,
            "near_duplicate_videos": None if self.videos is None else self.videos.to_dict(),
        }


def audit(
    benchmark: str | BenchmarkSpec,
    *,
    features: str | os.PathLike | None = None,
    stream: str | None = None,
    threshold: float = NEAR_VIDEO_COSINE,
    top: int = 20,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
) -> AuditReport:
    """The integrity report of ``benchmark`` (built first when needed).

    Args:
        benchmark: a name or spec.
        features: a feature store folder: adds near-duplicate videos across splits (``stream``,
            cosine ``threshold``, the ``top`` pairs).
        home, mirror: the data home and where a build fetches from.

    Example:
        >>> r = audit("xdviolence-ar", mirror="../shared/data")  # doctest: +SKIP
        >>> r.sources.seen_count, len(r.sources.seen)  # doctest: +SKIP
        (533, 800)
    """
    spec = get_benchmark(benchmark)
    facts: IntegrityFacts = load_integrity(spec, home=home, mirror=mirror)
    sources = None if facts.clips is None else source_report(facts.clips)
    videos = None
    if features is not None:
        videos = near_duplicate_videos(Path(features), stream=stream, threshold=threshold, top=top)
    return AuditReport(spec.name, facts.source_rule, sources, facts.captions, videos)


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.1f}%)" if n else f"{k}/0"


def render_audit(report: AuditReport, examples: int = 5) -> str:
    """The report as text (what ``var-bench audit`` prints)."""
    out = [f"Split integrity: {report.benchmark}"]
    s = report.sources
    if s is None:
        out.append("Sources: the video names carry no source; no source-disjointness check.")
    else:
        n = len(s.video_ids)
        out += [
            f"Source rule: {report.source_rule}",
            f"Test videos whose source has training clips (train or val): "
            f"{_pct(s.seen_count, n)}; unseen: {n - s.seen_count}",
        ]
        for kind, (k_n, k_seen) in s.kinds.items():
            out.append(f"  {kind}: {_pct(k_seen, k_n)}")
        out.append(
            f"Sources: {s.training_sources} in training, {s.split_sources} in test, "
            f"{s.shared_sources} shared"
        )
        out.append(
            f"Same-source groups in the test gallery: {len(s.groups)} sources, "
            f"{sum(len(v) for v in s.groups.values())} videos"
        )
        out.append(f"Test clips overlapping a training clip in time: {len(s.time_overlaps)}")
        for a, b in s.time_overlaps:
            out.append(f"  {a.video_id}  vs  {b.video_id}")
    c = report.captions
    if c is None:
        out.append("Captions: none (the queries are not text).")
    else:
        out.append(f"Captions ({c.get('column')}): rows and distinct captions per split")
        for split, rows in c["rows"].items():
            out.append(f"  {split}: {c['unique'][split]} distinct of {rows}")
        within = [g for g in c["exact"] if len({s for s, _ in g}) == 1]
        across = [g for g in c["exact"] if len({s for s, _ in g}) > 1]
        out.append(
            f"  duplicate groups: {len(within)} within a split, {len(across)} across splits; "
            f"after normalisation: {len(c['normalised'])} groups; near duplicates "
            f"(word Jaccard >= {c['threshold']}): {len(c['near'])} pairs"
        )
        for g in (across + within)[:examples]:
            out.append("    " + ", ".join(f"{sp}:{v}" for sp, v in g))
    v = report.videos
    if v is not None:
        out.append(
            f"Near-duplicate videos ({v.stream}, cosine >= {v.threshold}): "
            f"{_pct(v.videos_with_pair, v.videos)} {v.split} videos have a training pair "
            f"({v.count} pairs)"
        )
        for a, split, b, cos in v.pairs[:examples]:
            out.append(f"  {a}  ~  {split}:{b}  cosine {cos:.4f}")
    return "\n".join(out) + "\n"
