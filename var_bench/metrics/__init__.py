"""Retrieval metrics: names, the counting kernel and everything derived from (b, e)."""

from .names import (  # noqa: F401
    DEFAULT_TIES,
    LOWER_IS_BETTER,
    MEAN_RANK,
    MEDIAN_RANK,
    METRICS,
    RECALL_KS,
    RECALLS,
    SUMR,
    TIE_RULES,
    arrow,
    higher_is_better,
)
