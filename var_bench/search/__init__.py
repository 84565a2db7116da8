"""Search a video archive with a trained model: an :class:`Index` of encoded videos, ranked by
the model's own similarity, with the best-matching segment of each; the galleries it is built
from (:func:`store_gallery`, :class:`FolderGallery`); :class:`VectorIndex` for exact or
approximate top-k over fixed vectors."""

from var_bench.search.gallery import FolderGallery, Gallery, store_gallery  # noqa: F401
from var_bench.search.index import Index, SearchHit  # noqa: F401
from var_bench.search.storage import IndexInfo  # noqa: F401
from var_bench.search.vectors import VectorIndex, recall_at_k  # noqa: F401

__all__ = [
    "FolderGallery",
    "Gallery",
    "Index",
    "IndexInfo",
    "SearchHit",
    "VectorIndex",
    "recall_at_k",
    "store_gallery",
]
