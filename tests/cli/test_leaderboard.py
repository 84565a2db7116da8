"""``var-bench leaderboard``: thin CLI over var_bench.leaderboard."""

from __future__ import annotations

import json

import pytest
from support.leaderboard_md import SUMR_COL, md_rows
from support.protocol_tables import protocol_tables
from support.records_factory import make_record

from var_bench.benchmarks import XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.data.splits import expected_ids_sha256


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.mark.parametrize("name", list(protocol_tables()))
def test_md_prints_every_published_number_exactly(capsys, name: str) -> None:
    code, out, _ = _run(capsys, "leaderboard", name, "--format", "md")
    assert code == 0
    rows = md_rows(out)
    for method, cells, sumr in protocol_tables()[name]:
        row = rows[method]
        numbers = [x for i in range(len(cells)) for x in row[4 + 5 * i : 4 + 5 * i + 4]]
        assert numbers == [x for c in cells for x in c] and row[SUMR_COL] == sumr, method


def test_results_folder_to_json_file(tmp_path, capsys) -> None:
    ids = expected_ids_sha256(XDVIOLENCE_AR, "test")
    results = tmp_path / "results"
    results.mkdir()
    make_record("xdviolence-ar", name="cli-entry", skill=0.4, ids_sha256=ids).save(
        results / "r.json"
    )
    make_record("ucfcrime-ar", name="other-benchmark").save(results / "u.json")
    out_path = tmp_path / "board" / "lb.json"
    code, out, err = _run(
        capsys,
        "leaderboard",
        "xdviolence-ar",
        "--results",
        str(results),
        "--format",
        "json",
        "--output",
        str(out_path),
    )
    assert (code, out) == (0, f"wrote {out_path}\n")  # the file, not the board, on stdout
    data = json.loads(out_path.read_text())
    assert [e["method"] for e in data["entries"]][0] == "cli-entry"
    assert len(data["entries"]) == 9
    assert list(out_path.parent.iterdir()) == [out_path]  # atomic write leaves no temporary file


def test_html_output(tmp_path, capsys) -> None:
    target = tmp_path / "lb.html"
    code, out, _ = _run(
        capsys, "leaderboard", "ucfcrime-ar", "--format", "html", "--output", str(target)
    )
    assert (code, out) == (0, f"wrote {target}\n")
    assert target.read_text().count("<svg") == 1


def test_a_bad_record_is_one_line_exit_2(tmp_path, capsys) -> None:
    record = make_record(name="stale")  # carries a fake id-list hash
    record.save(tmp_path / "stale.json")
    code, out, err = _run(capsys, "leaderboard", "ucfcrime-ar", "--results", str(tmp_path))
    assert code == 2
    assert out.count("\n") == 1
    assert out.startswith("var-bench: error: record stale.json: expected ids_sha256")
    assert err.strip().endswith(out.strip())
    assert "Traceback" not in out + err
