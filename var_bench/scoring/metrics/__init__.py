"""Retrieval metrics: names, the counting kernel and everything derived from (b, e)."""

from var_bench.scoring.metrics.names import (  # noqa: F401
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
from var_bench.scoring.metrics.bootstrap import bootstrap_ci  # noqa: F401,E402
from var_bench.scoring.metrics.compare import Comparison, ComparisonRow, paired_compare  # noqa: F401,E402
from var_bench.scoring.metrics.counting import count_direction, count_ranks  # noqa: F401,E402
from var_bench.scoring.metrics.counts import QueryRanks  # noqa: F401,E402
from var_bench.scoring.metrics.ranks import (  # noqa: F401,E402
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
from var_bench.scoring.metrics.anomaly import (  # noqa: F401,E402
    FrameMetrics,
    evaluate_detector,
    frame_ap,
    frame_auc,
    frame_labels,
    snippet_scores_to_frames,
)
