"""Statistics over per-query values: bootstrap intervals, paired comparisons, binomial intervals
and breakdowns by class."""

from var_bench.scoring.stats.bootstrap import bootstrap_ci
from var_bench.scoring.stats.compare import Comparison, ComparisonRow, paired_compare

__all__ = ["Comparison", "ComparisonRow", "bootstrap_ci", "paired_compare"]
