"""var_bench.tasks.retrieval.counting: the one-pass (b, e) kernel for both directions."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from var_bench.errors import InputError
from var_bench.tasks.retrieval import counting
from var_bench.tasks.retrieval.counting import count_direction, count_ranks
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.matrix import ArraySource, NpyFileSource

from .reference import argsort_ranks, clip4clip_ranks, sorted_counts

# Small integer scores make ties frequent; a few dtypes cover float, int and half precision.
DTYPES = (np.float64, np.float32, np.float16, np.int8, np.int64, np.uint8)


@st.composite
def square_matrices(draw, max_n: int = 12, dtypes=DTYPES):
    n = draw(st.integers(1, max_n))
    dtype = draw(st.sampled_from(dtypes))
    values = draw(hnp.arrays(np.int8, (n, n), elements=st.integers(0, 6)))
    return values.astype(dtype)


def assert_same(a: RankCounts, b: RankCounts) -> None:
    np.testing.assert_array_equal(a.higher, b.higher)
    np.testing.assert_array_equal(a.tied, b.tied)


def reference(S: np.ndarray) -> tuple[RankCounts, RankCounts]:
    return RankCounts(*sorted_counts(S)), RankCounts(*sorted_counts(np.asarray(S).T))


# ---------------------------------------------------------------------------------------------
# Golden cases


def test_perfect_diagonal() -> None:
    S = np.eye(50, dtype=np.float32)
    rows, cols = count_ranks(S)
    for q in (rows, cols):
        assert (q.higher == 0).all() and (q.tied == 0).all()


def test_constant_matrix_is_all_tied() -> None:
    rows, cols = count_ranks(np.full((290, 290), 0.5, np.float32))
    for q in (rows, cols):
        assert (q.higher == 0).all() and (q.tied == 289).all()


def test_true_item_tied_at_ranks_4_to_7() -> None:
    # Row 0: three items above the true item, three tied with it (ranks 4..7 shared by 4 items).
    S = np.zeros((10, 10))
    S[0] = [5, 9, 9, 9, 5, 5, 5, 1, 1, 1]
    rows, _ = count_ranks(S)
    assert (rows.higher[0], rows.tied[0]) == (3, 3)


def test_duplicate_captions_tie_in_the_column_direction() -> None:
    rng = np.random.default_rng(0)
    S = rng.standard_normal((20, 20)).astype(np.float32)
    S[7] = S[3]  # two identical captions: rows 3 and 7 score every video alike
    rows, cols = count_ranks(S)
    # v2t query 3 (video 3): caption 7 scores exactly like caption 3, its true caption.
    assert cols.tied[3] == 1 and cols.tied[7] == 1
    assert_same(rows, reference(S)[0])
    assert_same(cols, reference(S)[1])


def test_float16_rounding_ties_are_counted_exactly() -> None:
    rng = np.random.default_rng(1)
    S32 = rng.uniform(0.0, 1.0, (300, 300)).astype(np.float32)
    S16 = S32.astype(np.float16)
    rows16, cols16 = count_ranks(S16)
    rows32, _ = count_ranks(S32)
    assert rows32.tied.sum() == 0
    assert (rows16.tied > 0).mean() > 0.1  # rounding to 11 bits ties many queries
    ref_rows, ref_cols = reference(S16)  # float16 -> float64 is exact
    assert_same(rows16, ref_rows)
    assert_same(cols16, ref_cols)


def test_compares_in_stored_dtype_without_lossy_cast() -> None:
    # 2**53 + 1 is not a float64: a cast would create a tie that is not in the data.
    big = np.int64(2**53)
    S = np.array([[big, big + 1], [0, 0]], dtype=np.int64)
    rows, _ = count_ranks(S)
    assert rows.higher.tolist() == [1, 0] and rows.tied.tolist() == [0, 1]


def test_large_ints_and_big_endian() -> None:
    rng = np.random.default_rng(2)
    S = rng.integers(-3, 3, (40, 40)).astype(">i4")
    rows, cols = count_ranks(S)
    ref_rows, ref_cols = reference(S)
    assert_same(rows, ref_rows)
    assert_same(cols, ref_cols)


def test_bool_scores() -> None:
    S = np.eye(5, dtype=bool)
    S[0, 3] = True
    rows, _ = count_ranks(S)
    assert rows.tied.tolist() == [1, 0, 0, 0, 0]


def test_cross_check_against_argsort_reference_without_ties() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 17, 290, 801):
        S = rng.standard_normal((n, n))  # continuous: no ties (almost surely; asserted)
        rows, cols = count_ranks(S)
        assert rows.tied.sum() == 0 and cols.tied.sum() == 0
        np.testing.assert_array_equal(rows.higher, argsort_ranks(S))
        np.testing.assert_array_equal(cols.higher, argsort_ranks(S.T))


def test_one_pass_covers_a_multi_block_multi_thread_run() -> None:
    rng = np.random.default_rng(4)
    S = rng.integers(0, 50, (700, 700)).astype(np.float32)
    ref_rows, ref_cols = reference(S)
    for block_bytes, threads in ((None, None), (1, 1), (4096, 2), (700 * 4 * 300, 3)):
        rows, cols = count_ranks(S, block_bytes=block_bytes, threads=threads)
        assert_same(rows, ref_rows)
        assert_same(cols, ref_cols)


def test_more_than_255_rows_per_block_do_not_overflow_column_counters() -> None:
    S = np.zeros((600, 600), np.float32)
    np.fill_diagonal(S, -1.0)  # every column: 599 items above the true item
    rows, cols = count_ranks(S, block_bytes=600 * 600 * 4, threads=1)
    assert (cols.higher == 599).all() and (rows.higher == 599).all()
    assert (cols.tied == 0).all()


def test_row_counter_pads_lanes_for_every_width() -> None:
    # Widths around the 8-boolean word and the 255-word lane limit (2040 = 8 * 255).
    for n in (1, 7, 8, 9, 2039, 2041, 4081):
        k = n // 2
        S = np.zeros((n, n), np.float32)
        S[:, :k] = 1.0
        np.fill_diagonal(S, 0.5)
        rows = count_direction(S, over_rows=True)
        np.testing.assert_array_equal(rows.higher, k - (np.arange(n) < k))
        assert (rows.tied == 0).all()


# ---------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=60, deadline=None)
@given(square_matrices())
def test_matches_sorting_reference(S: np.ndarray) -> None:
    rows, cols = count_ranks(S)
    ref_rows, ref_cols = reference(S)
    assert_same(rows, ref_rows)
    assert_same(cols, ref_cols)


@settings(max_examples=40, deadline=None)
@given(square_matrices(dtypes=(np.int64,)), st.sampled_from(["affine", "cube", "exp", "arctan"]))
def test_invariant_to_strictly_monotone_transforms(S: np.ndarray, transform: str) -> None:
    f = {
        "affine": lambda x: 3 * x - 7,
        "cube": lambda x: x**3,
        "exp": lambda x: np.exp(x.astype(np.float64)),
        "arctan": lambda x: np.arctan(x.astype(np.float64) / 3.0),
    }[transform]
    for a, b in zip(count_ranks(S), count_ranks(f(S))):
        assert_same(a, b)


@settings(max_examples=40, deadline=None)
@given(square_matrices(), st.randoms(use_true_random=False))
def test_consistent_pair_permutation_permutes_counts(S: np.ndarray, random) -> None:
    # Reordering the gallery and the queries alike (the true item follows its query) only
    # reorders the per-query counts.
    perm = np.array(random.sample(range(S.shape[0]), S.shape[0]))
    rows, cols = count_ranks(S)
    prow, pcol = count_ranks(S[perm][:, perm])
    assert_same(prow, rows.subset(perm))
    assert_same(pcol, cols.subset(perm))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 15), st.randoms(use_true_random=False), st.integers(0, 2**32 - 1))
def test_gallery_permutation_without_ties(n: int, random, seed: int) -> None:
    # Shuffle the gallery (columns) and move the ground truth with it: the true item of query i
    # is now column inv[i]. Its position in the row sorted by score must still be b_i.
    S = np.random.default_rng(seed).standard_normal((n, n))
    rows, cols = count_ranks(S)
    perm = np.array(random.sample(range(n), n))
    inv = np.argsort(perm)
    shuffled = S[:, perm]
    order = np.argsort(-shuffled, axis=1)
    position = np.argsort(order, axis=1)[np.arange(n), inv]
    np.testing.assert_array_equal(position, rows.higher)
    # Column queries: the same gallery shuffle applied to the rows of S.T.
    assert_same(count_ranks(S[perm][:, perm])[1], cols.subset(perm))


@settings(max_examples=40, deadline=None)
@given(square_matrices())
def test_transpose_swaps_directions(S: np.ndarray) -> None:
    rows, cols = count_ranks(S)
    trows, tcols = count_ranks(np.ascontiguousarray(S.T))
    assert_same(rows, tcols)
    assert_same(cols, trows)


@settings(max_examples=40, deadline=None)
@given(square_matrices())
def test_both_directions_equal_one_direction_at_a_time(S: np.ndarray) -> None:
    rows, cols = count_ranks(S)
    assert_same(rows, count_direction(S, over_rows=True))
    assert_same(cols, count_direction(S, over_rows=False))


@settings(max_examples=40, deadline=None)
@given(square_matrices(max_n=40), st.integers(1, 2000), st.integers(1, 4))
def test_block_size_and_threads_do_not_change_results(
    S: np.ndarray, block_bytes: int, threads: int
) -> None:
    rows, cols = count_ranks(S)
    brows, bcols = count_ranks(S, block_bytes=block_bytes, threads=threads)
    assert_same(rows, brows)
    assert_same(cols, bcols)


@settings(max_examples=25, deadline=None)
@given(square_matrices(max_n=20), st.booleans())
def test_fortran_order_and_memmap_give_identical_results(S: np.ndarray, fortran: bool) -> None:
    rows, cols = count_ranks(S)
    F = np.asfortranarray(S)
    assert_same(count_ranks(F)[0], rows)
    assert_same(count_ranks(F)[1], cols)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.npy")
        np.save(path, F if fortran else S)
        mm = np.load(path, mmap_mode="r")
        mrows, mcols = count_ranks(mm, block_bytes=64, threads=2)
        del mm
    assert_same(mrows, rows)
    assert_same(mcols, cols)


# ---------------------------------------------------------------------------------------------
# Sources and bad input


def test_memmap_is_read_through_a_file_source(tmp_path, monkeypatch) -> None:
    S = np.random.default_rng(5).standard_normal((64, 64)).astype(np.float32)
    path = tmp_path / "s.npy"
    np.save(path, S)
    seen = []
    original = NpyFileSource.read_rows

    def spy(self, start, stop, out=None):
        seen.append((start, stop))
        return original(self, start, stop, out)

    monkeypatch.setattr(NpyFileSource, "read_rows", spy)
    rows, cols = count_ranks(np.load(path, mmap_mode="r"), block_bytes=64 * 4 * 10)
    assert seen and max(stop - start for start, stop in seen) == 10
    assert_same(rows, reference(S)[0])
    assert_same(cols, reference(S)[1])


def test_h5py_dataset_source(tmp_path) -> None:
    S = np.random.default_rng(6).integers(0, 4, (30, 30)).astype(np.float16)
    with h5py.File(tmp_path / "s.h5", "w") as f:
        f["S"] = S
    with h5py.File(tmp_path / "s.h5", "r") as f:
        rows, cols = count_ranks(f["S"], block_bytes=200)
    assert_same(rows, reference(S)[0])
    assert_same(cols, reference(S)[1])


def test_transposed_source_swaps_results() -> None:
    S = np.random.default_rng(7).integers(0, 5, (25, 25)).astype(np.float32)
    rows, cols = count_ranks(ArraySource(np.ascontiguousarray(S.T), transposed=True))
    assert_same(rows, reference(S)[0])
    assert_same(cols, reference(S)[1])


@pytest.mark.parametrize(("value", "what"), [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "-Inf")])
@pytest.mark.parametrize("threads", [1, 2])
def test_non_finite_scores_are_refused_with_their_position(value, what, threads) -> None:
    S = np.zeros((300, 300), np.float32)
    S[201, 13] = value
    S[250, 2] = value  # a later one must not be reported instead
    message = rf"expected finite scores, got {what} at row 201, column 13$"
    with pytest.raises(InputError, match=message):
        count_ranks(S, block_bytes=300 * 4 * 7, threads=threads)


def test_non_finite_position_is_in_S_coordinates_for_fortran_input() -> None:
    S = np.zeros((30, 30))
    S[4, 21] = np.nan
    with pytest.raises(InputError, match="got NaN at row 4, column 21"):
        count_ranks(np.asfortranarray(S))


def test_non_finite_on_the_diagonal_and_huge_finite_values() -> None:
    S = np.eye(10)
    S[6, 6] = np.nan
    with pytest.raises(InputError, match="row 6, column 6"):
        count_ranks(S)
    big = np.full((10, 10), np.finfo(np.float32).max, np.float32)  # finite; their sum is not
    rows, _ = count_ranks(big)
    assert (rows.tied == 9).all()


def test_check_finite_false_skips_the_screen() -> None:
    S = np.eye(4)
    S[0, 1] = np.inf
    rows, _ = count_ranks(S, check_finite=False)
    assert rows.higher.tolist() == [1, 0, 0, 0]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.zeros((3, 4)), "expected a square N x N score matrix .* got 3 x 4"),
        (np.zeros(5), "expected a 2-D score matrix, got 1-D"),
        (np.zeros((2, 2, 2)), "expected a 2-D score matrix, got 3-D"),
        (np.zeros((0, 0)), "expected a non-empty score matrix"),
        (np.zeros((2, 2), dtype=object), "expected real numeric scores .* got dtype object"),
        (np.zeros((2, 2), dtype=complex), "got dtype complex128"),
        (np.zeros((2, 2), dtype="U3"), "got dtype <U3"),
    ],
)
def test_bad_shapes_and_dtypes_are_refused_in_one_line(matrix, message) -> None:
    with pytest.raises(InputError, match=message) as err:
        count_ranks(matrix)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kw", [{"block_bytes": 0}, {"threads": 0}])
def test_bad_options_are_refused(kw) -> None:
    with pytest.raises(InputError):
        count_ranks(np.eye(3), **kw)


def test_nested_lists_are_accepted() -> None:
    rows, cols = count_ranks([[1, 0], [1, 0]])
    assert rows.higher.tolist() == [0, 1] and cols.tied.tolist() == [1, 1]


def test_small_matrices_run_on_the_calling_thread(monkeypatch) -> None:
    def no_pool(*a, **k):
        raise AssertionError("a thread pool was started for a small matrix")

    monkeypatch.setattr(counting, "ThreadPoolExecutor", no_pool)
    count_ranks(np.random.default_rng(0).standard_normal((290, 290)).astype(np.float32))


# ---------------------------------------------------------------------------------------------
# Regressions named after peer bugs (peers.md)


def test_clip4clip_80_ties_still_give_exactly_one_rank_per_query() -> None:
    S = np.round(np.random.default_rng(8).uniform(0, 1, (100, 100)), 1)  # heavy ties
    assert len(clip4clip_ranks(S)) > 100  # the peer bug: more ranks than queries
    rows, cols = count_ranks(S)
    assert len(rows) == 100 and len(cols) == 100


def test_ranx_jit_import_and_first_call_compile_nothing() -> None:
    code = (
        "import sys, numpy as np\n"
        "from var_bench.tasks.retrieval import count_ranks, summarise\n"
        "r, c = count_ranks(np.eye(290, dtype=np.float32))\n"
        "summarise(r); summarise(c)\n"
        "bad = [m for m in ('numba', 'llvmlite', 'jax', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_read_error_in_a_worker_stops_the_pass(tmp_path) -> None:
    S = np.ones((64, 64), np.float32)
    path = tmp_path / "s.npy"
    np.save(path, S)
    with open(path, "r+b") as f:  # truncate the data, keep the header: the last rows are missing
        f.truncate(path.stat().st_size - 64 * 4 * 3)
    src = NpyFileSource(path, path.stat().st_size + 64 * 4 * 3 - S.nbytes, (64, 64), np.float32)
    with pytest.raises(InputError, match="the file ends inside row 61"):
        count_ranks(src, block_bytes=64 * 4 * 4, threads=2)
