"""The scoring stage: submission -> matrix -> counting kernel and metrics -> result record.

``score`` and ``compare`` are the entry points; ``ResultRecord`` is what they produce.
"""

from var_bench.scoring.record import ResultRecord  # noqa: F401
from var_bench.scoring.score import compare, score  # noqa: F401

__all__ = ["ResultRecord", "compare", "score"]
