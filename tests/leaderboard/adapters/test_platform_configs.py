"""Leaderboard configuration snippets for organisers, generated from the score keys."""

from __future__ import annotations

import pytest

from var_bench.leaderboard.adapters import codabench, codalab, evalai
from var_bench.leaderboard.adapters.keys import score_keys

yaml = pytest.importorskip("yaml")


@pytest.mark.parametrize("benchmark", ["ucfcrime-ar", "xdviolence-ar"])
def test_codabench_columns(benchmark: str) -> None:
    board = yaml.safe_load(codabench.leaderboard_yaml(benchmark))["leaderboard"][0]
    columns = board["columns"]
    assert columns[0] == {"title": "SumR", "key": "SumR", "index": 0, "sorting": "desc"}
    assert sorted(c["key"] for c in columns) == sorted(score_keys(benchmark))
    assert [c["index"] for c in columns] == list(range(len(columns)))
    assert {c["key"][-3:]: c["sorting"] for c in columns if c["key"].endswith(("MdR", "MnR"))} == {
        "MdR": "asc",
        "MnR": "asc",
    }


def test_codalab_columns() -> None:
    config = yaml.safe_load(codalab.leaderboard_yaml("xdviolence-ar"))["leaderboard"]
    assert list(config["leaderboards"]) == ["RESULTS"]
    columns = config["columns"]
    assert list(columns) == ["SumR", *score_keys("xdviolence-ar")[:-1]]
    assert columns["a2v_R1"]["label"] == "A->V R@1" and columns["a2v_R1"]["rank"] == 2
    assert columns["SumR"]["leaderboard"] == config["leaderboards"]["RESULTS"]


def test_evalai_schema() -> None:
    schema = evalai.leaderboard_schema("ucfcrime-ar")
    assert schema["labels"][0] == schema["default_order_by"] == "SumR"
    assert sorted(schema["labels"]) == sorted(score_keys("ucfcrime-ar"))
    assert schema["metadata"]["v2t_MnR"] == {"sort_ascending": True, "description": "V->T MnR"}
    assert schema["metadata"]["t2v_R10"]["sort_ascending"] is False
