"""Opening submissions (var_bench.tasks.retrieval.submission.formats): every file format, sniffing,
and refusing broken or unsafe files before reading them.

The refusals include the red-team cases of issue 11 (classes F-1, 7, 8, 9): files that would read
other files, lie about their sizes or hold unknown keys are refused in one line, exit 2. A
hypothesis fuzz test: random bytes, random valid-looking headers and random containers end in
exit 2 or a valid score, one line, no traceback, nothing written outside the temp folder."""

from __future__ import annotations

import io
import json
import os
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.submissions import N_UCF, UCF_IDS, gold_for, refused, save_npz, whole

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.cli import main
from var_bench.errors import InputError
from var_bench.scoring.score import read_submission

UCF = UCFCRIME_AR.name


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
            f, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
        )
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


# ------------------------------------------------------------ hostile files (issue 11)


def _good() -> np.ndarray:
    r = np.random.default_rng(0)
    return (r.standard_normal((N_UCF, N_UCF)) + 2 * np.eye(N_UCF)).astype("f4")


def _cli(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out, err = capsys.readouterr()
    return e.value.code, out, err


def _one_line_refusal(capsys, path: Path, needle: str) -> None:
    code, out, err = _cli(capsys, "score", str(path), "--benchmark", UCF)
    assert code == 2, out
    assert out.count("\n") == 1 and "Traceback" not in out + err
    assert needle in out


# F-1: HDF5 objects that read other files


def _secret(tmp_path: Path) -> Path:
    other = tmp_path / "secret" / "other.h5"
    other.parent.mkdir()
    with h5py.File(other, "w") as f:
        f["S"] = _good()
    return other


def _external_link(tmp_path: Path) -> Path:  # S23
    other = _secret(tmp_path)
    p = tmp_path / "extlink.h5"
    with h5py.File(p, "w") as f:
        f["matrix"] = h5py.ExternalLink(str(other), "/S")
    return p


def _external_link_passwd(tmp_path: Path) -> Path:  # S22
    p = tmp_path / "passwd.h5"
    with h5py.File(p, "w") as f:
        f["matrix"] = h5py.ExternalLink("/etc/passwd", "/x")
    return p


def _soft_link(tmp_path: Path) -> Path:  # S22 (dangling soft link)
    p = tmp_path / "soft.h5"
    with h5py.File(p, "w") as f:
        f["matrix"] = h5py.SoftLink("/nowhere")
    return p


def _virtual(tmp_path: Path) -> Path:  # S24
    other = _secret(tmp_path)
    layout = h5py.VirtualLayout(shape=(N_UCF, N_UCF), dtype="f4")
    layout[:] = h5py.VirtualSource(str(other), "S", shape=(N_UCF, N_UCF))
    p = tmp_path / "vds.h5"
    with h5py.File(p, "w") as f:
        f.create_virtual_dataset("matrix", layout)
    return p


def _external_raw(tmp_path: Path) -> Path:  # S25: bytes of a secret file as scores
    flag = tmp_path / "flag.txt"
    flag.write_bytes(bytes(range(256)) * (N_UCF * N_UCF // 256 + 1))
    p = tmp_path / "extraw.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset(
            "matrix", shape=(N_UCF, N_UCF), dtype="u1", external=[(str(flag), 0, N_UCF * N_UCF)]
        )
    return p


def _nested_external(tmp_path: Path) -> Path:  # anywhere in the file, not only at the root
    other = _secret(tmp_path)
    p = tmp_path / "nested.h5"
    with h5py.File(p, "w") as f:
        f["t2v"] = _good()
        f.create_group("g")["deep"] = h5py.ExternalLink(str(other), "/S")
    return p


HDF5_CASES = {
    "S22-passwd-link": (_external_link_passwd, "external link"),
    "S22-soft-link": (_soft_link, "soft link"),
    "S23-external-link": (_external_link, "external link"),
    "S24-virtual-dataset": (_virtual, "virtual dataset"),
    "S25-external-storage": (_external_raw, "external storage"),
    "F-1-nested-link": (_nested_external, "external link /g/deep"),
}


@pytest.mark.parametrize("case", sorted(HDF5_CASES))
def test_hdf5_objects_outside_the_file_are_refused(tmp_path, capsys, case) -> None:
    make, needle = HDF5_CASES[case]
    path = make(tmp_path)
    with pytest.raises(InputError, match=needle):
        read_submission(path, UCF)
    _one_line_refusal(capsys, path, needle)


# class 9: .npz keys


def test_npz_provenance_is_the_one_reserved_key(tmp_path, S) -> None:
    prov = {"disclosure": {"features": "synthetic"}}
    sub = read_submission(save_npz(tmp_path, arr_0=S, provenance=np.array(json.dumps(prov))), UCF)
    assert sub.provenance == prov
    for bad, needle in (
        (np.array([1, 2]), "0-d unicode string"),
        (np.array("not json"), "JSON object"),
        (np.array("[1]"), "JSON object, got list"),
    ):
        with pytest.raises(InputError, match=needle):
            read_submission(save_npz(tmp_path, arr_0=S, provenance=bad), UCF)
    with pytest.raises(InputError, match="extra key 'junk'"):
        read_submission(save_npz(tmp_path, t2v=S, v2t=S.T, junk=S), UCF)


def test_many_npz_members_is_one_short_line(tmp_path, capsys) -> None:
    """S20."""
    p = tmp_path / "many.npz"
    with zipfile.ZipFile(p, "w") as z:
        for i in range(20_000):
            buf = io.BytesIO()
            np.save(buf, np.zeros(1, "f4"))
            z.writestr(f"m{i}.npy", buf.getvalue())
    code, out, _ = _cli(capsys, "score", str(p), "--benchmark", UCF)
    assert code == 2 and len(out) < 1000 and "at most 8 members" in out


# classes 7, 8: torch files


def test_meta_tensor_is_input_error(tmp_path, capsys) -> None:
    """S29."""
    p = tmp_path / "meta.pt"
    torch.save(torch.empty((N_UCF, N_UCF), device="meta"), p)
    _one_line_refusal(capsys, p, "meta tensor")


def test_pt_with_junk_is_refused_before_loading(tmp_path, capsys) -> None:
    """S30."""
    p = tmp_path / "junk.pt"
    torch.save({"matrix": torch.from_numpy(_good()), "junk": torch.zeros(4_000_000)}, p)
    _one_line_refusal(capsys, p, "refused before loading")
    q = tmp_path / "two.pt"
    torch.save({"a": torch.from_numpy(_good()), "b": torch.from_numpy(_good())}, q)
    with pytest.raises(InputError, match="got 2 matrices"):
        read_submission(q, UCF)  # the message names the problem, not a wrong key


# the fuzz test

_NPY_HEADERS = st.builds(
    lambda descr, shape, fortran: (
        f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {tuple(shape)!r}, }}"
    ),
    st.sampled_from(["<f4", ">f8", "<i8", "|u1", "<f2", "|O", "<c8", "|V4", "<U3", "bogus"]),
    st.lists(st.integers(-3, 2**41), min_size=0, max_size=3),
    st.booleans(),
)


def _npy_bytes(header: str, body: bytes) -> bytes:
    h = header.encode("latin1")
    h += b" " * (-(len(h) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + body


def _check_outcome(capsys, path: Path, tmp: Path) -> None:
    before = set(os.listdir(tmp.parent))
    with pytest.raises(SystemExit) as e:
        main(["score", str(path), "--benchmark", UCF])
    out, err = capsys.readouterr()
    assert e.value.code in (0, 2), out
    assert "Traceback" not in out + err and "internal error" not in out
    if e.value.code == 2:
        assert out.count("\n") == 1
    assert set(os.listdir(tmp.parent)) == before  # nothing written beside the temp folder


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    kind=st.sampled_from(["bytes", "npy", "npz", "h5", "json"]),
    data=st.binary(max_size=512),
    header=_NPY_HEADERS,
    key=st.sampled_from(["arr_0", "t2v", "S", "provenance", "text_ids"]),
)
def test_fuzz_submission_reader(tmp_path_factory, capsys, kind, data, header, key) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    path = (
        tmp / {"bytes": "x.npy", "npy": "x.npy", "npz": "x.npz", "h5": "x.h5", "json": "x.pt"}[kind]
    )
    if kind == "bytes":
        path.write_bytes(data or b"\x00")
    elif kind == "npy":
        path.write_bytes(_npy_bytes(header, data))
    elif kind == "npz":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(f"{key}.npy", _npy_bytes(header, data))
    elif kind == "h5":
        with h5py.File(path, "w") as f:
            f.create_dataset(
                key, data=np.frombuffer(data.ljust(8, b"\0")[: len(data) // 8 * 8 or 8], "<f8")
            )
    else:
        path.write_bytes(b"\x80\x02" + data)  # a pickle header: never unpickled
    _check_outcome(capsys, path, tmp)
