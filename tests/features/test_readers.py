import os

import numpy as np
import pytest
from support.featuretrees import path_of, write_tree

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.errors import InputError
from var_bench.features.layouts import index_streams
from var_bench.features.readers import check_finite, read_header, read_stream, video_headers

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
    return read_stream(ix, V, heads, T or heads[0].shape[0], crops)


def test_reads_mean_center_all_and_trims(tree):
    root, vals = tree
    x = vals[V]
    np.testing.assert_allclose(_read(root, "mean"), x.mean(axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(_read(root, "center"), x[:, 0])
    np.testing.assert_array_equal(_read(root, "all"), x)
    np.testing.assert_array_equal(_read(root, "center", T=2), x[:2, 0])


def test_other_dtypes_and_fortran_order_are_read(tree):
    root, vals = tree
    x = vals[V]
    for k in range(10):
        np.save(
            path_of(root, "ucf-crops", "test", V, k), np.asfortranarray(x[:, k].astype(np.float64))
        )
    np.testing.assert_allclose(_read(root, "all"), x)


def test_rtfm_and_vggish(tmp_path):
    vals = write_tree(tmp_path, "ucf-rtfm", IDS, T=3)
    ix = index_streams(UCFCRIME_AR, tmp_path)["rgb"]
    ix.num_crops = 10
    heads = video_headers(ix, V)
    np.testing.assert_allclose(read_stream(ix, V, heads, 3, "mean"), vals[V].mean(1), atol=1e-6)
    ix.num_crops = 5
    with pytest.raises(InputError, match=r"expected C = 5 crops \(as earlier videos\)"):
        video_headers(ix, V)
    xd = {"test": ["a__#1_label_A"]}
    write_tree(tmp_path / "x", "xd-i3d", xd, T=3)
    a = write_tree(tmp_path / "x", "xd-vggish", xd, T=3)
    ix = index_streams(XDVIOLENCE_AR, tmp_path / "x")["audio"]
    out = read_stream(ix, "a__#1_label_A", video_headers(ix, "a__#1_label_A"), 3, "all")
    np.testing.assert_array_equal(out, a["a__#1_label_A"])


@pytest.mark.parametrize(
    "array, message",
    [
        (
            np.zeros((4, 512), np.float32),
            r"expected D = 1024 \(ucf-crops, as the stream's first file\), "
            r".*__3.npy has shape \[4, 512\]",
        ),
        (np.zeros((4, 2, 1024), np.float32), r"expected a 2-D array \[T, D\]"),
        (np.zeros((0, 1024), np.float32), r"expected T >= 1 snippets, .*\(empty\)"),
        (
            np.zeros((5, 1024), np.float32),
            r"expected the same T in every crop file, found .*crop 3: T = 5",
        ),
        (np.array(["a"] * 4), r"expected a float array, .* holds dtype <U1"),
        (
            np.array([{"a": 1}], dtype=object),
            r"expected a float array, .*pickled objects are refused",
        ),
    ],
)
def test_bad_files_are_named(tree, array, message):
    root, _ = tree
    p = path_of(root, "ucf-crops", "test", V, 3)
    np.save(p, array, allow_pickle=True)
    with pytest.raises(InputError, match=message) as e:
        video_headers(_index(root), V)
    assert f"video {V}" in str(e.value) and "\n" not in str(e.value)


def test_header_claiming_huge_T_is_refused(ucf_tree, capsys):
    """F9 (issue 11): a header's size is bounded before a buffer is allocated."""
    ids, raw = ucf_tree
    p = path_of(raw, "ucf-crops", "test", ids["test"][0], 0)
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({2**40}, 1024), }}"
    h = header.encode() + b" " * (-(len(header) + 11) % 64) + b"\n"
    p.write_bytes(b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h)
    with pytest.raises(SystemExit) as e:
        main(["build", "ucfcrime-ar", "--features", str(raw)])
    out = capsys.readouterr().out
    assert e.value.code == 2 and "T <= 100000 snippets" in out


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
        read_stream(ix, V, video_headers(ix, V), 4, "mean")


def test_check_finite():
    check_finite(np.ones(3, np.float32), "v", "rgb", "f")
    with pytest.raises(
        InputError,
        match=r"rgb features of video v: expected finite values, found 2 NaN/Inf in f.npy",
    ):
        check_finite(np.array([1, np.nan, np.inf], np.float32), "v", "rgb", "f.npy")


def test_read_header_of_a_directory_like_error(tmp_path):
    with pytest.raises(InputError, match="is not one"):
        read_header(tmp_path / "missing.npy", "v", "rgb")


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((450, 1024), np.float32),
        np.zeros((3,), "<f8"),
        np.zeros((2, 3, 4), ">i2"),
        np.zeros((5, 2), np.float32, order="F"),
        np.zeros((), np.float32),
        np.zeros((1, 10, 2048), "<f2"),
        np.zeros((7, 128), np.uint8),
        np.zeros((2,), "U3"),
        np.zeros((2,), [("a", "<f4")]),
    ],
)
@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_read_header_agrees_with_numpy(tmp_path, array, version):
    """Numeric arrays: numpy's shape, order, dtype and data offset; others are refused."""
    path = tmp_path / "x.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)
    if array.dtype.names or array.dtype.kind == "U":
        with pytest.raises(InputError, match="expected a float array"):
            read_header(path, "v", "rgb")
        return
    h = read_header(path, "v", "rgb", head_rows=2)
    m = np.load(path, mmap_mode="r")
    assert (h.shape, h.dtype, h.fortran_order, h.offset) == (
        m.shape,
        m.dtype,
        array.ndim > 1 and m.flags.f_contiguous,
        m.offset,
    )
    assert h.size == path.stat().st_size and h.head == path.read_bytes()[h.offset :][: len(h.head)]


def test_read_header_takes_any_valid_key_order(tmp_path):
    path = tmp_path / "x.npy"
    body = b"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4', }"  # valid, other key order
    header = body + b" " * (117 - len(body)) + b"\n"  # 10 + 118 = 128 bytes
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(24))
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


@pytest.mark.parametrize("T", [1, 3, 4])
def test_crop_mean_is_the_float32_sum_in_crop_order(tree, T):
    """Bit-identical to adding the crops in order in float32, also trimmed to fewer rows."""
    root, vals = tree
    x = vals[V][:T].astype(np.float32)
    want = x[:, 0].copy()
    for k in range(1, x.shape[1]):
        want += x[:, k]
    np.testing.assert_array_equal(_read(root, "mean", T=T), want / np.float32(x.shape[1]))


def test_a_crop_gone_after_its_header_is_named_and_no_file_stays_open(tree):
    root, vals = tree
    ix = _index(root)
    before = os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else None
    heads = video_headers(ix, V)
    np.testing.assert_allclose(
        read_stream(ix, V, heads, 4, "mean"), vals[V].mean(axis=1), rtol=1e-6, atol=1e-6
    )
    assert before is None or sorted(os.listdir("/proc/self/fd")) == sorted(before)
    path_of(root, "ucf-crops", "test", V, 1).unlink()
    with pytest.raises(InputError, match=r"expected a .npy array, .*__1.npy is not one"):
        read_stream(ix, V, heads, 4, "mean")
