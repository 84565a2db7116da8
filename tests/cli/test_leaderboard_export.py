"""``var-bench export``: thin CLI over var_bench.leaderboard.adapters.export_record."""

from __future__ import annotations

import json

import pytest
from support.records_factory import make_record

from var_bench.benchmarks import XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.data.splits import expected_ids_sha256


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.mark.parametrize("platform", ["codalab", "codabench", "evalai"])
def test_export(tmp_path, capsys, platform: str) -> None:
    record = make_record("xdviolence-ar", ids_sha256=expected_ids_sha256(XDVIOLENCE_AR, "test"))
    record.save(tmp_path / "rec.json")
    target = tmp_path / "out"
    code, out, _ = _run(
        capsys, "export", str(tmp_path / "rec.json"), "--to", platform, "--output", str(target)
    )
    assert (code, out) == (0, f"wrote {target} ({platform})\n")
    text = target.read_text()
    if platform == "codalab":
        assert f"SumR: {record.main_value!r}\n" in text
    else:
        data = json.loads(text)
        assert (data if platform == "codabench" else data["submission_result"])[
            "SumR"
        ] == record.main_value


def test_export_errors_are_one_line(tmp_path, capsys) -> None:
    code, out, err = _run(
        capsys,
        "export",
        str(tmp_path / "missing.json"),
        "--to",
        "codalab",
        "--output",
        str(tmp_path / "x"),
    )
    assert code == 2 and out.count("\n") == 1 and "missing.json: expected a result record" in out
    code, out, _ = _run(
        capsys,
        "export",
        str(tmp_path / "missing.json"),
        "--to",
        "kaggle",
        "--output",
        str(tmp_path / "x"),
    )
    assert code == 2 and "'kaggle' is not one of" in out
