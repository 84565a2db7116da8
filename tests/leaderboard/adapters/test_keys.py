"""var_bench.leaderboard.adapters.keys: platform score keys generated from metric and direction
names."""

from __future__ import annotations

import pytest
from support.paths import DOCS
from support.records_factory import fake_ids_hash, make_record

from var_bench.benchmarks import BENCHMARKS, XDVIOLENCE_AR
from var_bench.errors import InputError
from var_bench.leaderboard.adapters.keys import flat_scores, key_table, score_key, score_keys
from var_bench.tasks.retrieval import ranks


def test_score_keys() -> None:
    assert score_key("t2v", "R@10") == "t2v_R10" and score_key(None, "SumR") == "SumR"
    assert score_keys("ucfcrime-ar") == [
        "t2v_R1",
        "t2v_R5",
        "t2v_R10",
        "t2v_MdR",
        "t2v_MnR",
        "v2t_R1",
        "v2t_R5",
        "v2t_R10",
        "v2t_MdR",
        "v2t_MnR",
        "SumR",
    ]
    assert score_keys("xdviolence-ar")[0] == "a2v_R1" and score_keys("xdviolence-ar")[5] == "v2a_R1"


def test_key_table_documents_sorting() -> None:
    rows = {k: (what, sort) for k, what, sort in key_table(XDVIOLENCE_AR.task())}
    assert rows["a2v_R1"] == ("A->V R@1", "desc")
    assert rows["v2a_MnR"] == ("V->A MnR", "asc")
    assert rows["SumR"] == ("SumR", "desc")
    assert list(rows) == score_keys("xdviolence-ar")


def test_flat_scores_are_the_record_under_expected_ties() -> None:
    record = make_record(ties="optimistic", tie_rate=0.5)
    scores = flat_scores(record, fake_ids_hash)
    assert list(scores) == score_keys("ucfcrime-ar")
    assert scores["t2v_R5"] == ranks.recall_at_k(record.per_query["t2v"], 5, "expected")
    assert scores["v2t_MnR"] == ranks.mean_rank(record.per_query["v2t"], "expected")
    assert all(type(v) is float for v in scores.values())


def test_flat_scores_refuse_an_inconsistent_record() -> None:
    record = make_record()
    record.metrics["t2v"]["MdR"] = 1.0
    with pytest.raises(InputError, match="metrics do not match its per-query ranks"):
        flat_scores(record, fake_ids_hash)


@pytest.mark.parametrize("benchmark", ["ucfcrime-ar", "xdviolence-ar"])
def test_docs_list_the_generated_mapping(benchmark: str) -> None:
    docs = (DOCS / "leaderboard.md").read_text(encoding="utf-8")
    table = "\n".join(
        f"| `{k}` | {what} | {sort} |" for k, what, sort in key_table(BENCHMARKS[benchmark].task())
    )
    assert table in docs
