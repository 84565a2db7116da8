"""Top-k search over fixed vectors: exact (one matrix product) or approximate (HNSW, usearch).

Scores are inner products ``s_j = q . x_j``. Exact search computes all of them in blocks of rows
and keeps the k best with ``argpartition`` (O(N d) work, no sort of the whole gallery). The
approximate index is usearch's HNSW graph with the inner-product metric (an optional extra:
``pip install -e '.[search]'`` in the checkout); its recall against exact search is measured by
:func:`recall_at_k`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from var_bench.errors import InputError

#: Rows of the gallery per block of the exact product (bounds the temporary score buffer).
EXACT_BLOCK = 1 << 18


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``scores`` (1-D), best first; ties broken by lower index.

    >>> top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3).tolist()
    [1, 3, 2]
    """
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    # lexsort: last key is primary -> (-score, index)
    order = np.lexsort((part, -scores[part]))
    return part[order].astype(np.int64)


def exact_search(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, scores) of the ``k`` best rows of ``vectors`` [N, d] for ``query`` [d]."""
    q = np.asarray(query, dtype=np.float32)
    if vectors.ndim != 2 or q.shape != (vectors.shape[1],):
        raise InputError(
            f"query: expected a vector of size {vectors.shape[1]}, got shape {q.shape}"
        )
    scores = np.empty(vectors.shape[0], dtype=np.float32)
    for a in range(0, vectors.shape[0], EXACT_BLOCK):
        np.dot(vectors[a : a + EXACT_BLOCK], q, out=scores[a : a + EXACT_BLOCK])
    idx = top_k(scores, k)
    return idx, scores[idx]


def have_usearch() -> bool:
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class VectorIndex:
    """Vectors ``[N, d]`` (float32) with exact search, and optionally an HNSW graph over them.

    ``approximate()`` builds the graph (usearch, inner product, ``connectivity`` M and
    ``expansion`` ef for add and search); ``search(q, k, exact=False)`` then uses it.
    """

    vectors: np.ndarray
    _hnsw: object | None = None

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2:
            raise InputError(
                f"vectors: expected a 2-D array [N, d], got shape {self.vectors.shape}"
            )

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def approximate(
        self,
        *,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int = 64,
        threads: int = 0,
    ) -> VectorIndex:
        """Build the HNSW graph (needs the ``search`` extra); returns ``self``."""
        if not have_usearch():
            raise InputError(
                "approximate search: expected the usearch package "
                "(pip install -e '.[search]' in the var_bench checkout), got none installed"
            )
        from usearch.index import Index as HNSW

        graph = HNSW(
            ndim=self.vectors.shape[1],
            metric="ip",
            dtype="f32",
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )
        graph.add(np.arange(len(self), dtype=np.uint64), self.vectors, threads=threads)
        self._hnsw = graph
        return self

    @property
    def has_approximate(self) -> bool:
        return self._hnsw is not None

    def search(
        self, query: np.ndarray, k: int = 10, *, exact: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores) of the ``k`` best vectors, best first."""
        if exact or self._hnsw is None:
            return exact_search(self.vectors, query, k)
        found = self._hnsw.search(np.asarray(query, dtype=np.float32), min(k, len(self)))
        idx = np.asarray(found.keys, dtype=np.int64)
        # Scores recomputed exactly for the candidates (usearch returns 1 - ip distances).
        scores = self.vectors[idx] @ np.asarray(query, dtype=np.float32)
        order = np.lexsort((idx, -scores))
        return idx[order], scores[order]


def recall_at_k(index: VectorIndex, queries: np.ndarray, k: int = 10) -> float:
    """Mean over ``queries`` of |approx top-k  intersect  exact top-k| / k (1.0 = identical)."""
    if not index.has_approximate:
        raise InputError("recall: expected an index with an approximate graph, got none built")
    hits = 0
    for q in queries:
        exact, _ = index.search(q, k, exact=True)
        approx, _ = index.search(q, k, exact=False)
        hits += len(set(exact.tolist()) & set(approx.tolist()))
    return hits / (k * len(queries))
