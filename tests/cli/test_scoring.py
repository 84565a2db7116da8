"""``var-bench score``: the table, --json, --by-class, --ci, and one-line refusals (exit 2)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from support.cli import one_line_exit

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.scoring.record import ResultRecord

N = UCFCRIME_AR.test_videos
IDS = [f"vid{i:03d}" for i in range(N)]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``var-bench ARGS`` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def assert_refused(capsys, args, *needles: str) -> str:
    """Exit 2, exactly one line on stdout, the same line on stderr, no traceback."""
    code, out, err = run_cli(capsys, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("var-bench: error: "), out
    assert lines[0] in err.splitlines(), err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def S() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((N, N)) + 2 * np.eye(N)).astype(np.float32)


@pytest.fixture()
def sub(tmp_path, S):
    p = tmp_path / "sub.npy"
    np.save(p, S)
    return p


@pytest.fixture()
def canonical(monkeypatch):
    """Stand-ins for the built dataset: the canonical ids and class table."""
    import var_bench.data.prepare as data

    classes = [c for c, k in UCFCRIME_AR.upstream_class_counts["test"].items() for _ in range(k)]
    table = pd.DataFrame(
        {
            "video_id": IDS,
            "class": classes,
            "anomalous": [c != UCFCRIME_AR.normal_class for c in classes],
        }
    )
    monkeypatch.setattr(data, "ids", lambda *a, **k: list(IDS))
    monkeypatch.setattr(data, "load_table", lambda *a, **k: table)
    return table


# ------------------------------------------------------------------------------ success


def test_table(capsys, sub):
    code, out, err = run_cli(capsys, "score", sub)
    assert code == 0, err
    assert "UCFCrime-AR test: 290 queries per direction, ties at their expected rank" in out
    assert "T->V (t2v)" in out and "V->T (v2t)" in out
    for head in ("R@1↑", "R@5↑", "R@10↑", "MdR↓", "MnR↓", "SumR↑:"):
        assert head in out
    assert "tied queries: t2v 0 of 290, v2t 0 of 290" in out
    assert "SumR bounds" in out and "optimistic" in out and "pessimistic" in out
    assert err == ""


def test_json_record(capsys, sub, tmp_path):
    target = tmp_path / "out" / "record.json"
    code, out, err = run_cli(
        capsys,
        "score",
        sub,
        "--benchmark",
        "ucfcrime-ar",
        "--json",
        target,
        "--name",
        "mine",
        "--disclose",
        "checkpoint_selection=val split",
    )
    assert code == 0, err
    data = json.loads(target.read_text())
    assert list(data)[:9] == [
        "benchmark",
        "task",
        "task_type",
        "split",
        "ties",
        "groups",
        "main_score",
        "metrics",
        "summary",
    ]
    assert data["name"] == "mine" and data["disclosure"]["checkpoint_selection"] == "val split"
    assert data["submission"] == "sub.npy"
    rec = ResultRecord.load(target)
    assert f"{rec.main_value:.1f}" in out
    assert not [p for p in target.parent.iterdir() if p.name != "record.json"]  # no temp files


def test_one_direction(capsys, sub):
    code, out, _ = run_cli(capsys, "score", sub, "--direction", "v2t", "--ties", "pessimistic")
    assert code == 0
    assert "SumR↑ (v2t only):" in out and "T->V" not in out
    assert "ties at their pessimistic rank" in out


def test_by_class_and_ci(capsys, sub, canonical):
    code, out, err = run_cli(
        capsys, "score", sub, "--by-class", "--ci", "--replicates", "200", "--seed", "3"
    )
    assert code == 0, err
    assert "95% intervals (percentile bootstrap, 200 replicates, seed 3)" in out
    assert "per class" in out
    for group in ("Explosion", "Normal", "anomalous"):
        assert any(line.startswith(group) for line in out.splitlines()), group
    # the normal group is the class Normal: one row, not a duplicate 'normal' row
    assert not any(line.startswith("normal ") for line in out.splitlines())
    assert "t2v R@1↑" in out


def test_float16_warning_is_one_stderr_line(capsys, tmp_path, S):
    p = tmp_path / "h.npy"
    np.save(p, S.astype(np.float16))
    code, out, err = run_cli(capsys, "score", p)
    assert code == 0
    warned = [line for line in err.splitlines() if line.startswith("var-bench: warning: ")]
    assert len(warned) == 1 and "~20% of queries tie in float16" in warned[0]


def test_normalised_columns_warning(capsys, tmp_path, S):
    e = np.exp(5 * (S - S.max(axis=0)))
    p = tmp_path / "dsl.npy"
    np.save(p, e / e.sum(axis=0))
    code, _, err = run_cli(capsys, "score", p)
    assert code == 0 and "looks normalised across the query set" in err


def test_id_bound_npz_uses_the_canonical_ids(capsys, tmp_path, S, canonical):
    perm = np.random.default_rng(1).permutation(N)
    p = tmp_path / "ids.npz"
    np.savez(p, arr_0=S[perm], text_ids=np.array(IDS)[perm])
    code, out, err = run_cli(capsys, "score", p, "-b", "ucfcrime-ar", "--json", tmp_path / "a.json")
    assert code == 0, err
    assert out.endswith(f"wrote {tmp_path / 'a.json'} (result record)\n")
    np.save(tmp_path / "plain.npy", S)
    run_cli(capsys, "score", tmp_path / "plain.npy", "--json", tmp_path / "b.json")
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    assert a["metrics"] == b["metrics"] and a["per_query"] == b["per_query"]


# ------------------------------------------------------------------------------ refusals


def _save(path, array, **kw):
    np.save(path, array, **kw)
    return path


@pytest.mark.parametrize(
    "make, needles",
    [
        (
            lambda p, S: _save(p, np.where(np.eye(N, dtype=bool), np.nan, S)),
            ["expected finite scores", "NaN at row 0, column 0"],
        ),
        (
            lambda p, S: _save(p, np.where(np.arange(N) == 7, np.inf, S)),
            ["expected finite scores", "Inf at row 0, column 7"],
        ),
        (
            lambda p, S: _save(p, S[:, :-1]),
            ["expected 290 x 290 (text queries x videos for ucfcrime-ar)", "got 290 x 289"],
        ),
        (lambda p, S: _save(p, S[0]), ["expected a 2-D matrix", "got a 1-D array of shape (290,)"]),
        (lambda p, S: _save(p, S[None]), ["expected a 2-D matrix", "got a 3-D array"]),
        (
            lambda p, S: _save(p, S.astype(object), allow_pickle=True),
            ["expected real numeric scores", "object array", "unpickling"],
        ),
        (
            lambda p, S: _save(p, S.astype(np.complex64)),
            ["expected real numeric scores", "complex"],
        ),
        (lambda p, S: _save(p, S.astype(str)), ["expected real numeric scores", "string array"]),
        (lambda p, S: _save(p, S > 0), ["expected real numeric scores", "bool array"]),
    ],
)
def test_bad_matrices(capsys, tmp_path, S, make, needles):
    p = make(tmp_path / "bad.npy", S)
    line = assert_refused(capsys, ["score", p, "--benchmark", "ucfcrime-ar"], *needles)
    assert str(p) in line


@pytest.mark.parametrize(
    "dtype, needle",
    [
        ([("a", "<f4"), ("b", "<f4")], "structured (void) array"),
        ("datetime64[s]", "datetime64 values"),
        ("S4", "bytes array"),
    ],
)
def test_other_non_numeric_dtypes(capsys, tmp_path, dtype, needle):
    p = _save(tmp_path / "d.npy", np.zeros((N, N), dtype))
    assert_refused(capsys, ["score", p], "expected real numeric scores", needle)


def test_raw_pickle_and_unsafe_torch_file(capsys, tmp_path):
    import pickle

    import torch

    p = tmp_path / "p.npy"
    p.write_bytes(pickle.dumps({"S": [[0.0] * N] * N}))
    assert_refused(capsys, ["score", p], "expected a .npy file", "Python pickle", "never unpickled")
    q = tmp_path / "obj.pt"
    torch.save({"S": torch.zeros(N, N), "cfg": Opaque()}, q)
    assert_refused(
        capsys, ["score", q], "expected a tensor or a dict of tensors", "cannot load safely"
    )


class Opaque:
    """A class instance: only full unpickling could rebuild it."""


def test_duplicate_ids(capsys, tmp_path, S, canonical):
    ids = list(IDS)
    ids[10] = ids[11]
    p = tmp_path / "dup.npz"
    np.savez(p, arr_0=S, text_ids=np.array(ids))
    assert_refused(capsys, ["score", p], "expected 290 distinct ids", "duplicate id 'vid011'")


def test_empty_file(capsys, tmp_path):
    p = tmp_path / "empty.npy"
    p.write_bytes(b"")
    assert_refused(capsys, ["score", p], "expected a .npy file", "got an empty file", str(p))


def test_truncated_file(capsys, sub):
    data = sub.read_bytes()
    sub.write_bytes(data[: len(data) - 1000])
    assert_refused(capsys, ["score", sub], f"expected {N * N * 4} bytes", "truncated")


def test_not_an_array(capsys, tmp_path):
    p = tmp_path / "scores.npy"
    p.write_text("this is not an array\n")
    assert_refused(capsys, ["score", p], "expected a .npy file", "not an array")
    q = tmp_path / "scores.txt"
    q.write_text("1 2 3\n")
    assert_refused(capsys, ["score", q], ".npy, .npz, .pt/.pth", "not an array")


def test_giant_header(capsys, tmp_path):
    p = tmp_path / "giant.npy"
    with open(p, "wb") as f:
        np.lib.format.write_array_header_2_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (2**40, 2**40)}
        )
    assert_refused(
        capsys,
        ["score", p, "--benchmark", "xdviolence-ar"],
        "expected 800 x 800 (audio queries x videos for xdviolence-ar)",
        f"got {2**40} x {2**40}",
    )
    assert_refused(
        capsys,
        ["score", p],
        "cannot tell the benchmark",
        "290 x 290 (ucfcrime-ar)",
        "800 x 800 (xdviolence-ar)",
    )


def test_npz_keys(capsys, tmp_path, S):
    p = tmp_path / "k.npz"
    np.savez(p, t2v=S, v2t=S.T, extra=S)
    assert_refused(capsys, ["score", p], "expected keys", "got extra key 'extra'")
    np.savez(p, t2v=S)
    assert_refused(capsys, ["score", p, "--direction", "v2t"], "expected keys", "missing key 'v2t'")


def test_npz_truncated(capsys, tmp_path, S):
    p = tmp_path / "t.npz"
    np.savez(p, arr_0=S)
    p.write_bytes(p.read_bytes()[:5000])
    assert_refused(capsys, ["score", p], "expected a .npz archive", "truncated or corrupt")


def test_npz_member_not_npy(capsys, tmp_path):
    p = tmp_path / "m.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hi")
    assert_refused(
        capsys,
        ["score", p, "--benchmark", "ucfcrime-ar"],
        "expected only .npy members",
        "'readme.txt'",
    )


def test_id_sets_that_differ(capsys, tmp_path, S, canonical):
    ids = list(IDS)
    ids[3:5] = ["intruder1", "intruder2"]
    p = tmp_path / "ids.npz"
    np.savez(p, arr_0=S, video_ids=np.array(ids))
    assert_refused(
        capsys,
        ["score", p],
        "expected the 290 canonical ids",
        "2 missing (e.g. 'vid003')",
        "2 extra (e.g. 'intruder1')",
    )


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--benchmark", "msrvtt"], ["'msrvtt'", "ucfcrime-ar"]),
        (["--direction", "a2v"], ["unknown direction", "t2v, v2t", "'a2v'"]),
        (["--ties", "random"], ["'random'", "expected"]),
        (["--disclose", "nonsense"], ["expected KEY=VALUE", "'nonsense'"]),
        (["--disclose", "gpu=a100"], ["disclosure: expected keys", "'gpu'"]),
        (["--split", "dev"], ["split: expected one of", "'dev'"]),
    ],
)
def test_bad_options(capsys, sub, args, needles):
    assert_refused(capsys, ["score", sub, *args], *needles)


def test_missing_file(capsys, tmp_path):
    assert_refused(capsys, ["score", tmp_path / "nope.npy"], "found no such file")


def test_negative_seed_is_exit_2(capsys, sub) -> None:
    """C12 (issue 11): a bad value is exit 2, one line."""
    code, out = one_line_exit(
        capsys, "score", str(sub), "--seed", "-1", "--ci", "--replicates", "10"
    )
    assert code == 2 and "--seed" in out


@pytest.mark.parametrize(
    ("err", "text"),
    [
        (errno.EROFS, "Read-only file system"),  # F20
        (errno.ENOSPC, "No space left on device"),
    ],
)  # F22
def test_unwritable_outputs_are_exit_3(capsys, sub, tmp_path, monkeypatch, err, text) -> None:
    """F20, F22 (issue 11): a read-only or full disk is exit 3, one line, nothing half-written."""
    real = os.replace

    def refuse(src, dst, *a, **k):
        raise OSError(err, text, str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    code, out = one_line_exit(capsys, "score", str(sub), "--json", str(tmp_path / "r.json"))
    monkeypatch.setattr(os, "replace", real)
    assert code == 3 and text in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [sub.name]  # the temp file is gone


# ------------------------------------------------------------------------------ real process


def _process(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, "-m", "var_bench", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def test_leaderboard_users_never_see_a_raw_traceback(tmp_path, S):
    """peers.md: participants often see only stdout, or a raw traceback. A real process prints
    one readable line on both streams and exits 2."""
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((XDVIOLENCE_AR.test_videos, 3), np.nan, np.float32))
    p = _process("score", bad)
    assert p.returncode == 2 and "Traceback" not in p.stdout + p.stderr
    assert len(p.stdout.splitlines()) == 1 and p.stdout.strip() in p.stderr
    assert "expected 800 x 800" in p.stdout and "got 800 x 3" in p.stdout
    good = tmp_path / "good.npy"
    np.save(good, S)
    p = _process("score", good, "--json", tmp_path / "r.json")
    assert p.returncode == 0 and "SumR↑" in p.stdout and p.stderr == ""
    assert json.loads((tmp_path / "r.json").read_text())["benchmark"] == "ucfcrime-ar"
