"""Moment task types: corpus moment retrieval (``moment-retrieval``) and single-video grounding
(``grounding``); see ``docs/moments.md``."""

from var_bench.tasks.moments.kernel import MAX_PREDICTIONS, MISS, tiou
from var_bench.tasks.moments.submission import MomentPrediction, read_moments
from var_bench.tasks.moments.task import (
    SEGMENT_UNITS,
    THRESHOLDS,
    Grounding,
    MomentRetrieval,
    moment_metric,
)

__all__ = [
    "MAX_PREDICTIONS",
    "MISS",
    "SEGMENT_UNITS",
    "THRESHOLDS",
    "Grounding",
    "MomentPrediction",
    "MomentRetrieval",
    "moment_metric",
    "read_moments",
    "tiou",
]
