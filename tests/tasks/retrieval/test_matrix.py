"""var_bench.tasks.retrieval.matrix: row-block sources over arrays, memmaps, .npy files, h5py
datasets."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from var_bench.errors import InputError
from var_bench.tasks.retrieval.matrix import ArraySource, MatrixSource, NpyFileSource, as_source

M = np.arange(35, dtype=np.float32).reshape(5, 7) * 0.5


def test_array_source_rows_and_diagonal() -> None:
    src = as_source(M)
    assert isinstance(src, ArraySource) and isinstance(src, MatrixSource)
    assert src.shape == (5, 7) and src.dtype == np.float32 and not src.transposed
    np.testing.assert_array_equal(src.diagonal(), np.diagonal(M))
    block = src.read_rows(1, 3, out=np.empty((2, 7), np.float32))
    np.testing.assert_array_equal(block, M[1:3])
    assert np.shares_memory(block, M)  # in-memory rows are handed out without a copy
    assert block.flags.c_contiguous


def test_fortran_array_is_a_transposed_source() -> None:
    F = np.asfortranarray(M)
    src = as_source(F)
    assert src.transposed and src.shape == (7, 5)
    np.testing.assert_array_equal(src.read_rows(0, 7), M.T)
    np.testing.assert_array_equal(src.diagonal(), np.diagonal(M))


def test_non_contiguous_view_is_copied_per_block() -> None:
    view = np.arange(100.0).reshape(10, 10)[::2, ::3]
    block = as_source(view).read_rows(1, 4)
    np.testing.assert_array_equal(block, view[1:4])
    assert block.flags.c_contiguous


def test_nested_lists_become_arrays() -> None:
    src = as_source([[1, 2], [3, 4]])
    assert src.shape == (2, 2) and src.dtype.kind == "i"
    np.testing.assert_array_equal(src.diagonal(), [1, 4])


@pytest.mark.parametrize("order", ["C", "F"])
def test_memmap_of_npy_is_read_from_its_file(tmp_path, order: str) -> None:
    S = np.asarray(np.random.default_rng(0).standard_normal((6, 6)), order=order)
    np.save(tmp_path / "s.npy", S)
    mm = np.load(tmp_path / "s.npy", mmap_mode="r")
    src = as_source(mm)
    assert isinstance(src, NpyFileSource) and src.transposed == (order == "F")
    stored = S if order == "C" else S.T
    np.testing.assert_array_equal(src.diagonal(), np.diagonal(S))
    buf = np.empty((2, 6))
    got = src.read_rows(2, 4, out=buf)
    assert got is buf  # the caller's buffer is reused
    np.testing.assert_array_equal(got, stored[2:4])
    np.testing.assert_array_equal(src.read_rows(0, 6), stored)


def test_raw_file_with_offset(tmp_path) -> None:
    S = np.arange(16, dtype=">i2").reshape(4, 4)
    path = tmp_path / "raw.bin"
    path.write_bytes(b"HEADER" + S.tobytes())
    src = NpyFileSource(path, 6, (4, 4), S.dtype)
    np.testing.assert_array_equal(src.read_rows(1, 3), S[1:3])
    np.testing.assert_array_equal(src.diagonal(), [0, 5, 10, 15])


def test_sliced_memmap_is_wrapped_not_reread(tmp_path) -> None:
    np.save(tmp_path / "s.npy", np.eye(6))
    mm = np.load(tmp_path / "s.npy", mmap_mode="r")[1:, 1:]  # no longer the root mapping
    src = as_source(mm)
    assert isinstance(src, ArraySource)
    np.testing.assert_array_equal(src.read_rows(0, 5), np.eye(5))


def test_truncated_file_is_bad_input(tmp_path) -> None:
    S = np.ones((4, 4), np.float32)
    path = tmp_path / "short.bin"
    path.write_bytes(S.tobytes()[:-5])
    src = NpyFileSource(path, 0, (4, 4), np.float32)
    with pytest.raises(InputError, match="expected 4 rows of 16 bytes, the file ends inside row 3"):
        src.read_rows(0, 4)
    with pytest.raises(InputError, match="ends inside row 3"):
        src.diagonal()


def test_h5py_dataset(tmp_path) -> None:
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f["S"] = M
    with h5py.File(tmp_path / "m.h5", "r") as f:
        src = as_source(f["S"])
        assert src.dtype == np.float32 and src.shape == (5, 7)
        np.testing.assert_array_equal(src.diagonal(), np.diagonal(M))
        np.testing.assert_array_equal(src.read_rows(3, 5, out=np.empty((2, 7), np.float32)), M[3:5])


def test_torch_tensor() -> None:
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(M.copy())
    src = as_source(t)
    assert src.dtype == np.float32
    np.testing.assert_array_equal(src.diagonal(), np.diagonal(M))
    np.testing.assert_array_equal(src.read_rows(0, 2), M[:2])


def test_sources_pass_through() -> None:
    src = ArraySource(M)
    assert as_source(src) is src
