"""The counting kernel: (b, e) for both retrieval directions in one pass over S, without sorting.

S is an Nq x Ng score matrix (rows = queries, columns = gallery items) and the gold gives each
row i its positive columns P_i (:class:`~var_bench.tasks.gold.Gold`; the identity P_i = {i} for
today's square benchmarks). A query's rank is that of its best-scored positive among the items
that do not answer it (a filtered ranking: the other positives are set aside, as a hit counts
when any positive is in the top K). With d_i = max_{j in P_i} S[i, j]:

* rows (query = row i, e.g. t2v):  b_i = #{j not in P_i : S[i, j] > d_i},
  e_i = #{j not in P_i : S[i, j] == d_i}
* columns (query = column j, v2t; its positives Q_j = {i : j in P_i}, c_j = max_{i in Q_j} S[i, j]):
  b_j = #{i not in Q_j : S[i, j] > c_j},  e_j = #{i not in Q_j : S[i, j] == c_j}

S is read once, in blocks of consecutive rows. Each block is screened for NaN/Inf, then compared
four times while it sits in cache (``> c``, ``== c``, ``> d``, ``== d``) into reused boolean
buffers, and the booleans are counted: along each row with a byte-lane sum over 64-bit words, down
each column with uint8 counters that spill into int64 every 255 rows. No positive scores above its
query's threshold, and the positives equal to it are counted once more than they should be: they
are subtracted at the end (the diagonal entry once, for the identity). Nothing is sorted and S.T
is never built: cost O(Nq Ng) comparisons, memory O(block + Nq + Ng). The thresholds of an
explicit gold take one more pass over the rows holding positives (the identity reads the diagonal).

Scores are compared in their stored dtype (float16/32/64, integers): no cast, so ties are exact.
Blocks are shared among a small thread pool (NumPy releases the GIL in its loops); each thread
keeps its own column counters, summed at the end. Small matrices run on the calling thread.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks.gold import Gold
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.matrix import MatrixSource, as_source

log = logging.getLogger(__name__)

#: Default bytes of S per row block: the block stays in the per-core cache while it is compared
#: four times (measured best between 1 and 4 MiB on a 2-core AMD EPYC; see benchmarks/README.md).
DEFAULT_BLOCK_BYTES = 2 << 20
#: Below this many bytes of S, a thread pool costs more than it saves.
PARALLEL_MIN_BYTES = 8 << 20
#: Upper bound of the default thread count (the pass is memory-bound beyond a few cores).
MAX_DEFAULT_THREADS = 4
#: Byte lanes of a uint64 word count at most 255 ones before they overflow into the next lane.
_LANE_MAX = 255
_ACCEPTED_KINDS = "biuf"  # bool, signed, unsigned, float: anything with a total order but NaN


@dataclass(frozen=True)
class _Plan:
    """How one pass over an ``n_rows`` x ``n`` stored matrix is cut up: ``rows`` per block,
    ``threads``, and the padded row layout used by the byte-lane row counter (``width`` = 8 *
    ``chunk_words`` * ``chunks`` >= ``n`` booleans)."""

    n_rows: int
    n: int
    rows: int
    threads: int
    width: int
    chunks: int
    chunk_words: int
    do_rows: bool
    do_cols: bool


def _plan(
    n_rows: int,
    n: int,
    itemsize: int,
    block_bytes: int | None,
    threads: int | None,
    do_rows: bool,
    do_cols: bool,
) -> _Plan:
    if block_bytes is None:
        block_bytes = DEFAULT_BLOCK_BYTES
    if int(block_bytes) < 1:
        raise InputError(f"block_bytes: expected a positive number of bytes, got {block_bytes}")
    rows = max(1, min(n_rows, int(block_bytes) // (n * itemsize)))
    blocks = -(-n_rows // rows)
    if threads is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        small = n_rows * n * itemsize < PARALLEL_MIN_BYTES
        threads = 1 if small else min(cpus or 1, MAX_DEFAULT_THREADS)
    if int(threads) < 1:
        raise InputError(f"threads: expected a positive number of threads, got {threads}")
    words = -(-n // 8)
    chunks = -(-words // _LANE_MAX)
    chunk_words = -(-words // chunks)
    return _Plan(
        n_rows=n_rows,
        n=n,
        rows=rows,
        threads=max(1, min(int(threads), blocks)),
        width=8 * chunk_words * chunks,
        chunks=chunks,
        chunk_words=chunk_words,
        do_rows=do_rows,
        do_cols=do_cols,
    )


def _row_count(masks: np.ndarray, plan: _Plan) -> np.ndarray:
    """Ones per row of (k, m, width) bool buffers whose padding columns are False: (k, m) int64.

    Each uint64 word holds 8 booleans; summing at most 255 words keeps every byte lane <= 255, so
    the word sum is 8 independent byte counts, added up at the end. ~5x faster than
    ``np.count_nonzero(axis=-1)``, which converts every boolean to an intp first.
    """
    k, m = masks.shape[:2]
    words = masks.view(np.uint64).reshape(k, m, plan.chunks, plan.chunk_words).sum(axis=3)
    return words.view(np.uint8).reshape(k, m, -1).sum(axis=2, dtype=np.int64)


class _ColumnCounter:
    """Column sums of (k, m, n) bool masks, accumulated over row blocks.

    Byte counters absorb up to 255 rows (same-type uint8 adds are the cheapest), then spill into
    the int64 totals; a block taller than 255 rows goes to the totals directly."""

    def __init__(self, k: int, n: int) -> None:
        self.total = np.zeros((k, n), np.int64)
        self._small = np.zeros((k, n), np.uint8)
        self._tmp = np.empty((k, n), np.uint8)
        self._rows = 0  # rows held in the byte counters

    def add(self, masks: np.ndarray) -> None:
        m = masks.shape[1]
        ones = masks.view(np.uint8)
        if m > _LANE_MAX:
            self.total += np.add.reduce(ones, axis=1, dtype=np.uint16 if m <= 0xFFFF else np.int64)
            return
        if self._rows + m > _LANE_MAX:
            self.flush()
        np.add.reduce(ones, axis=1, dtype=np.uint8, out=self._tmp)
        np.add(self._small, self._tmp, out=self._small)
        self._rows += m

    def flush(self) -> np.ndarray:
        self.total += self._small
        self._small[...] = 0
        self._rows = 0
        return self.total


def _non_finite_at(block: np.ndarray, scratch: np.ndarray) -> tuple[int, int, str] | None:
    """(row, column, 'NaN' | 'Inf' | '-Inf') of the first non-finite entry of a float block.

    ``np.isfinite`` into a reused bool buffer then ``all()`` is the cheapest exact screen we
    measured (a float sum is 2x slower and can overflow; max and min together cost the same)."""
    ok = np.isfinite(block, out=scratch)
    if ok.all():
        return None
    r, c = np.unravel_index(int(np.argmin(ok)), ok.shape)
    v = block[r, c]
    return int(r), int(c), "NaN" if np.isnan(v) else ("Inf" if v > 0 else "-Inf")


@dataclass(frozen=True)
class _Thresholds:
    """Per stored row and per stored column: the score of the query's best positive (``row`` /
    ``col``) and how many of its positives equal it (``row_eq`` / ``col_eq``, subtracted from
    the equality counts)."""

    row: np.ndarray
    col: np.ndarray
    row_eq: np.ndarray | int
    col_eq: np.ndarray | int


class _Pass:
    """One comparison pass over a source: hands out row blocks to workers, collects counts."""

    def __init__(self, src: MatrixSource, t: _Thresholds, plan: _Plan, check_finite: bool) -> None:
        self.src, self.t, self.plan = src, t, plan
        self.check = check_finite and src.dtype.kind == "f"
        self.rows = np.zeros((2, plan.n_rows), np.int64)  # b, e (+ tied positives) per row
        self._starts = iter(range(0, plan.n_rows, plan.rows))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.bad: list[tuple[int, int, int, str]] = []  # (block start, row, col, what)

    def _next(self) -> int | None:
        with self._lock:
            return None if self._stop.is_set() else next(self._starts, None)

    def worker(self) -> np.ndarray:
        """Process blocks until none is left; return this worker's column counts (2, n): b, e."""
        p = self.plan
        # masks[0]: "> threshold", masks[1]: "== threshold"; padding columns stay False forever.
        masks = np.zeros((2, p.rows, p.width), bool)
        scratch = np.empty((p.rows, p.n), self.src.dtype)
        cols = _ColumnCounter(2, p.n)
        d_col = self.t.col[None, :]
        while (i0 := self._next()) is not None:
            i1 = min(i0 + p.rows, p.n_rows)
            m = i1 - i0
            block = self.src.read_rows(i0, i1, out=scratch[:m])
            mk = masks[:, :m]
            gt, eq = mk[0, :, : p.n], mk[1, :, : p.n]
            if self.check and (hit := _non_finite_at(block, eq)) is not None:
                with self._lock:
                    self.bad.append((i0, i0 + hit[0], hit[1], hit[2]))
                self._stop.set()
                break
            if p.do_cols:
                np.greater(block, d_col, out=gt)
                np.equal(block, d_col, out=eq)
                cols.add(mk[:, :, : p.n])
            if p.do_rows:
                d_row = self.t.row[i0:i1, None]
                np.greater(block, d_row, out=gt)
                np.equal(block, d_row, out=eq)
                self.rows[:, i0:i1] = _row_count(mk, p)
        return cols.flush()

    def run(self) -> tuple[RankCounts, RankCounts]:
        if self.plan.threads == 1:
            parts = [self.worker()]
        else:
            with ThreadPoolExecutor(self.plan.threads, thread_name_prefix="var-bench-count") as ex:
                futures = [ex.submit(self.worker) for _ in range(self.plan.threads)]
                try:
                    parts = [f.result() for f in futures]
                except BaseException:  # a read error, Ctrl-C: let the other workers stop early
                    self._stop.set()
                    raise
        if self.bad:
            # Blocks are handed out in order and a worker checks a block before counting it, so
            # the smallest failing block is the first one in storage order: a stable message.
            _, r, c, what = min(self.bad)
            if self.src.transposed:
                r, c = c, r
            raise InputError(f"expected finite scores, got {what} at row {r}, column {c}")
        cols = np.sum(parts, axis=0)
        # A query's positives equal to its threshold (the diagonal entry, for the identity) are
        # in its "==" count: they are not competitors.
        return (
            RankCounts(self.rows[0], self.rows[1] - self.t.row_eq),
            RankCounts(cols[0], cols[1] - self.t.col_eq),
        )


def _check_source(src: MatrixSource, gold: Gold | None) -> tuple[int, int]:
    """(Nq, Ng) of S after checking its rank, shape (square for the identity, else the gold's)
    and dtype."""
    shape = tuple(src.shape)
    if len(shape) != 2:
        raise InputError(f"expected a 2-D score matrix, got {len(shape)}-D shape {shape}")
    if src.transposed:
        shape = shape[::-1]
    if gold is None or gold.is_identity:
        if shape[0] != shape[1]:
            raise InputError(
                f"expected a square N x N score matrix (query i's true item is item i), "
                f"got {shape[0]} x {shape[1]}"
            )
        if gold is not None and shape[0] != gold.queries.n:
            raise InputError(
                f"expected a {gold.queries.n} x {gold.gallery.n} score matrix, "
                f"got {shape[0]} x {shape[1]}"
            )
    elif shape != (gold.queries.n, gold.gallery.n):
        raise InputError(
            f"expected a {gold.queries.n} x {gold.gallery.n} score matrix (queries x "
            f"gallery items), got {shape[0]} x {shape[1]}"
        )
    if shape[0] == 0 or shape[1] == 0:
        raise InputError(f"expected a non-empty score matrix, got {shape[0]} x {shape[1]}")
    if src.dtype.kind not in _ACCEPTED_KINDS:
        raise InputError(f"expected real numeric scores (bool, int, float), got dtype {src.dtype}")
    return shape[0], shape[1]


def _identity_thresholds(src: MatrixSource) -> _Thresholds:
    d = np.ascontiguousarray(src.diagonal(), dtype=src.dtype)
    return _Thresholds(d, d, 1, 1)


def _gold_thresholds(src: MatrixSource, gold: Gold, block_bytes: int | None) -> _Thresholds:
    """Thresholds of an explicit gold, in stored coordinates: the scores of every positive pair
    gathered in one pass over the stored rows that hold one, then per query the best and how many
    positives equal it."""
    qi, gj = gold.pairs()
    si, sj = (gj, qi) if src.transposed else (qi, gj)  # stored (row, column) of each pair
    n_rows, n_cols = src.shape
    order = np.argsort(si, kind="stable")
    si, sj = si[order], sj[order]
    values = np.empty(si.size, src.dtype)
    step = max(
        1, min(n_rows, int(block_bytes or DEFAULT_BLOCK_BYTES) // (n_cols * src.dtype.itemsize))
    )
    bounds = np.searchsorted(si, np.arange(0, n_rows + step, step))
    for b, r0 in enumerate(range(0, n_rows, step)):
        lo, hi = bounds[b], bounds[b + 1]
        if lo == hi:
            continue
        block = src.read_rows(r0, min(r0 + step, n_rows))
        values[lo:hi] = block[si[lo:hi] - r0, sj[lo:hi]]
    if src.dtype.kind == "f" and not np.all(np.isfinite(values)):
        k = int(np.argmin(np.isfinite(values)))
        r, c = (sj[k], si[k]) if src.transposed else (si[k], sj[k])
        v = values[k]
        what = "NaN" if np.isnan(v) else ("Inf" if v > 0 else "-Inf")
        raise InputError(f"expected finite scores, got {what} at row {r}, column {c}")

    def best(owner: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        top = np.full(size, _lowest(src.dtype), src.dtype)
        np.maximum.at(top, owner, values)
        return top, np.bincount(owner[values == top[owner]], minlength=size)

    # Stored row r is a query of the rows pass, stored column c one of the columns pass (an item
    # with no positive keeps the lowest value: it is no query, and its counts are never read).
    row, row_eq = best(si, n_rows)
    col, col_eq = best(sj, n_cols)
    return _Thresholds(row, col, row_eq, col_eq)


def _lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else (np.iinfo(dtype).min if dtype.kind in "iu" else False)


def _count(
    matrix: Any,
    *,
    gold: Gold | None,
    block_bytes: int | None,
    threads: int | None,
    check_finite: bool,
    rows: bool,
    cols: bool,
) -> tuple[RankCounts, RankCounts]:
    src = as_source(matrix)
    n_q, n_g = _check_source(src, gold)
    if gold is not None and not gold.is_identity and cols and not gold.gallery_has_positives():
        raise InputError(
            "expected every gallery item to answer at least one query (each column "
            "is a query of the column direction), got items with none"
        )
    if src.transposed:  # the source yields rows of S.T: its "rows" are our columns
        rows, cols = cols, rows
    n_rows, n = src.shape
    plan = _plan(n_rows, n, src.dtype.itemsize, block_bytes, threads, rows, cols)
    log.debug(
        "counting %d x %d %s: %d rows/block, %d thread(s)",
        n_q,
        n_g,
        src.dtype,
        plan.rows,
        plan.threads,
    )
    if gold is None or gold.is_identity:
        t = _identity_thresholds(src)
    else:
        t = _gold_thresholds(src, gold, block_bytes)
    r, c = _Pass(src, t, plan, check_finite).run()
    return (c, r) if src.transposed else (r, c)


def count_ranks(
    matrix: Any,
    gold: Gold | None = None,
    *,
    block_bytes: int | None = None,
    threads: int | None = None,
    check_finite: bool = True,
) -> tuple[RankCounts, RankCounts]:
    """Both directions in ONE pass over S. Returns ``(rows, cols)``.

    With P_i the positive columns of row i (``gold``; None: the identity, P_i = {i}), d_i =
    max_{j in P_i} S[i, j], and likewise Q_j = {i : j in P_i}, c_j = max_{i in Q_j} S[i, j]:

    * ``rows.higher[i] = #{j not in P_i: S[i,j] > d_i}``,
      ``rows.tied[i] = #{j not in P_i: S[i,j] == d_i}`` (query = row i, e.g. t2v);
    * ``cols.higher[j] = #{i not in Q_j: S[i,j] > c_j}``, ``cols.tied[j]`` likewise (query =
      column j, e.g. v2t).

    Args:
        matrix: a 2-D ndarray / np.memmap / anything
            :func:`~var_bench.tasks.retrieval.matrix.as_source` accepts, or a
            :class:`~var_bench.tasks.retrieval.matrix.MatrixSource`: square N x N for the
            identity, else ``gold.queries.n x gold.gallery.n``.
        gold: the positives (:class:`~var_bench.tasks.gold.Gold`); None: the identity.
        block_bytes: bytes of S compared per block (default :data:`DEFAULT_BLOCK_BYTES`).
        threads: worker threads (default: 1 for small matrices, else up to
            :data:`MAX_DEFAULT_THREADS`). Neither this nor ``block_bytes`` changes the result.
        check_finite: refuse the first NaN or +-Inf met; with False the caller vouches for finite
            scores (a NaN would silently count as neither higher nor tied).

    Returns:
        ``(rows, cols)``: the counts of the row queries and of the column queries.

    Raises:
        InputError: a wrong shape or dtype, a non-finite score, or (for the column direction) a
            gallery item that answers no query.

    Example:
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.1, 0.9],
    ...               [0.8, 0.5, 0.2],
    ...               [0.3, 0.7, 0.6]], dtype=np.float32)
    >>> rows, cols = count_ranks(S)
    >>> rows.higher.tolist(), rows.tied.tolist()
    ([0, 1, 1], [1, 0, 0])
    >>> cols.higher.tolist(), cols.tied.tolist()
    ([0, 1, 1], [0, 0, 0])
    """
    return _count(
        matrix,
        gold=gold,
        block_bytes=block_bytes,
        threads=threads,
        check_finite=check_finite,
        rows=True,
        cols=True,
    )


def count_direction(
    matrix: Any, over_rows: bool, gold: Gold | None = None, **kw: Any
) -> RankCounts:
    """Counts for one direction only: rows (``over_rows=True``, e.g. t2v) or columns (v2t).

    Same arguments and result as :func:`count_ranks` for that direction, with half the work.
    """
    kw = {"block_bytes": None, "threads": None, "check_finite": True, **kw}
    r, c = _count(matrix, gold=gold, rows=over_rows, cols=not over_rows, **kw)
    return r if over_rows else c
