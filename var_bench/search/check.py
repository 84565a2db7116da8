"""How close approximate search comes to exact search on an index: recall@k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from var_bench.errors import InputError
from var_bench.search.index import Index
from var_bench.search.vectors import VectorIndex, recall_at_k


@dataclass(frozen=True)
class RecallCheck:
    """``recall`` = mean |approx top-k intersect exact top-k| / k over ``queries`` queries."""

    k: int
    queries: int
    recall: float
    source: str

    def line(self) -> str:
        return (
            f"approximate search: recall@{self.k} {self.recall:.3f} against exact search "
            f"over {self.queries} queries ({self.source})"
        )


def approximate_recall(
    index: Index, k: int = 10, max_queries: int = 1000, seed: int = 0
) -> RecallCheck:
    """Recall@k of the HNSW index vs exact inner products, with the indexed captions as queries
    when there are any (else the gallery vectors themselves, a proxy)."""
    index._load_outputs()
    vec = index.model.search_vectors(index._gallery, "gallery")
    if vec is None:
        raise InputError(
            f"--check: expected a model whose similarity is an inner product of "
            f"vectors, got {index.info.model} (approximate search does not apply)"
        )
    vi = VectorIndex(vec.float().cpu().numpy()).approximate()
    captions = [c for c in index.info.captions if c]
    if captions and index.info.query_modality == "text":
        q = index.model.search_vectors(index._encode_queries(captions[:max_queries]), "query")
        queries, source = q.float().cpu().numpy(), "indexed captions as queries"
    else:
        rng = np.random.default_rng(seed)
        take = rng.choice(len(vi), size=min(max_queries, len(vi)), replace=False)
        queries, source = vi.vectors[take], "gallery vectors as queries"
    return RecallCheck(k, len(queries), recall_at_k(vi, queries, k), source)
