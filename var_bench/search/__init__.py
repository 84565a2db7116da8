"""Search a video archive with a trained model: an :class:`Index` of encoded videos, ranked by
the model's own similarity, with the best-matching segment of each; :class:`VectorIndex` for
exact or approximate top-k over fixed vectors."""

from var_bench.search.index import Index, IndexInfo, SearchHit  # noqa: F401
from var_bench.search.vectors import VectorIndex, recall_at_k  # noqa: F401

__all__ = ["Index", "IndexInfo", "SearchHit", "VectorIndex", "recall_at_k"]
