"""The counting kernel: (b, e) for both retrieval directions in one pass over S, without sorting.

For a square score matrix S (N x N, the true item of query i is item i) and its diagonal d:

* rows (query = row i, e.g. t2v):  b_i = #{j != i : S[i, j] > d_i},  e_i = #{j != i : S[i, j] == d_i}
* columns (query = column j, v2t): b_j = #{i != j : S[i, j] > d_j},  e_j = #{i != j : S[i, j] == d_j}

S is read once, in blocks of consecutive rows. Each block is screened for NaN/Inf, then compared
four times while it sits in cache (``> d_col``, ``== d_col``, ``> d_row``, ``== d_row``) into
reused boolean buffers, and the booleans are counted: along each row with a byte-lane sum over
64-bit words, down each column with uint8 counters that spill into int64 every 255 rows. The
diagonal element always equals itself, so 1 is subtracted from each equality count at the end.
Nothing is sorted and S.T is never built: cost O(N^2) comparisons, memory O(block + N).

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
from var_bench.tasks.retrieval.matrix import MatrixSource, as_source
from var_bench.tasks.retrieval.counts import QueryRanks

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
    """How one pass is cut up: ``rows`` per block, ``threads``, and the padded row layout used by
    the byte-lane row counter (``width`` = 8 * ``chunk_words`` * ``chunks`` >= N booleans)."""

    n: int
    rows: int
    threads: int
    width: int
    chunks: int
    chunk_words: int
    do_rows: bool
    do_cols: bool


def _plan(n: int, itemsize: int, block_bytes: int | None, threads: int | None,
          do_rows: bool, do_cols: bool) -> _Plan:
    if block_bytes is None:
        block_bytes = DEFAULT_BLOCK_BYTES
    if int(block_bytes) < 1:
        raise InputError(f"block_bytes: expected a positive number of bytes, got {block_bytes}")
    rows = max(1, min(n, int(block_bytes) // (n * itemsize)))
    blocks = -(-n // rows)
    if threads is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        small = n * n * itemsize < PARALLEL_MIN_BYTES
        threads = 1 if small else min(cpus or 1, MAX_DEFAULT_THREADS)
    if int(threads) < 1:
        raise InputError(f"threads: expected a positive number of threads, got {threads}")
    words = -(-n // 8)
    chunks = -(-words // _LANE_MAX)
    chunk_words = -(-words // chunks)
    return _Plan(n=n, rows=rows, threads=max(1, min(int(threads), blocks)),
                 width=8 * chunk_words * chunks, chunks=chunks, chunk_words=chunk_words,
                 do_rows=do_rows, do_cols=do_cols)


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


class _Pass:
    """One comparison pass over a source: hands out row blocks to workers, collects counts."""

    def __init__(self, src: MatrixSource, d: np.ndarray, plan: _Plan, check_finite: bool) -> None:
        self.src, self.d, self.plan = src, d, plan
        self.check = check_finite and src.dtype.kind == "f"
        self.rows = np.zeros((2, plan.n), np.int64)  # b, e (+1 for the diagonal) per row
        self._starts = iter(range(0, plan.n, plan.rows))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.bad: list[tuple[int, int, int, str]] = []  # (block start, row, col, what)

    def _next(self) -> int | None:
        with self._lock:
            return None if self._stop.is_set() else next(self._starts, None)

    def worker(self) -> np.ndarray:
        """Process blocks until none is left; return this worker's column counts (2, N): b, e."""
        p, d = self.plan, self.d
        # masks[0]: "> threshold", masks[1]: "== threshold"; padding columns stay False forever.
        masks = np.zeros((2, p.rows, p.width), bool)
        scratch = np.empty((p.rows, p.n), self.src.dtype)
        cols = _ColumnCounter(2, p.n)
        d_col = d[None, :]
        while (i0 := self._next()) is not None:
            i1 = min(i0 + p.rows, p.n)
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
                d_row = d[i0:i1, None]
                np.greater(block, d_row, out=gt)
                np.equal(block, d_row, out=eq)
                self.rows[:, i0:i1] = _row_count(mk, p)
        return cols.flush()

    def run(self) -> tuple[QueryRanks, QueryRanks]:
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
        # The diagonal entry equals itself: it is in every "==" count once.
        return (QueryRanks(self.rows[0], self.rows[1] - 1), QueryRanks(cols[0], cols[1] - 1))


def _check_source(src: MatrixSource) -> int:
    shape = tuple(src.shape)
    if len(shape) != 2:
        raise InputError(f"expected a 2-D score matrix, got {len(shape)}-D shape {shape}")
    if src.transposed:
        shape = shape[::-1]
    if shape[0] != shape[1]:
        raise InputError(
            f"expected a square N x N score matrix (query i's true item is item i), "
            f"got {shape[0]} x {shape[1]}"
        )
    if shape[0] == 0:
        raise InputError("expected a non-empty score matrix, got 0 x 0")
    if src.dtype.kind not in _ACCEPTED_KINDS:
        raise InputError(f"expected real numeric scores (bool, int, float), got dtype {src.dtype}")
    return shape[0]


def _count(matrix: Any, *, block_bytes: int | None, threads: int | None, check_finite: bool,
           rows: bool, cols: bool) -> tuple[QueryRanks, QueryRanks]:
    src = as_source(matrix)
    n = _check_source(src)
    if src.transposed:  # the source yields rows of S.T: its "rows" are our columns
        rows, cols = cols, rows
    plan = _plan(n, src.dtype.itemsize, block_bytes, threads, rows, cols)
    log.debug("counting %d x %d %s: %d rows/block, %d thread(s)", n, n, src.dtype, plan.rows,
              plan.threads)
    d = np.ascontiguousarray(src.diagonal(), dtype=src.dtype)
    r, c = _Pass(src, d, plan, check_finite).run()
    return (c, r) if src.transposed else (r, c)


def count_ranks(matrix: Any, *, block_bytes: int | None = None, threads: int | None = None,
                check_finite: bool = True) -> tuple[QueryRanks, QueryRanks]:
    """Both directions in ONE pass over S. Returns ``(rows, cols)``.

    ``matrix``: a 2-D ndarray / np.memmap / anything :func:`var_bench.tasks.retrieval.matrix.as_source` accepts,
    or a :class:`~var_bench.tasks.retrieval.matrix.MatrixSource`. S must be square (N x N, the true item of query
    i is i).

    * ``rows.higher[i] = #{j != i: S[i,j] > S[i,i]}``,
      ``rows.tied[i] = #{j != i: S[i,j] == S[i,i]}`` (query = row i, e.g. t2v);
    * ``cols.higher[j] = #{i != j: S[i,j] > S[j,j]}``, ``cols.tied[j]`` likewise (query = column
      j, e.g. v2t).

    ``block_bytes``: bytes of S compared per block (default :data:`DEFAULT_BLOCK_BYTES`);
    ``threads``: worker threads (default: 1 for small matrices, else up to
    :data:`MAX_DEFAULT_THREADS`). Neither changes the result. ``check_finite``: raise
    :class:`~var_bench.errors.InputError` on the first NaN or +-Inf met; with False the caller
    vouches for finite scores (a NaN would silently count as neither higher nor tied).

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
    return _count(matrix, block_bytes=block_bytes, threads=threads, check_finite=check_finite,
                  rows=True, cols=True)


def count_direction(matrix: Any, over_rows: bool, **kw: Any) -> QueryRanks:
    """Counts for one direction only: rows (``over_rows=True``, e.g. t2v) or columns (v2t).

    Same arguments and result as :func:`count_ranks` for that direction, with half the work.
    """
    kw = {"block_bytes": None, "threads": None, "check_finite": True, **kw}
    r, c = _count(matrix, rows=over_rows, cols=not over_rows, **kw)
    return r if over_rows else c
