"""Task types: what a submission is, how it is scored, which metrics it has and which one ranks.

A task type is one folder (``retrieval/``) holding a :class:`Task` subclass registered with
:func:`register_task_type`; a benchmark names its tasks as instances of those classes.
"""

from var_bench.tasks.base import (
    AGGREGATIONS,
    MEAN,
    MEDIAN,
    TASK_TYPES,
    MetricSpec,
    Prediction,
    SummarySpec,
    Task,
    register_task_type,
)
from var_bench.tasks.gold import Gold, IdList
from var_bench.tasks.registry import get_task_type, list_task_types

__all__ = [
    "AGGREGATIONS",
    "MEAN",
    "MEDIAN",
    "TASK_TYPES",
    "Gold",
    "IdList",
    "MetricSpec",
    "Prediction",
    "SummarySpec",
    "Task",
    "get_task_type",
    "list_task_types",
    "register_task_type",
]
