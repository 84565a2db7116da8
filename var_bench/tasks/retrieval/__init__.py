"""Cross-modal retrieval: a score matrix S ranks a gallery for every query (the task type
``retrieval``, :class:`Retrieval`)."""

from var_bench.tasks.retrieval.counting import count_direction, count_ranks
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import (
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
from var_bench.tasks.retrieval.ranks import (
    mean_rank,
    median_rank,
    rank,
    recall_at_k,
    recall_credit,
    recall_curve,
    sum_recall,
    summarise,
    tied_query_count,
)
from var_bench.tasks.retrieval.task import Direction, Retrieval

__all__ = [
    "DEFAULT_TIES",
    "LOWER_IS_BETTER",
    "MEAN_RANK",
    "MEDIAN_RANK",
    "METRICS",
    "RECALLS",
    "RECALL_KS",
    "SUMR",
    "TIE_RULES",
    "Direction",
    "RankCounts",
    "Retrieval",
    "arrow",
    "count_direction",
    "count_ranks",
    "higher_is_better",
    "mean_rank",
    "median_rank",
    "rank",
    "recall_at_k",
    "recall_credit",
    "recall_curve",
    "sum_recall",
    "summarise",
    "tied_query_count",
]
