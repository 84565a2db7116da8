"""``var-bench compare``: paired tests between submissions and/or result records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.tasks.retrieval.names import METRICS, SUMR

N = UCFCRIME_AR.test_videos


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``var-bench ARGS`` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def table_rows(out: str) -> dict[str, list[str]]:
    """metric label -> the other cells of the comparison table."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("metric")) + 2
    rows = {}
    for line in lines[start:]:
        label, rest = line.split(maxsplit=1)
        if label in ("t2v", "v2t"):  # "t2v R@1↑ ..."
            metric, rest = rest.split(maxsplit=1)
            label = f"{label} {metric}"
        rows[label] = rest.replace("[", "").replace("]", "").replace(",", "").split()
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    rng = np.random.default_rng(0)
    S = (rng.standard_normal((N, N)) + 2 * np.eye(N)).astype(np.float32)
    np.save(d / "good.npy", S)
    np.save(d / "copy.npy", S.copy())
    np.save(d / "worse.npy", S + 3 * rng.standard_normal(S.shape).astype(np.float32))
    np.save(d / "xd.npy", rng.standard_normal((XDVIOLENCE_AR.test_videos,) * 2).astype(np.float32))
    return d


def test_identical_submissions(capsys, files):
    code, out, err = run_cli(
        capsys, "compare", files / "good.npy", files / "copy.npy", "--replicates", "300"
    )
    assert code == 0, err
    rows = table_rows(out)
    assert len(rows) == 2 * len(METRICS) + 1
    for label, cells in rows.items():
        a, b, diff, lo, hi, p, p_holm, better = cells
        assert (
            a == b
            and float(diff) == 0
            and float(p) == pytest.approx(1.0)
            and float(p_holm) == pytest.approx(1.0)
            and better == "-"
        ), label


@pytest.mark.parametrize("method", ["permutation", "bootstrap"])
def test_a_clearly_better_submission(capsys, files, method, tmp_path):
    code, out, err = run_cli(
        capsys,
        "compare",
        files / "worse.npy",
        files / "good.npy",
        "--method",
        method,
        "--replicates",
        "500",
        "--json",
        tmp_path / "c.json",
    )
    assert code == 0, err
    cells = table_rows(out)[f"{SUMR}↑"]
    assert (
        float(cells[2]) < 0
        and float(cells[5]) < 0.01
        and float(cells[6]) < 0.05
        and cells[7] == "B"
    )
    saved = json.loads((tmp_path / "c.json").read_text())
    assert saved["method"] == method and saved["replicates"] == 500
    assert saved["rows"][-1]["metric"] == SUMR and saved["rows"][-1]["better"] == "b"
    assert f"{method} test, 500 replicates, seed 0" in out


def test_record_files_and_submissions_mix(capsys, files, tmp_path):
    record = tmp_path / "good.json"
    assert run_cli(capsys, "score", files / "good.npy", "--json", record)[0] == 0
    code, out, err = run_cli(capsys, "compare", record, files / "copy.npy", "--replicates", "100")
    assert code == 0, err
    assert all(float(cells[2]) == 0 for cells in table_rows(out).values())


def _refused(capsys, *args) -> str:
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and "Traceback" not in out + err
    assert len(out.splitlines()) == 1 and out.splitlines()[0] in err.splitlines()
    return out.strip()


def test_different_benchmarks_are_refused(capsys, files):
    line = _refused(capsys, "compare", files / "good.npy", files / "xd.npy", "--replicates", "10")
    assert (
        "expected A and B of the same benchmark" in line
        and "'ucfcrime-ar' and 'xdviolence-ar'" in line
    )
    line = _refused(
        capsys, "compare", files / "good.npy", files / "xd.npy", "--benchmark", "ucfcrime-ar"
    )
    assert "expected 290 x 290" in line and "got 800 x 800" in line


def test_different_id_lists_are_refused(capsys, files, tmp_path):
    record = tmp_path / "r.json"
    run_cli(capsys, "score", files / "good.npy", "--json", record)
    data = json.loads(record.read_text())
    data["query_ids_sha256"] = "f" * 64
    record.write_text(json.dumps(data))
    line = _refused(capsys, "compare", record, files / "good.npy")
    assert "same ids_sha256" in line


def test_one_direction_against_two_is_refused(capsys, files, tmp_path):
    one = tmp_path / "one.json"
    run_cli(capsys, "score", files / "good.npy", "--direction", "t2v", "--json", one)
    line = _refused(capsys, "compare", one, files / "good.npy")
    assert "same directions" in line and "got t2v and t2v, v2t" in line


def test_bad_record_and_bad_submission(capsys, files, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "expected a result record (JSON)" in _refused(
        capsys, "compare", broken, files / "good.npy"
    )
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((N, N), np.nan, np.float32))
    assert "NaN at row 0, column 0" in _refused(capsys, "compare", files / "good.npy", nan)
    assert "'t-test'" in _refused(
        capsys, "compare", files / "good.npy", files / "copy.npy", "--method", "t-test"
    )
