import os

import numpy as np
import pytest

from support.featuretrees import path_of, write_tree
from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.errors import InputError
from var_bench.features.layouts import index_streams
from var_bench.features import readers
from var_bench.features.readers import (ArrayPool, OpenFiles, check_finite, read_header, read_stream,
                                        video_headers)

IDS = {"test": ["Abuse028_x264", "Arson001_x264"]}
V = "Abuse028_x264"


@pytest.fixture
def tree(tmp_path):
    vals = write_tree(tmp_path, "ucf-crops", IDS, T=4)
    return tmp_path, vals


def _index(root):
    return index_streams(UCFCRIME_AR, root)["rgb"]


def _read(root, crops="mean", T=None):
    ix = _index(root)
    heads = video_headers(ix, V)
    return read_stream(ix, V, heads, T or heads[0].shape[0], crops, ArrayPool().lease())


def test_reads_mean_center_all_and_trims(tree):
    root, vals = tree
    x = vals[V]
    np.testing.assert_allclose(_read(root, "mean"), x.mean(axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(_read(root, "center"), x[:, 0])
    np.testing.assert_array_equal(_read(root, "all"), x)
    np.testing.assert_array_equal(_read(root, "center", T=2), x[:2, 0])


def test_other_dtypes_and_fortran_order_fall_back_to_np_load(tree):
    root, vals = tree
    x = vals[V]
    for k in range(10):
        np.save(path_of(root, "ucf-crops", "test", V, k), np.asfortranarray(x[:, k].astype(np.float64)))
    np.testing.assert_allclose(_read(root, "all"), x)


def test_rtfm_and_vggish(tmp_path):
    vals = write_tree(tmp_path, "ucf-rtfm", IDS, T=3)
    ix = index_streams(UCFCRIME_AR, tmp_path)["rgb"]
    ix.num_crops = 10
    heads = video_headers(ix, V)
    np.testing.assert_allclose(read_stream(ix, V, heads, 3, "mean", ArrayPool().lease()), vals[V].mean(1), atol=1e-6)
    ix.num_crops = 5
    with pytest.raises(InputError, match=r"expected C = 5 crops \(as earlier videos\)"):
        video_headers(ix, V)
    xd = {"test": ["a__#1_label_A"]}
    write_tree(tmp_path / "x", "xd-i3d", xd, T=3)
    a = write_tree(tmp_path / "x", "xd-vggish", xd, T=3)
    ix = index_streams(XDVIOLENCE_AR, tmp_path / "x")["audio"]
    out = read_stream(ix, "a__#1_label_A", video_headers(ix, "a__#1_label_A"), 3, "all", ArrayPool().lease())
    np.testing.assert_array_equal(out, a["a__#1_label_A"])


@pytest.mark.parametrize("array, message", [
    (np.zeros((4, 512), np.float32), r"expected D = 1024 \(ucf-crops, as the stream's first file\), .*__3.npy has shape \[4, 512\]"),
    (np.zeros((4, 2, 1024), np.float32), r"expected a 2-D array \[T, D\]"),
    (np.zeros((0, 1024), np.float32), r"expected T >= 1 snippets, .*\(empty\)"),
    (np.zeros((5, 1024), np.float32), r"expected the same T in every crop file, found .*crop 3: T = 5"),
    (np.array(["a"] * 4), r"expected a float array, .* holds dtype <U1"),
    (np.array([{"a": 1}], dtype=object), r"expected a float array, .*pickled objects are refused"),
])
def test_bad_files_are_named(tree, array, message):
    root, _ = tree
    p = path_of(root, "ucf-crops", "test", V, 3)
    np.save(p, array, allow_pickle=True)
    with pytest.raises(InputError, match=message) as e:
        video_headers(_index(root), V)
    assert f"video {V}" in str(e.value) and "\n" not in str(e.value)


def test_not_an_npy_file_and_truncated(tree):
    root, _ = tree
    p = path_of(root, "ucf-crops", "test", V, 2)
    data = p.read_bytes()
    p.write_bytes(b"hello, this is not numpy")
    with pytest.raises(InputError, match=r"expected a .npy array, .*__2.npy is not one"):
        video_headers(_index(root), V)
    p.write_bytes(data[:-100])
    ix = _index(root)
    with pytest.raises(InputError, match=r"__2.npy has .* \(truncated\)"):
        read_stream(ix, V, video_headers(ix, V), 4, "mean", ArrayPool().lease())


def test_check_finite():
    check_finite(np.ones(3, np.float32), "v", "rgb", "f")
    with pytest.raises(InputError, match=r"rgb features of video v: expected finite values, found 2 NaN/Inf in f.npy"):
        check_finite(np.array([1, np.nan, np.inf], np.float32), "v", "rgb", "f.npy")


def test_read_header_of_a_directory_like_error(tmp_path):
    with pytest.raises(InputError, match="is not one"):
        read_header(tmp_path / "missing.npy", "v", "rgb")


@pytest.mark.parametrize("array", [
    np.zeros((450, 1024), np.float32), np.zeros((3,), "<f8"), np.zeros((2, 3, 4), ">i2"),
    np.zeros((5, 2), np.float32, order="F"), np.zeros((), np.float32), np.zeros((1, 10, 2048), "<f2"),
    np.zeros((7, 128), np.uint8), np.zeros((2,), "U3"), np.zeros((2,), [("a", "<f4")]),
])
@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_fast_header_agrees_with_numpy(tmp_path, array, version):
    """The canonical-header fast path gives numpy's shape, order, dtype and data offset, or
    declines (and numpy's own reader parses the file)."""
    path = tmp_path / "x.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)
    fast = readers._fast_header(path.read_bytes()[:readers._PROBE])
    with open(path, "rb") as f:
        np.lib.format.read_magic(f)
        ref = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
               else np.lib.format.read_array_header_2_0(f))
        ref_offset = f.tell()
    if array.dtype.names or array.dtype.kind == "U":
        assert fast is None or fast == ref  # declined or agreed; never a different answer
    else:
        assert fast == (tuple(ref[0]), ref[1], np.dtype(ref[2]), ref_offset)
        assert fast[2] == array.dtype and fast[0] == array.shape


def test_fast_header_declines_odd_headers(tmp_path):
    path = tmp_path / "x.npy"
    body = b"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4', }"  # valid, other key order
    header = body + b" " * (117 - len(body)) + b"\n"  # 10 + 118 = 128 bytes
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(24))
    assert readers._fast_header(path.read_bytes()) is None
    h = read_header(path, "v", "rgb")
    assert h.shape == (2, 3) and h.dtype == np.float32 and h.offset == 128


def test_check_finite_is_exact():
    """Never accepts a NaN/Inf, never refuses large finite values (whose float32 sum would
    overflow)."""
    big = np.full((4, 1024), 3e38, np.float32)  # sum overflows float32, not float64
    check_finite(big, "v", "rgb", "f")
    for bad in (np.nan, np.inf, -np.inf):
        x = np.ones((3, 4), np.float32)
        x[2, 1] = bad
        with pytest.raises(InputError, match="1 NaN/Inf"):
            check_finite(x, "v", "rgb", "f.npy")
    x = np.ones((2, 2), np.float32)
    x[0, 0], x[1, 1] = np.inf, -np.inf  # inf + -inf: the sum is NaN, still caught
    with pytest.raises(InputError, match="2 NaN/Inf"):
        check_finite(x, "v", "rgb", "f.npy")


def test_array_pool_reuses_returned_buffers():
    from var_bench.features.readers import ArrayPool

    pool = ArrayPool()
    a = pool.take((10, 4))
    a[:] = 1
    pool.give(a[:, 0])  # a view of a pooled buffer returns its buffer
    b = pool.take((9, 4))  # fits the returned buffer: no new allocation
    assert np.shares_memory(a, b) and b.shape == (9, 4) and b.flags.c_contiguous
    c = pool.take((10, 4))  # the buffer is out: a new one
    assert not np.shares_memory(b, c)
    pool.give(np.zeros(3, np.float32))  # not the pool's: ignored
    pool.give(b)
    pool.give(b)  # twice: kept once
    assert len(pool._free[np.dtype(np.float32)]) == 1
    h = pool.take((2, 2), np.float16)
    assert h.dtype == np.float16 and not np.shares_memory(h, b)
    lease = pool.lease()
    s = lease.get((5, 4))
    assert np.shares_memory(s, b)
    lease.release()
    assert np.shares_memory(pool.take((5, 4)), b)


@pytest.mark.parametrize("T, rows", [(1, 3), (5, 3), (7, 7), (9, 128), (300, 128), (1500, 1024)])
def test_mean_in_blocks_equals_the_mean_of_whole_files(tmp_path, T, rows):
    rng = np.random.default_rng(T)
    x = rng.standard_normal((3, T, 8)).astype(np.float32)
    heads = []
    for k in range(3):
        np.save(tmp_path / f"c{k}.npy", x[k])
        heads.append(read_header(tmp_path / f"c{k}.npy", V, "rgb"))
    out = np.full((T, 8), np.nan, np.float32)
    readers.mean_into(heads, out, np.empty((min(T, rows), 8), np.float32), V, "rgb")
    # the same float32 operations in the same order: bit-identical, not merely close
    np.testing.assert_array_equal(out, (x[0] + x[1] + x[2]) / np.float32(3))
    np.testing.assert_allclose(out, x.mean(axis=0), rtol=1e-6, atol=1e-6)
    short = np.full((T - 1, 8), np.nan, np.float32) if T > 1 else None
    if short is not None:  # trimmed to fewer rows than the files hold
        readers.mean_into(heads, short, np.empty((min(T - 1, rows), 8), np.float32), V, "rgb")
        np.testing.assert_array_equal(short, out[:T - 1])


def test_mean_in_blocks_names_a_truncated_or_missing_crop(tmp_path):
    x = np.ones((300, 8), np.float32)
    heads = []
    for k in range(2):
        np.save(tmp_path / f"c{k}.npy", x)
        heads.append(read_header(tmp_path / f"c{k}.npy", V, "rgb"))
    p = tmp_path / "c1.npy"
    p.write_bytes(p.read_bytes()[:-40])  # the last block of crop 1 is short
    out = np.empty((300, 8), np.float32)
    with pytest.raises(InputError, match=r"rgb features of video .*c1.npy has \d+ \(truncated\)"):
        readers.mean_into(heads, out, np.empty((128, 8), np.float32), V, "rgb")
    p.unlink()
    with pytest.raises(InputError, match=r"expected readable .npy files, .*c1.npy is not"):
        readers.mean_into(heads, out, np.empty((128, 8), np.float32), V, "rgb")


def test_open_files_serve_the_data_reads_and_all_close(tree):
    root, vals = tree
    ix = _index(root)
    with OpenFiles() as files:
        heads = video_headers(ix, V, 0, files)
        fds = [files.get(h.path) for h in heads]
        assert all(fd is not None for fd in fds) and len(set(fds)) == 10
        assert all(_open_to(fd, h.path) for fd, h in zip(fds, heads))
        got = read_stream(ix, V, heads, 4, "mean", ArrayPool().lease(), files=files)
        np.testing.assert_allclose(got, vals[V].mean(axis=1), rtol=1e-6, atol=1e-6)
    for fd, h in zip(fds, heads):
        assert not _open_to(fd, h.path)
    assert files.get(heads[0].path) is None  # after the close, a read opens by path again
    np.testing.assert_array_equal(read_stream(ix, V, heads, 4, "center", ArrayPool().lease(),
                                              files=files), vals[V][:, 0])
    fd = files.get(heads[0].path)
    files.close()  # ... and holds it until the next close
    assert not _open_to(fd, heads[0].path)
    # without an OpenFiles, each read opens and closes its own files
    before = os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else None
    np.testing.assert_allclose(read_stream(ix, V, heads, 4, "mean", ArrayPool().lease()),
                               vals[V].mean(axis=1), rtol=1e-6, atol=1e-6)
    assert before is None or sorted(os.listdir("/proc/self/fd")) == sorted(before)


def test_a_refused_header_leaves_no_file_open(tree):
    root, _ = tree
    np.save(path_of(root, "ucf-crops", "test", V, 3), np.array(["a"] * 4))
    with OpenFiles() as files:
        with pytest.raises(InputError, match="expected a float array"):
            video_headers(_index(root), V, 0, files)
        kept = [files.get(path_of(root, "ucf-crops", "test", V, k)) for k in range(10)]
        assert all(fd is not None for fd in kept[:3]) and kept[3:] == [None] * 7
    for k, fd in enumerate(kept[:3]):
        assert not _open_to(fd, path_of(root, "ucf-crops", "test", V, k))


def _open_to(fd: int, path) -> bool:
    """Whether ``fd`` is open on ``path`` (a closed number may have been reused for another file)."""
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    ref = os.stat(path)
    return (st.st_dev, st.st_ino) == (ref.st_dev, ref.st_ino)
