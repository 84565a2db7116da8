"""Reading and validating submissions (var_bench.scoring.submission): formats, layouts, refusals."""

from __future__ import annotations

import io
import pickle
import tracemalloc
import zipfile

import h5py
import numpy as np
import pytest
import torch

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines
from var_bench.scoring.submission import (
    CONSTANT,
    EQUAL_SPREAD,
    UNEQUAL_SPREAD,
    Canon,
    axis_mean_spread,
    check_dtype,
    check_shape,
    normalisation_warnings,
    read_submission,
)
from var_bench.scoring.matrix import ArraySource

N_UCF = UCFCRIME_AR.test_size
N_XD = XDVIOLENCE_AR.test_size
UCF_IDS = [f"vid{i:03d}" for i in range(N_UCF)]


def canon_for(ids):
    return Canon(sha256=lambda spec: sha256_lines(ids), ids=lambda spec: ids)


def no_list_canon(ids):
    """A canon whose id list must never be needed (ids in canonical order are checked by hash)."""
    def fail(spec):
        raise AssertionError("the canonical id list was loaded although the ids were canonical")
    return Canon(sha256=lambda spec: sha256_lines(ids), ids=fail)


def whole(src) -> np.ndarray:
    m = src.read_rows(0, src.shape[0])
    return np.array(m.T if src.transposed else m)


@pytest.fixture(scope="module")
def S() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((N_UCF, N_UCF)).astype(np.float32)


def refused(match: str, fn, *args, **kw) -> str:
    with pytest.raises(InputError, match=match) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# ---------------------------------------------------------------------------- formats

def test_npy_is_read_from_the_file_block_by_block(tmp_path, S):
    p = tmp_path / "s.npy"
    np.save(p, S)
    with read_submission(p) as sub:
        assert sub.spec is UCFCRIME_AR and sub.directions == ("t2v", "v2t")
        assert type(sub.joint).__name__ == "NpyFileSource"
        np.testing.assert_array_equal(whole(sub.joint), S)
        assert sub.warnings == [] and sub.path == str(p)


def test_fortran_order_npy_is_a_transposed_source(tmp_path, S):
    p = tmp_path / "f.npy"
    np.save(p, np.asfortranarray(S))
    with read_submission(p) as sub:
        assert sub.joint.transposed
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_memmap_is_reread_from_its_file(tmp_path, S):
    p = tmp_path / "m.npy"
    np.save(p, S)
    mm = np.load(p, mmap_mode="r")
    with read_submission(mm, "ucfcrime-ar") as sub:
        assert type(sub.joint).__name__ == "NpyFileSource"
        np.testing.assert_array_equal(whole(sub.joint), S)


@pytest.mark.parametrize("writer", ["npy", "npz", "torch", "hdf5"])
def test_unknown_suffix_is_sniffed(tmp_path, S, writer):
    p = tmp_path / "scores.bin"
    if writer == "npy":
        with open(p, "wb") as f:
            np.save(f, S)
    elif writer == "npz":
        with open(p, "wb") as f:
            np.savez(f, S=S)
    elif writer == "torch":
        torch.save(torch.from_numpy(S), p)
    else:
        with h5py.File(p, "w") as f:
            f["S"] = S
    with read_submission(p) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_torch_file_without_torch_installed(tmp_path, S, monkeypatch):
    import sys

    p = tmp_path / "s.pt"
    torch.save(torch.from_numpy(S), p)
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    refused("needs PyTorch, which is not installed", read_submission, p)


def test_npz_single_matrix_under_any_name(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez_compressed(p, similarity=S)
    with read_submission(p) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_npz_per_direction(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez(p, t2v=S, v2t=S.T)
    with read_submission(p) as sub:
        assert sub.joint is None and set(sub.by_direction) == {"t2v", "v2t"}
        np.testing.assert_array_equal(whole(sub.by_direction["v2t"]), S.T)


def test_npz_per_direction_infers_the_benchmark_from_its_keys(tmp_path):
    S = np.zeros((N_XD, N_XD), np.float32)
    p = tmp_path / "s.npz"
    np.savez(p, a2v=S, v2a=S)
    with read_submission(p) as sub:
        assert sub.spec is XDVIOLENCE_AR


def test_one_direction_needs_only_its_matrix(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez(p, v2t=S.T)
    with read_submission(p, direction="v2t") as sub:
        assert sub.directions == ("v2t",) and set(sub.by_direction) == {"v2t"}


def test_npz_ids_in_shuffled_order_are_bound(tmp_path, S):
    rng = np.random.default_rng(1)
    rows, cols = rng.permutation(N_UCF), rng.permutation(N_UCF)
    p = tmp_path / "s.npz"
    ids = np.array(UCF_IDS)
    np.savez(p, S=S[np.ix_(rows, cols)], text_ids=ids[rows], video_ids=ids[cols])
    with read_submission(p, canon=canon_for(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_per_direction_ids_bind_rows_and_columns_by_role(tmp_path, S):
    rng = np.random.default_rng(2)
    t, v = rng.permutation(N_UCF), rng.permutation(N_UCF)
    ids = np.array(UCF_IDS)
    p = tmp_path / "s.npz"
    # t2v is texts x videos, v2t is videos x texts: the same id arrays bind them both.
    np.savez(p, t2v=S[np.ix_(t, v)], v2t=S.T[np.ix_(v, t)], text_ids=ids[t], video_ids=ids[v])
    with read_submission(p, canon=canon_for(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.by_direction["t2v"]), S)
        np.testing.assert_array_equal(whole(sub.by_direction["v2t"]), S.T)


def test_ids_already_canonical_need_no_id_list(tmp_path, S):
    p = tmp_path / "s.npz"
    np.savez(p, S=S, text_ids=np.array(UCF_IDS), video_ids=np.array(UCF_IDS))
    with read_submission(p, canon=no_list_canon(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_torch_tensor_file(tmp_path, S):
    p = tmp_path / "s.pt"
    torch.save(torch.from_numpy(S), p)
    with read_submission(p) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


def test_torch_dict_with_id_lists(tmp_path, S):
    perm = np.random.default_rng(3).permutation(N_UCF)
    p = tmp_path / "s.pth"
    torch.save({"t2v": torch.from_numpy(S[perm]), "v2t": torch.from_numpy(S.T[:, perm].copy()),
                "text_ids": [UCF_IDS[i] for i in perm]}, p)
    with read_submission(p, canon=canon_for(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.by_direction["t2v"]), S)
        np.testing.assert_array_equal(whole(sub.by_direction["v2t"]), S.T)


def test_bfloat16_becomes_float32_exactly_with_a_warning(S):
    t = torch.from_numpy(S).to(torch.bfloat16)
    with read_submission(t, "ucfcrime-ar") as sub:
        got = whole(sub.joint)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, t.float().numpy())
        assert any("float16" in w for w in sub.warnings)


def test_float16_npy_warns(tmp_path, S):
    p = tmp_path / "h.npy"
    np.save(p, S.astype(np.float16))
    with read_submission(p) as sub:
        assert len(sub.warnings) == 1 and "ties are likely" in sub.warnings[0]


def test_hdf5_dataset_is_read_in_row_blocks(tmp_path, S):
    p = tmp_path / "s.h5"
    perm = np.random.default_rng(4).permutation(N_UCF)
    with h5py.File(p, "w") as f:
        f["scores"] = S[:, perm]
        f["video_ids"] = np.array(UCF_IDS, dtype=object)[perm].astype("S")
    with read_submission(p, canon=canon_for(UCF_IDS)) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)
    with h5py.File(p, "w") as f:
        f.create_dataset("scores", data=S, chunks=(16, N_UCF))
    sub = read_submission(p)
    assert type(sub.joint).__name__ == "ArraySource"
    np.testing.assert_array_equal(whole(sub.joint), S)
    sub.close()


def test_dict_of_arrays_in_memory(S):
    with read_submission({"t2v": S, "v2t": S.T}, "ucfcrime-ar") as sub:
        assert set(sub.by_direction) == {"t2v", "v2t"}


# ---------------------------------------------------------------------------- inference

def test_benchmark_is_inferred_from_n():
    assert read_submission(np.zeros((N_XD, N_XD))).spec is XDVIOLENCE_AR
    assert read_submission(np.zeros((N_UCF, N_UCF))).spec is UCFCRIME_AR


def test_unknown_size_lists_the_expected_sizes():
    msg = refused("cannot tell the benchmark", read_submission, np.zeros((100, 100)))
    assert f"{N_UCF} x {N_UCF} (ucfcrime-ar)" in msg and f"{N_XD} x {N_XD} (xdviolence-ar)" in msg
    assert "100 x 100" in msg
    refused("cannot tell the benchmark", read_submission, np.zeros((N_UCF, N_XD)))


def test_non_test_split_needs_a_named_benchmark():
    refused("expected a benchmark name when scoring split 'val'", read_submission,
            np.zeros((N_UCF, N_UCF)), split="val")


# ---------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("bad, got", [
    (np.zeros((N_UCF, N_UCF - 1), np.float32), f"got {N_UCF} x {N_UCF - 1}"),
    (np.zeros(N_UCF, np.float32), "got a 1-D array"),
    (np.zeros((N_UCF, N_UCF, 1), np.float32), "got a 3-D array"),
    (np.zeros((N_UCF, N_UCF), np.complex64), "complex"),
    (np.zeros((N_UCF, N_UCF), bool), "bool"),
    (np.zeros((N_UCF, N_UCF), "U3"), "string"),
    (np.zeros((N_UCF, N_UCF), "S3"), "bytes"),
    (np.zeros((N_UCF, N_UCF), [("a", "f4"), ("b", "f4")]), "structured"),
    (np.zeros((N_UCF, N_UCF), "datetime64[s]"), "datetime64"),
    (np.zeros((N_UCF, N_UCF), object), "object array"),
])
def test_bad_matrices_are_refused_in_one_line(bad, got):
    msg = refused("expected", read_submission, bad, "ucfcrime-ar")
    assert got in msg


def test_shape_message_names_the_expectation():
    msg = refused("expected", read_submission, np.zeros((N_UCF, N_UCF - 1), np.float32), "ucfcrime-ar")
    assert msg == (f"matrix: expected {N_UCF} x {N_UCF} (text queries x videos for ucfcrime-ar), "
                   f"got {N_UCF} x {N_UCF - 1}")


def test_transposed_is_named_when_the_expectation_is_not_square():
    msg = refused("looks transposed", check_shape, "m", (5, 3), (3, 5), "3 x 5 (q x v)")
    assert "expected 3 x 5 (q x v), got 5 x 3" in msg
    check_shape("m", (3, 5), (3, 5), "3 x 5")


def test_check_dtype_accepts_floats_and_ints():
    for dt in ("f2", "f4", ">f8", "i4", "u1"):
        check_dtype("m", np.dtype(dt))


def test_giant_header_is_refused_without_allocating(tmp_path):
    p = tmp_path / "giant.npy"
    with open(p, "wb") as f:  # a header claiming an 8 TB matrix, followed by 16 bytes
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
        f.write(b"\0" * 16)
    tracemalloc.start()
    try:
        msg = refused("expected", read_submission, p, "ucfcrime-ar")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert "got 1000000 x 1000000" in msg and str(p) in msg
    refused("cannot tell the benchmark", read_submission, p)


def test_truncated_npy_is_refused(tmp_path, S):
    p = tmp_path / "t.npy"
    np.save(p, S)
    p.write_bytes(p.read_bytes()[:-100])
    msg = refused("truncated", read_submission, p)
    assert f"expected {S.nbytes} bytes" in msg and f"got {S.nbytes - 100}" in msg


def test_trailing_bytes_are_refused(tmp_path, S):
    p = tmp_path / "t.npy"
    np.save(p, S)
    p.write_bytes(p.read_bytes() + b"junk")
    refused("4 trailing bytes", read_submission, p)


def test_header_cut_short_is_refused(tmp_path, S):
    p = tmp_path / "t.npy"
    np.save(p, S)
    p.write_bytes(p.read_bytes()[:20])
    refused("unreadable", read_submission, p)


def test_empty_file_is_refused(tmp_path):
    p = tmp_path / "e.npy"
    p.write_bytes(b"")
    refused("got an empty file", read_submission, p)


def test_missing_file_and_directory_are_refused(tmp_path):
    refused("found no such file", read_submission, tmp_path / "nope.npy")
    refused("directory", read_submission, tmp_path)


def test_text_file_is_not_an_array(tmp_path):
    p = tmp_path / "s.npy"
    p.write_text("0.1 0.2\n0.3 0.4\n")
    msg = refused("not an array", read_submission, p)
    assert "expected a .npy file" in msg
    q = tmp_path / "s.csv"
    q.write_text("0.1,0.2\n")
    msg = refused("not an array", read_submission, q)
    assert ".npy, .npz, .pt/.pth" in msg


def test_pickled_object_array_is_never_unpickled(tmp_path, monkeypatch):
    p = tmp_path / "o.npy"
    np.save(p, np.array([[1.0, "x"]] * N_UCF, dtype=object), allow_pickle=True)
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    refused("object array", read_submission, p)


def test_raw_pickle_named_npy_is_refused(tmp_path):
    p = tmp_path / "p.npy"
    p.write_bytes(pickle.dumps(np.zeros((2, 2)), protocol=4))
    refused("Python pickle", read_submission, p)


def test_npz_extra_and_missing_keys(tmp_path, S):
    p = tmp_path / "k.npz"
    np.savez(p, t2v=S, v2t=S.T, foo=S)
    assert "got extra key 'foo'" in refused("expected keys", read_submission, p)
    np.savez(p, t2v=S)
    assert "missing key 'v2t'" in refused("expected keys", read_submission, p, direction="v2t")
    np.savez(p, text_ids=np.array(UCF_IDS))
    refused("got no matrix", read_submission, p, "ucfcrime-ar")


def test_npz_member_that_is_not_npy(tmp_path, S):
    p = tmp_path / "z.npz"
    with zipfile.ZipFile(p, "w") as z:
        buf = io.BytesIO()
        np.save(buf, S)
        z.writestr("S.npy", buf.getvalue())
        z.writestr("notes.txt", "hello")
    refused("got member 'notes.txt'", read_submission, p)


def test_npz_object_member_is_refused(tmp_path, S):
    p = tmp_path / "o.npz"
    np.savez(p, S=S, text_ids=np.array(UCF_IDS, dtype=object))
    refused("object array", read_submission, p, canon=canon_for(UCF_IDS))


def test_npz_truncated(tmp_path, S):
    p = tmp_path / "t.npz"
    np.savez(p, S=S)
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    refused("truncated or corrupt", read_submission, p)


def test_ids_that_differ_say_how_many_and_show_one(tmp_path, S):
    p = tmp_path / "i.npz"
    ids = list(UCF_IDS)
    ids[5], ids[9] = "stranger_a", "stranger_b"
    np.savez(p, S=S, video_ids=np.array(ids))
    msg = refused("canonical ids", read_submission, p, canon=canon_for(UCF_IDS))
    assert "2 missing (e.g. 'vid005')" in msg and "2 extra (e.g. 'stranger_a')" in msg
    assert "video_ids" in msg


def test_duplicate_ids_are_refused(tmp_path, S):
    p = tmp_path / "d.npz"
    ids = list(UCF_IDS)
    ids[1] = ids[0]
    np.savez(p, S=S, text_ids=np.array(ids))
    refused("duplicate id 'vid000'", read_submission, p, canon=canon_for(UCF_IDS))


def test_ids_of_wrong_length_or_type(tmp_path, S):
    p = tmp_path / "w.npz"
    np.savez(p, S=S, text_ids=np.array(UCF_IDS[:10]))
    refused(f"expected {N_UCF} ids", read_submission, p, canon=canon_for(UCF_IDS))
    np.savez(p, S=S, text_ids=np.arange(N_UCF))
    refused("expected an array of string ids", read_submission, p, canon=canon_for(UCF_IDS))


def test_ids_without_a_canon_are_refused(S):
    refused("canonical ids", read_submission, {"S": S, "text_ids": UCF_IDS[::-1]}, "ucfcrime-ar")


def test_unknown_benchmark_and_direction():
    refused("unknown benchmark", read_submission, np.zeros((2, 2)), "msrvtt")
    refused("unknown direction", read_submission, np.zeros((N_UCF, N_UCF)), direction="a2v")


def test_torch_file_with_arbitrary_object_is_not_unpickled(tmp_path):
    p = tmp_path / "o.pt"
    # A class instance needs full unpickling: weights_only refuses it.
    torch.save({"S": torch.zeros(N_UCF, N_UCF), "extra": _Opaque()}, p)
    refused("cannot load safely", read_submission, p)


class _Opaque:
    pass


def test_torch_bool_and_complex_tensors_are_refused():
    refused("bool", read_submission, torch.zeros(N_UCF, N_UCF, dtype=torch.bool))
    refused("complex", read_submission, torch.zeros(N_UCF, N_UCF, dtype=torch.complex64))


def test_hdf5_group_is_refused(tmp_path, S):
    p = tmp_path / "g.h5"
    with h5py.File(p, "w") as f:
        f.create_group("nested")["S"] = S
    refused("expected datasets at the root", read_submission, p)


def test_corrupt_hdf5_is_refused(tmp_path, S):
    p = tmp_path / "c.h5"
    with h5py.File(p, "w") as f:
        f["S"] = S
    p.write_bytes(p.read_bytes()[:600])
    refused("expected an HDF5 file", read_submission, p)


def test_ragged_list_is_refused():
    refused("ragged", read_submission, {"S": [[1.0, 2.0], [3.0]]}, "ucfcrime-ar")


def test_unsupported_python_object_is_refused():
    refused("expected a path, NumPy array", read_submission, 3.5, "ucfcrime-ar")


# ---------------------------------------------------------------------------- normalisation

def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_raw_and_constant_matrices_are_not_flagged(S):
    assert normalisation_warnings(read_submission(S)) == []
    assert normalisation_warnings(read_submission(np.ones_like(S))) == []
    assert axis_mean_spread(ArraySource(np.ones_like(S))) == CONSTANT


def test_identical_rows_are_degenerate_not_normalised(S):
    same_rows = np.tile(S[0], (N_UCF, 1))  # every text query scores the videos alike
    assert normalisation_warnings(read_submission(same_rows)) == []
    assert normalisation_warnings(read_submission(np.ascontiguousarray(same_rows.T))) == []


def test_dual_softmax_over_queries_flags_t2v(S):
    # The query-axis softmax of dual-softmax / inverted-softmax re-scoring: columns sum to 1.
    warned = normalisation_warnings(read_submission(_softmax(S * 10, axis=0)))
    assert len(warned) == 1 and "inflates t2v" in warned[0]


def test_softmax_over_videos_flags_v2t(S):
    warned = normalisation_warnings(read_submission(_softmax(S * 10, axis=1)))
    assert len(warned) == 1 and "inflates v2t" in warned[0]


def test_z_scoring_over_queries_is_flagged(S):
    z = (S - S.mean(axis=0)) / S.std(axis=0)
    assert "inflates t2v" in normalisation_warnings(read_submission(z))[0]


def test_one_direction_is_checked_only_for_itself(S):
    z = _softmax(S * 10, axis=0)
    assert normalisation_warnings(read_submission(z, direction="v2t")) == []


def test_per_direction_matrix_normalised_over_its_queries():
    S = np.random.default_rng(5).standard_normal((N_UCF, N_UCF))
    sub = read_submission({"t2v": S, "v2t": _softmax(S.T * 5, axis=0)}, "ucfcrime-ar")
    warned = normalisation_warnings(sub)
    assert len(warned) == 1 and "inflates v2t" in warned[0]


def test_spread_is_the_same_through_a_transposed_source(tmp_path, S):
    p = tmp_path / "f.npy"
    np.save(p, np.asfortranarray(S))
    with read_submission(p) as sub:
        got = axis_mean_spread(sub.joint)
    want = axis_mean_spread(ArraySource(S))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert min(want) > 10 * UNEQUAL_SPREAD and UNEQUAL_SPREAD >= 10 * EQUAL_SPREAD


def test_small_object_array_names_the_dtype_not_the_size(tmp_path, monkeypatch):
    # Neither 290 nor 800: the benchmark cannot be inferred, but the dtype is the real problem.
    p = tmp_path / "obj.npy"
    np.save(p, np.array([[1.0, "x"]], dtype=object), allow_pickle=True)
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    refused("object array", read_submission, p)
