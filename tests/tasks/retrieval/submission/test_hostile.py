"""Red-team cases of the submission reader (issue 11, report classes F-1, 7, 8, 9): files that
would read other files, lie about their sizes or hold unknown keys are refused in one line, exit 2.
Also a hypothesis fuzz test: random bytes, random valid-looking headers and random containers
end in exit 2 or a valid score, one line, no traceback, nothing written outside the temp folder."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from var_bench.cli import main
from var_bench.errors import InputError
from var_bench.scoring.score import read_submission

N = 290
UCF = "ucfcrime-ar"


def _good() -> np.ndarray:
    r = np.random.default_rng(0)
    return (r.standard_normal((N, N)) + 2 * np.eye(N)).astype("f4")


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


# ------------------------------------------------------------ F-1: HDF5 reads other files


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
    layout = h5py.VirtualLayout(shape=(N, N), dtype="f4")
    layout[:] = h5py.VirtualSource(str(other), "S", shape=(N, N))
    p = tmp_path / "vds.h5"
    with h5py.File(p, "w") as f:
        f.create_virtual_dataset("matrix", layout)
    return p


def _external_raw(tmp_path: Path) -> Path:  # S25: bytes of a secret file as scores
    flag = tmp_path / "flag.txt"
    flag.write_bytes(bytes(range(256)) * (N * N // 256 + 1))
    p = tmp_path / "extraw.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("matrix", shape=(N, N), dtype="u1", external=[(str(flag), 0, N * N)])
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


# ------------------------------------------------------------ class 9: .npz keys


def _npz(tmp_path: Path, **arrays) -> Path:
    p = tmp_path / "sub.npz"
    np.savez(p, **arrays)
    return p


def test_npz_single_matrix_only_as_arr_0(tmp_path) -> None:
    S = _good()
    with pytest.raises(InputError, match="expected .npz keys t2v, v2t or arr_0"):
        read_submission(_npz(tmp_path, video_to_text=S), UCF)  # not silently taken as t2v
    p = tmp_path / "plain.npz"
    np.savez(p, S)  # what np.savez(path, S) writes: arr_0
    assert read_submission(p, UCF).joint is not None


def test_npz_provenance_is_the_one_reserved_key(tmp_path) -> None:
    S = _good()
    prov = {"disclosure": {"features": "synthetic"}}
    sub = read_submission(_npz(tmp_path, arr_0=S, provenance=np.array(json.dumps(prov))), UCF)
    assert sub.provenance == prov
    for bad, needle in ((np.array([1, 2]), "0-d unicode string"), (np.array("not json"), "JSON object"),
                        (np.array("[1]"), "JSON object, got list")):
        with pytest.raises(InputError, match=needle):
            read_submission(_npz(tmp_path, arr_0=S, provenance=bad), UCF)
    with pytest.raises(InputError, match="extra key 'junk'"):
        read_submission(_npz(tmp_path, t2v=S, v2t=S.T, junk=S), UCF)


def test_S20_many_members_is_one_short_line(tmp_path, capsys) -> None:
    p = tmp_path / "many.npz"
    with zipfile.ZipFile(p, "w") as z:
        for i in range(20_000):
            buf = __import__("io").BytesIO()
            np.save(buf, np.zeros(1, "f4"))
            z.writestr(f"m{i}.npy", buf.getvalue())
    code, out, _ = _cli(capsys, "score", str(p), "--benchmark", UCF)
    assert code == 2 and len(out) < 1000 and "at most 8 members" in out


# ------------------------------------------------------------ class 7/8: torch files


def test_S29_meta_tensor_is_input_error(tmp_path, capsys) -> None:
    p = tmp_path / "meta.pt"
    torch.save(torch.empty((N, N), device="meta"), p)
    _one_line_refusal(capsys, p, "meta tensor")


def test_S30_pt_with_junk_is_refused_before_loading(tmp_path, capsys) -> None:
    p = tmp_path / "junk.pt"
    torch.save({"matrix": torch.from_numpy(_good()), "junk": torch.zeros(4_000_000)}, p)
    _one_line_refusal(capsys, p, "refused before loading")
    q = tmp_path / "two.pt"
    torch.save({"a": torch.from_numpy(_good()), "b": torch.from_numpy(_good())}, q)
    with pytest.raises(InputError, match="got 2 matrices"):
        read_submission(q, UCF)  # the message names the problem, not a wrong key


# ------------------------------------------------------------ the fuzz test

_NPY_HEADERS = st.builds(
    lambda descr, shape, fortran: ("{'descr': %r, 'fortran_order': %s, 'shape': %r, }"
                                   % (descr, fortran, tuple(shape))),
    st.sampled_from(["<f4", ">f8", "<i8", "|u1", "<f2", "|O", "<c8", "|V4", "<U3", "bogus"]),
    st.lists(st.integers(-3, 2 ** 41), min_size=0, max_size=3),
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
@given(kind=st.sampled_from(["bytes", "npy", "npz", "h5", "json"]), data=st.binary(max_size=512),
       header=_NPY_HEADERS, key=st.sampled_from(["arr_0", "t2v", "S", "provenance", "text_ids"]))
def test_fuzz_submission_reader(tmp_path_factory, capsys, kind, data, header, key) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / {"bytes": "x.npy", "npy": "x.npy", "npz": "x.npz", "h5": "x.h5", "json": "x.pt"}[kind]
    if kind == "bytes":
        path.write_bytes(data or b"\x00")
    elif kind == "npy":
        path.write_bytes(_npy_bytes(header, data))
    elif kind == "npz":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(f"{key}.npy", _npy_bytes(header, data))
    elif kind == "h5":
        with h5py.File(path, "w") as f:
            f.create_dataset(key, data=np.frombuffer(data.ljust(8, b"\0")[: len(data) // 8 * 8 or 8], "<f8"))
    else:
        path.write_bytes(b"\x80\x02" + data)  # a pickle header: never unpickled
    _check_outcome(capsys, path, tmp)
