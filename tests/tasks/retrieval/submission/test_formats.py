"""Opening submissions (var_bench.tasks.retrieval.submission.formats): every file format, sniffing,
and refusing broken or unsafe files before reading them."""

from __future__ import annotations

import io
import pickle
import tracemalloc
import zipfile

import h5py
import numpy as np
import pytest
import torch

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.scoring.score import read_submission

from support.submissions import N_UCF, UCF_IDS, gold_for, refused, whole


def test_npy_is_read_from_the_file_block_by_block(tmp_path, S):
    p = tmp_path / "s.npy"
    np.save(p, S)
    with read_submission(p) as sub:
        assert sub.benchmark == "ucfcrime-ar" and sub.directions == ("t2v", "v2t")
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
            np.savez(f, arr_0=S)
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


def test_torch_tensor_file(tmp_path, S):
    p = tmp_path / "s.pt"
    torch.save(torch.from_numpy(S), p)
    with read_submission(p) as sub:
        np.testing.assert_array_equal(whole(sub.joint), S)


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
    with read_submission(p, gold=gold_for(UCF_IDS)) as sub:
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
    np.savez(p, arr_0=S, text_ids=np.array(UCF_IDS, dtype=object))
    refused("object array", read_submission, p, gold=gold_for(UCF_IDS))


def test_npz_truncated(tmp_path, S):
    p = tmp_path / "t.npz"
    np.savez(p, arr_0=S)
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    refused("truncated or corrupt", read_submission, p)


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


def test_small_object_array_names_the_dtype_not_the_size(tmp_path, monkeypatch):
    # Neither 290 nor 800: the benchmark cannot be inferred, but the dtype is the real problem.
    p = tmp_path / "obj.npy"
    np.save(p, np.array([[1.0, "x"]], dtype=object), allow_pickle=True)
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    refused("object array", read_submission, p)
