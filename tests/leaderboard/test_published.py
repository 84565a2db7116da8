"""var_bench.leaderboard.published: Tables II and III reproduced exactly."""

from __future__ import annotations

import pytest
from support.protocol_tables import CELL_METRICS, protocol_tables

from var_bench.benchmarks import BENCHMARKS, get_benchmark
from var_bench.errors import DataError
from var_bench.leaderboard import published
from var_bench.leaderboard.published import published_table
from var_bench.tasks.retrieval.names import MEAN_RANK, METRICS

METHODS = ("Random", "CE", "MMT", "T2VLAD", "X-CLIP", "HL-Net", "XML", "ALAN")


@pytest.mark.parametrize("name", list(protocol_tables()))
def test_json_reproduces_protocol_tables_exactly(name: str) -> None:
    want = protocol_tables()[name]
    table = published_table(name)
    assert [r.method for r in table.rows] == [m for m, _, _ in want]
    for row, (method, cells, sumr) in zip(table.rows, want):
        for d, numbers in zip(BENCHMARKS[name].task().groups, cells):
            assert numbers == [f"{row.metrics[d][m]:.1f}" for m in CELL_METRICS], (method, d)
            assert [row.metrics[d][m] for m in CELL_METRICS] == [float(x) for x in numbers]
            assert row.metrics[d][MEAN_RANK] is None
        assert f"{row.score:.1f}" == sumr and row.score == float(sumr)


@pytest.mark.parametrize("name", list(protocol_tables()))
def test_every_row_has_every_metric_and_the_paper_as_source(name: str) -> None:
    table = published_table(name)
    assert tuple(r.method for r in table.rows) == METHODS
    for row in table.rows:
        assert list(row.metrics) == list(BENCHMARKS[name].task().groups)
        assert all(list(v) == list(METRICS) for v in row.metrics.values())
    assert table.source.startswith("Wu et al., TIP 2024, Table ")
    assert "TIP" in table.source or "Transactions on Image Processing" in table.paper


def test_sources_and_text_feature_note() -> None:
    ucf, xd = published_table("ucfcrime-ar"), published_table("xdviolence-ar")
    assert ucf.source.endswith("Table II") and xd.source.endswith("Table III")
    assert "BERT" in ucf.note and "word2vec" in ucf.note
    features = {r.method: r.text_features for r in ucf.rows}
    assert features["CE"] == "word2vec"
    assert {features[m] for m in METHODS if m not in ("CE", "Random")} == {"BERT"}


def test_published_values_are_not_all_exact_fractions() -> None:
    # protocol.md: some UCF values are not k/290 (8.2, 25.8, 20.2, 7.3): they were kept as printed.
    ucf = published_table("ucfcrime-ar")
    values = {v for r in ucf.rows for d in r.metrics.values() for v in d.values() if v is not None}
    assert {8.2, 25.8, 20.2, 7.3} <= values


def test_drift_from_the_metric_names_is_refused(monkeypatch) -> None:
    import dataclasses
    import json

    spec = get_benchmark("ucfcrime-ar")
    raw = json.loads(spec.resource_text(published.RESOURCE))
    rows = [dict(r) for r in raw["rows"]]
    rows[0] = {**rows[0], "metrics": {"t2v": {"R1": 0.3}, "v2t": rows[0]["metrics"]["v2t"]}}
    broken = dataclasses.replace(spec)
    monkeypatch.setattr(
        type(broken),
        "resource_text",
        lambda self, name: (
            json.dumps({**raw, "rows": rows}) if self is broken else spec.resource_text(name)
        ),
    )
    with pytest.raises(DataError, match="expected metrics R@1, R@5, R@10, MdR, MnR, got R1"):
        published_table(broken)
