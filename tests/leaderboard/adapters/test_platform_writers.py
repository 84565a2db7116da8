"""CodaLab scores.txt, Codabench scores.json and EvalAI JSON written from one record."""

from __future__ import annotations

import json
import re

import pytest
from support.records_factory import HOSTILE_NAME, fake_ids_hash, make_record

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.data.splits import expected_ids_sha256
from var_bench.errors import InputError
from var_bench.leaderboard.adapters import export_record
from var_bench.leaderboard.adapters.codabench import write_codabench_scores
from var_bench.leaderboard.adapters.codalab import codalab_scores_text, write_codalab_scores
from var_bench.leaderboard.adapters.evalai import evalai_result, write_evalai_json
from var_bench.leaderboard.adapters.keys import flat_scores, score_keys


def test_codalab_scores_txt(tmp_path) -> None:
    record = make_record(seed=3)
    path = tmp_path / "out" / "scores.txt"
    write_codalab_scores(record, path, fake_ids_hash)
    lines = path.read_text().splitlines()
    assert [ln.split(": ")[0] for ln in lines] == score_keys("ucfcrime-ar")
    parsed = {k: float(v) for k, v in (ln.split(": ") for ln in lines)}
    assert parsed == flat_scores(
        record, fake_ids_hash
    )  # full precision survives the text round trip
    assert parsed["SumR"] == record.main_value and parsed["t2v_R1"] == record.metrics["t2v"]["R@1"]
    assert codalab_scores_text(record, fake_ids_hash) == path.read_text()


def test_codabench_scores_json(tmp_path) -> None:
    record = make_record("xdviolence-ar", seed=4)
    path = tmp_path / "scores.json"
    write_codabench_scores(record, path, fake_ids_hash)
    data = json.loads(path.read_text())
    assert list(data) == score_keys("xdviolence-ar")
    assert data["v2a_MdR"] == record.metrics["v2a"]["MdR"] and data["SumR"] == record.main_value


def test_evalai_result_shape(tmp_path) -> None:
    record = make_record(seed=5)
    result = evalai_result(record, "test_split", fake_ids_hash)
    assert list(result) == ["result", "submission_result"]
    assert len(result["result"]) == 1 and list(result["result"][0]) == ["test_split"]
    scores = flat_scores(record, fake_ids_hash)
    assert result["result"][0]["test_split"] == result["submission_result"] == scores
    path = tmp_path / "evalai.json"
    write_evalai_json(record, path, ids_hash=fake_ids_hash)
    assert json.loads(path.read_text())["result"][0]["test"]["SumR"] == record.main_value


def test_export_record_all_platforms(tmp_path) -> None:
    record = make_record(ids_sha256=expected_ids_sha256(UCFCRIME_AR, "test"))
    record.save(tmp_path / "rec.json")
    export_record(tmp_path / "rec.json", "codalab", tmp_path / "scores.txt")
    export_record(tmp_path / "rec.json", "codabench", tmp_path / "scores.json")
    export_record(tmp_path / "rec.json", "evalai", tmp_path / "evalai.json")
    assert (tmp_path / "scores.txt").read_text().startswith("t2v_R1: ")
    assert json.loads((tmp_path / "scores.json").read_text())["SumR"] == record.main_value
    assert (
        json.loads((tmp_path / "evalai.json").read_text())["submission_result"]["SumR"]
        == record.main_value
    )
    with pytest.raises(InputError, match="platform: expected one of codalab, codabench, evalai"):
        export_record(tmp_path / "rec.json", "kaggle", tmp_path / "x")


def test_nothing_is_written_for_a_refused_record(tmp_path) -> None:
    record = make_record()  # fake id-list hash: refused by the shipped checksum
    with pytest.raises(InputError, match="ids_sha256"):
        write_codalab_scores(record, tmp_path / "scores.txt")
    assert list(tmp_path.iterdir()) == []


def test_platform_outputs_carry_no_user_strings() -> None:
    """Issue 11, class 5: a hostile method name never reaches a platform's score file."""
    record = make_record(seed=11, name=HOSTILE_NAME)
    text = codalab_scores_text(record, fake_ids_hash)
    assert all(re.fullmatch(r"\w+: [-\d.e+]+", line) for line in text.splitlines())
    assert HOSTILE_NAME not in json.dumps(evalai_result(record, ids_hash=fake_ids_hash))
