"""Scoring programs for organisers: CodaLab / Codabench ``python -m ...`` and EvalAI ``evaluate``,
run end to end with the real scorer on synthetic score matrices, and under hostile uploads."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from var_bench.errors import InputError
from var_bench.leaderboard.adapters import codabench, codalab, evalai
from var_bench.leaderboard.adapters.keys import score_keys
from var_bench.leaderboard.adapters.program import (
    BENCHMARK_FILE,
    find_submission,
    read_benchmark_file,
)

pytest.importorskip("var_bench.scoring.score")
from var_bench.scoring.score import score  # noqa: E402


def _matrix(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, n)).astype(np.float32)
    s[np.arange(n), np.arange(n)] += 2.0  # better than chance, so every metric moves
    return s


def _input_dir(tmp_path: Path, benchmark: str, n: int) -> Path:
    root = tmp_path / "input"
    (root / "ref").mkdir(parents=True)
    (root / "res").mkdir()
    (root / "ref" / BENCHMARK_FILE).write_text(
        f"# the benchmark this competition scores\n{benchmark}\n"
    )
    np.save(root / "res" / "submission.npy", _matrix(n))
    (root / "res" / "metadata").write_text("description: added by the platform\n")
    return root


def test_codalab_program_writes_scores_txt(tmp_path) -> None:
    inp = _input_dir(tmp_path, "ucfcrime-ar", 290)
    out = tmp_path / "output"
    assert codalab.main([str(inp), str(out)]) == 0
    lines = (out / "scores.txt").read_text().splitlines()
    scores = {k: float(v) for k, v in (ln.split(": ") for ln in lines)}
    want = score(inp / "res" / "submission.npy", benchmark="ucfcrime-ar")
    assert list(scores) == score_keys("ucfcrime-ar")
    assert scores["SumR"] == want.main_value and scores["v2t_MdR"] == want.metrics["v2t"]["MdR"]
    assert json.loads((out / "record.json").read_text())["summary"]["SumR"] == want.main_value


def test_codabench_program_as_a_module(tmp_path) -> None:
    inp = _input_dir(tmp_path, "xdviolence-ar", 800)
    out = tmp_path / "output"
    done = subprocess.run(
        [sys.executable, "-m", "var_bench.leaderboard.adapters.codabench", str(inp), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((out / "scores.json").read_text())
    assert list(data) == score_keys("xdviolence-ar") and 0 < data["SumR"] <= 600


def test_program_failure_is_one_line_and_a_nonzero_status(tmp_path, capsys) -> None:
    inp = _input_dir(tmp_path, "ucfcrime-ar", 290)
    np.save(inp / "res" / "second.npy", _matrix(290, 1))
    assert codalab.main([str(inp), str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert out.count("\n") == 1
    assert "expected exactly one score-matrix file, got second.npy, submission.npy" in out
    assert err == out and not (tmp_path / "out" / "scores.txt").exists()
    (inp / "res" / "second.npy").unlink()
    np.save(inp / "res" / "submission.npy", _matrix(291))
    assert codabench.main([str(inp), str(tmp_path / "out")]) == 2
    assert "290" in capsys.readouterr().out


# ------------------------------------------------------------ hostile uploads (issue 11: S26, S27)
# An HDF5 file that reads other files, or a symlink anywhere in ``res/``, fails the submission in
# one line (exit 2) and writes no record.json (the per-query ranks would carry the other file's
# bytes).

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


HOSTILE = {
    "S26-external-storage": (_extraw, "external storage"),
    "S27-symlinked-file": (_file_link, "symlink sub.npy"),
    "S27-symlinked-folder": (_folder_link, "symlink inner"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("program", [codalab, codabench], ids=["codalab", "codabench"])
def test_hostile_uploads_fail_in_one_line(tmp_path, capsys, case, program) -> None:
    make, needle = HOSTILE[case]
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


def test_benchmark_option_overrides_the_reference_file(tmp_path) -> None:
    inp = _input_dir(tmp_path, "xdviolence-ar", 290)  # the file names the wrong benchmark
    assert codalab.main([str(inp), str(tmp_path / "out"), "--benchmark", "ucfcrime-ar"]) == 0


def test_evalai_evaluate(tmp_path) -> None:
    inp = _input_dir(tmp_path, "ucfcrime-ar", 290)
    result = evalai.evaluate(
        str(inp / "ref" / BENCHMARK_FILE),
        str(inp / "res" / "submission.npy"),
        "test",
        submission_metadata={"id": 1},
    )
    split = result["result"][0][evalai.SPLIT_CODENAME]
    assert split == result["submission_result"]
    assert (
        split["SumR"] == score(inp / "res" / "submission.npy", benchmark="ucfcrime-ar").main_value
    )
    with pytest.raises(InputError):  # EvalAI asks for an exception on a bad submission
        evalai.evaluate(
            str(inp / "ref" / BENCHMARK_FILE), str(inp / "ref" / BENCHMARK_FILE), "test"
        )


def test_helpers_refuse_bad_folders(tmp_path) -> None:
    with pytest.raises(InputError, match="expected the submission folder, found none"):
        find_submission(tmp_path / "res")
    (tmp_path / "res").mkdir()
    with pytest.raises(InputError, match="expected exactly one score-matrix file, got no file"):
        find_submission(tmp_path / "res")
    (tmp_path / "empty.txt").write_text("\n# only a comment\n")
    with pytest.raises(InputError, match="expected a benchmark name on its first line"):
        read_benchmark_file(tmp_path / "empty.txt")
    with pytest.raises(InputError, match="could not read it"):
        read_benchmark_file(tmp_path / "nothing.txt")
    (tmp_path / "bad.txt").write_text("imagenet\n")
    with pytest.raises(InputError, match="unknown benchmark"):
        read_benchmark_file(tmp_path / "bad.txt")
