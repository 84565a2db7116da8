"""Metric names and their direction: the one place these strings are spelled.

R@K is the percentage of queries whose true item ranks in the top K (higher is better); MdR and
MnR are the median and mean 1-based rank of the true item (lower is better); SumR is the sum of
R@1, R@5 and R@10 over both retrieval directions (six numbers, higher is better).
"""

from __future__ import annotations

RECALL_KS: tuple[int, ...] = (1, 5, 10)
RECALLS: tuple[str, ...] = tuple(f"R@{k}" for k in RECALL_KS)
MEDIAN_RANK = "MdR"
MEAN_RANK = "MnR"
METRICS: tuple[str, ...] = (*RECALLS, MEDIAN_RANK, MEAN_RANK)
SUMR = "SumR"
LOWER_IS_BETTER: frozenset[str] = frozenset({MEDIAN_RANK, MEAN_RANK})

#: Tie rules. ``expected``: the expected value under a uniformly random order of tied items (the
#: official rule); ``optimistic``: the true item wins every tie; ``pessimistic``: it loses every
#: tie.
TIE_RULES: tuple[str, ...] = ("expected", "optimistic", "pessimistic")
DEFAULT_TIES = "expected"


def higher_is_better(metric: str) -> bool:
    """True for R@K and SumR, False for MdR and MnR."""
    return metric not in LOWER_IS_BETTER


def arrow(metric: str) -> str:
    """An arrow for tables: up where higher is better, down where lower is better."""
    return "↑" if higher_is_better(metric) else "↓"
