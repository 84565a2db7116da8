"""Gold as data: the queries, the gallery and, per query, its positive gallery items.

A benchmark's answer key is a :class:`Gold`: the ordered query ids (rows of a score matrix), the
ordered gallery ids (columns) and, for every query, the gallery items that answer it (ranx's
qrels, with binary relevance). Today's two benchmarks pair query i with gallery item i (one
caption or audio clip per video): their gold is the *identity*, known from the split's size and
id checksum alone, so scoring a plain matrix needs no built dataset. A de-duplicated caption set
(a caption shared by two videos has two positives) or a benchmark with many sentences per video
carries its positives explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines


@dataclass(frozen=True)
class IdList:
    """An ordered id list, known by its length and sha256 (of the ids, one per line); the ids
    themselves are loaded only when needed (``load``, e.g. from the built dataset).

    Example:
        >>> ids = IdList.of(["a", "b"])
        >>> ids.n, ids.sha256[:8], ids.ids()
        (2, '911169dd', ['a', 'b'])
    """

    n: int
    sha256: str
    load: Callable[[], Sequence[str]] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, ids: Sequence[str]) -> IdList:
        """The list ``ids`` itself (hash computed here)."""
        ids = [str(i) for i in ids]
        return cls(len(ids), sha256_lines(ids), lambda: ids)

    def ids(self) -> list[str]:
        """The ids, in order.

        Raises:
            InputError: no loader was given, or it returned a list of another length or hash.
        """
        if self.load is None:
            raise InputError("expected the canonical ids (pass ids=...), got none")
        ids = [str(i) for i in self.load()]
        if len(ids) != self.n:
            raise InputError(f"ids: expected {self.n} canonical ids, got {len(ids)}")
        return ids


@dataclass(frozen=True, eq=False)
class Gold:
    """The answer key of one split of one task.

    Args:
        queries: the ordered query ids (rows of a score matrix).
        gallery: the ordered gallery ids (columns).
        positives: per query, its positive gallery indices as CSR arrays ``(indptr, indices)``
            (query i's positives are ``indices[indptr[i]:indptr[i + 1]]``); None: the identity
            (query i's one positive is gallery item i; ``queries.n == gallery.n``).
        query_meta: optional per-query table (``class``, ``anomalous``) in query order.
        gallery_meta: optional per-gallery-item table, in gallery order.
        segments: optional per-positive ``[start_s, end_s]`` rows (moment tasks), aligned with
            ``indices``.

    Raises:
        InputError: positives out of range, a query without any, or an identity of two sizes.
    """

    queries: IdList
    gallery: IdList
    positives: tuple[np.ndarray, np.ndarray] | None = None
    query_meta: Any = None
    gallery_meta: Any = None
    segments: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.positives is None:
            if self.queries.n != self.gallery.n:
                raise InputError(
                    f"gold: an identity pairing needs as many queries as gallery "
                    f"items, got {self.queries.n} and {self.gallery.n}"
                )
            return
        indptr, indices = (np.asarray(a, dtype=np.int64) for a in self.positives)
        if (
            indptr.shape != (self.queries.n + 1,)
            or indptr[0] != 0
            or np.any(np.diff(indptr) < 1)
            or indptr[-1] != indices.size
        ):
            raise InputError(
                f"gold: expected at least one positive for each of the "
                f"{self.queries.n} queries (CSR indptr of length {self.queries.n + 1})"
            )
        if indices.size and (indices.min() < 0 or indices.max() >= self.gallery.n):
            raise InputError(
                f"gold: expected positive gallery indices in [0, {self.gallery.n}), "
                f"got {int(indices.min())}..{int(indices.max())}"
            )
        object.__setattr__(self, "positives", (indptr, indices))

    @classmethod
    def identity(cls, ids: IdList, *, meta: Any = None) -> Gold:
        """Query i <-> gallery item i, both in the order of ``ids``."""
        return cls(ids, ids, None, meta, meta)

    @classmethod
    def from_lists(
        cls,
        query_ids: Sequence[str],
        gallery_ids: Sequence[str],
        positives: Sequence[Sequence[str]],
        **kw: Any,
    ) -> Gold:
        """Gold from id lists and, per query, the ids of its positive gallery items.

        Example:
            >>> g = Gold.from_lists(["q0", "q1"], ["v0", "v1", "v2"], [["v1"], ["v0", "v2"]])
            >>> [p.tolist() for p in g.positive_lists()]
            [[1], [0, 2]]
        """
        where = {v: j for j, v in enumerate(gallery_ids)}
        if len(where) != len(gallery_ids):
            raise InputError("gold: expected distinct gallery ids, got a duplicate")
        indptr, indices = [0], []
        for q, pos in zip(query_ids, positives):
            try:
                cols = sorted({where[str(p)] for p in pos})
            except KeyError as e:
                raise InputError(
                    f"gold: query {q!r} names a positive {e.args[0]!r} that is not in the gallery"
                ) from None
            indices.extend(cols)
            indptr.append(len(indices))
        return cls(
            IdList.of(query_ids),
            IdList.of(gallery_ids),
            (np.asarray(indptr), np.asarray(indices, dtype=np.int64)),
            **kw,
        )

    @property
    def is_identity(self) -> bool:
        """Query i's one positive is gallery item i."""
        return self.positives is None

    def positive_lists(self) -> list[np.ndarray]:
        """Per query, its positive gallery indices."""
        if self.positives is None:
            return [np.array([i]) for i in range(self.queries.n)]
        indptr, indices = self.positives
        return [indices[indptr[i] : indptr[i + 1]] for i in range(self.queries.n)]

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (query, gallery item) positive pair as two index arrays, by query."""
        if self.positives is None:
            i = np.arange(self.queries.n)
            return i, i
        indptr, indices = self.positives
        return np.repeat(np.arange(self.queries.n), np.diff(indptr)), indices

    def gallery_has_positives(self) -> bool:
        """Every gallery item answers at least one query (so it can itself be a query)."""
        if self.positives is None:
            return True
        return bool(np.all(np.bincount(self.positives[1], minlength=self.gallery.n) > 0))
