"""Split integrity: what a score on a benchmark leaks (``var-bench audit``; see
``docs/integrity.md``)."""

from var_bench.integrity.auditing import AuditReport, audit, render_audit
from var_bench.integrity.neardup import NEAR_VIDEO_COSINE, NearVideos, near_duplicate_videos

__all__ = [
    "NEAR_VIDEO_COSINE",
    "AuditReport",
    "NearVideos",
    "audit",
    "near_duplicate_videos",
    "render_audit",
]
