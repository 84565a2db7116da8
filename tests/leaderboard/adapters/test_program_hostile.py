"""The hosted scoring program under hostile uploads (issue 11, report S26, S27): an HDF5 file that
reads other files, or a symlink anywhere in ``res/``, fails the submission in one line (exit 2)
and writes no record.json (the per-query ranks would carry the other file's bytes)."""

from __future__ import annotations

import errno
from pathlib import Path

import h5py
import numpy as np
import pytest

from var_bench.leaderboard.adapters import codabench, codalab
from var_bench.leaderboard.adapters.program import BENCHMARK_FILE

N = 290


def _inp(tmp_path: Path) -> Path:
    inp = tmp_path / "in"
    (inp / "ref").mkdir(parents=True)
    (inp / "res").mkdir()
    (inp / "ref" / BENCHMARK_FILE).write_text("ucfcrime-ar\n")
    return inp


def _secret(tmp_path: Path) -> Path:
    p = tmp_path / "secret.npy"
    np.save(p, (np.random.default_rng(0).standard_normal((N, N)) + 3 * np.eye(N)).astype("f4"))
    return p


def _extraw(tmp_path: Path, res: Path) -> None:  # S26
    flag = tmp_path / "flag.txt"
    flag.write_bytes(bytes(range(256)) * (N * N // 256 + 1))
    with h5py.File(res / "sub.h5", "w") as f:
        f.create_dataset("matrix", shape=(N, N), dtype="u1", external=[(str(flag), 0, N * N)])


def _file_link(tmp_path: Path, res: Path) -> None:  # S27
    (res / "sub.npy").symlink_to(_secret(tmp_path))


def _folder_link(tmp_path: Path, res: Path) -> None:  # S27, a linked folder
    d = tmp_path / "elsewhere"
    d.mkdir()
    np.save(d / "sub.npy", np.load(_secret(tmp_path)))
    (res / "inner").symlink_to(d)


CASES = {"S26-external-storage": (_extraw, "external storage"),
         "S27-symlinked-file": (_file_link, "symlink sub.npy"),
         "S27-symlinked-folder": (_folder_link, "symlink inner")}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("program", [codalab, codabench], ids=["codalab", "codabench"])
def test_hostile_uploads_fail_in_one_line(tmp_path, capsys, case, program) -> None:
    make, needle = CASES[case]
    inp = _inp(tmp_path)
    make(tmp_path, inp / "res")
    out = tmp_path / "out"
    assert program.main([str(inp), str(out)]) == 2
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and needle in printed
    assert not (out / "record.json").exists()


def test_an_unwritable_output_folder_is_exit_3(tmp_path, capsys, monkeypatch) -> None:
    inp = _inp(tmp_path)
    np.save(inp / "res" / "sub.npy", np.load(_secret(tmp_path)))
    import var_bench.leaderboard.adapters.program as program

    def refuse(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "out"))

    monkeypatch.setattr(program, "atomic_write_text", refuse)
    assert codalab.main([str(inp), str(tmp_path / "out")]) == 3
    assert "Read-only file system" in capsys.readouterr().out
