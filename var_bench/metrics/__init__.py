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
from .bootstrap import bootstrap_ci  # noqa: F401,E402
from .compare import Comparison, ComparisonRow, paired_compare  # noqa: F401,E402
from .counting import count_direction, count_ranks  # noqa: F401,E402
from .counts import QueryRanks  # noqa: F401,E402
from .ranks import (  # noqa: F401,E402
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
from .anomaly import (  # noqa: F401,E402
    FrameMetrics,
    evaluate_detector,
    frame_ap,
    frame_auc,
    frame_labels,
    snippet_scores_to_frames,
)
