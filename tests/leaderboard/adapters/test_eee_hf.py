"""Results that travel: ``export --to eee`` (Every Eval Ever), ``--to hf-model-index`` (a Hugging
Face model card's ``model-index``), and ``var-bench import`` of an EEE record as a declared,
unverified leaderboard row."""

from __future__ import annotations

import json

import pytest
import yaml
from support.records_factory import make_record

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.cli import main
from var_bench.data.splits import expected_ids_sha256
from var_bench.leaderboard.adapters.eee import eee_record, parse_eee
from var_bench.leaderboard.adapters.keys import flat_scores, score_keys

#: The EEE schema's required keys (evaleval/every_eval_ever eval.schema.json 0.2.1).
TOP = {
    "schema_version",
    "evaluation_id",
    "retrieved_timestamp",
    "source_metadata",
    "model_info",
    "eval_library",
    "evaluation_results",
}
RESULT = {"evaluation_name", "source_data", "metric_config", "score_details"}
SOURCE = {"source_type", "source_organization_name", "evaluator_relationship"}


@pytest.fixture
def record_path(tmp_path):
    record = make_record(ids_sha256=expected_ids_sha256(UCFCRIME_AR, "test"), ci=True, seed=4)
    path = tmp_path / "rec.json"
    record.save(path)
    return path, record


def _run(capsys, *argv):
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_eee_export_is_an_evaluation_run_with_directions_bounds_and_intervals(
    record_path, tmp_path, capsys
):
    path, record = record_path
    code, out, err = _run(capsys, "export", path, "--to", "eee", "--output", tmp_path / "e.json")
    assert code == 0, err
    assert out == f"wrote {tmp_path / 'e.json'} (eee)\n"
    data = json.loads((tmp_path / "e.json").read_text())
    assert TOP <= set(data) and SOURCE <= set(data["source_metadata"])
    assert data["source_metadata"]["source_type"] == "evaluation_run"
    assert {"name", "version"} <= set(data["eval_library"]) and data["model_info"]["name"]
    results = data["evaluation_results"]
    assert all(RESULT <= set(r) for r in results)
    keys = [r["metric_config"]["additional_details"]["key"] for r in results]
    assert keys == score_keys("ucfcrime-ar")
    scores = flat_scores(record)
    for r, key in zip(results, keys):
        assert r["score_details"]["score"] == pytest.approx(scores[key])
        cfg = r["metric_config"]
        assert cfg["lower_is_better"] is key.endswith(("MdR", "MnR"))
        assert cfg["score_type"] == "continuous"
        assert cfg["min_score"] <= r["score_details"]["score"] <= cfg["max_score"]
        ci = r["score_details"]["uncertainty"]["confidence_interval"]
        assert ci["lower"] <= r["score_details"]["score"] <= ci["upper"]
        assert ci["confidence_level"] == 0.95
    assert results[-1]["metric_config"]["max_score"] == 600.0  # SumR: 6 recalls of 100 %
    parse_eee(data, "e.json")  # what var-bench import reads back


def test_hf_model_index_round_trips_through_huggingface_hub(record_path, tmp_path, capsys):
    from huggingface_hub.repocard_data import model_index_to_eval_results

    path, record = record_path
    out = tmp_path / "card.yaml"
    code, _, err = _run(capsys, "export", path, "--to", "hf-model-index", "--output", out)
    assert code == 0, err
    block = yaml.safe_load(out.read_text())["model-index"]
    name, results = model_index_to_eval_results(block)
    assert name == "my-model"
    assert [r.metric_type for r in results] == score_keys("ucfcrime-ar")
    scores = flat_scores(record)
    assert all(r.metric_value == pytest.approx(scores[r.metric_type], abs=1e-4) for r in results)
    assert {(r.task_type, r.dataset_type, r.dataset_split, r.verified) for r in results} == {
        ("text-to-video-retrieval", "ucfcrime-ar", "test", False)
    }


def test_import_adds_a_declared_unverified_row_beside_verified_records(
    record_path, tmp_path, capsys
):
    path, record = record_path
    eee = eee_record(record)
    eee["model_info"]["name"] = "from elsewhere"
    eee["source_metadata"]["source_type"] = "documentation"
    src = tmp_path / "theirs.json"
    src.write_text(json.dumps(eee))
    results = tmp_path / "results"
    results.mkdir()
    (results / "mine.json").write_text(path.read_text())  # a verified record in the same folder
    code, out, err = _run(capsys, "import", src, "-b", "ucfcrime-ar", "--results", results)
    assert code == 0, err
    assert "from elsewhere: ucfcrime-ar SumR" in out and "declared" in out
    assert out.endswith(
        f"wrote {results / 'theirs.eee.json'} (var-bench leaderboard "
        f"ucfcrime-ar --results {results})\n"
    )
    code, out, err = _run(
        capsys, "leaderboard", "ucfcrime-ar", "--results", results, "--format", "json"
    )
    assert code == 0, err
    entries = {e["method"]: e for e in json.loads(out)["entries"]}
    mine, theirs = entries["my-model"], entries["from elsewhere"]
    assert mine["kind"] == "user" and theirs["kind"] == "declared"
    assert theirs["source_kind"] == "declared, unverified" and theirs["per_query"] is None
    assert theirs["score"] == pytest.approx(mine["score"])
    assert any("unverified" in f and "a paper or page" in f for f in theirs["flags"])


def test_import_refuses_what_is_no_record_for_the_benchmark(record_path, tmp_path, capsys):
    path, record = record_path
    eee = eee_record(record)
    bad = json.loads(json.dumps(eee))
    mdr = next(r for r in bad["evaluation_results"] if r["evaluation_name"].endswith("t2v_MdR"))
    mdr["metric_config"]["lower_is_better"] = False
    cases = {
        "not-eee.json": ({"benchmark": "x"}, "expected an Every Eval Ever record"),
        "flipped.json": (bad, "expected lower_is_better true for MdR, got false"),
        "other.json": (
            {
                **eee,
                "evaluation_results": [
                    {
                        **eee["evaluation_results"][0],
                        "source_data": {"dataset_name": "mmlu", "source_type": "other"},
                    }
                ],
            },
            "expected evaluation_results with source_data.dataset_name 'ucfcrime-ar'",
        ),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_text(json.dumps(data))
        code, out, _ = _run(
            capsys, "import", tmp_path / name, "-b", "ucfcrime-ar", "--results", tmp_path / "r"
        )
        assert code == 2 and message in out, (name, out)
        assert out.count("\n") == 1
    assert not (tmp_path / "r").exists()  # nothing written for a refused file


def test_a_record_from_another_tool_with_spelled_names_and_no_sumr(record_path, tmp_path):
    from var_bench.leaderboard.adapters.eee import declared_entry

    _, record = record_path
    eee = eee_record(record)
    kept = []
    for r in eee["evaluation_results"]:
        key = r["metric_config"].pop("additional_details")["key"]
        if key == "SumR":
            continue  # computed from the recalls
        group, metric = key.split("_")
        r["evaluation_name"] = (
            f"VAR {group} {metric.replace('R', 'R@', 1) if metric[1:].isdigit() else metric}"
        )
        kept.append(r)
    eee["evaluation_results"] = kept
    (tmp_path / "x.json").write_text(json.dumps(eee))
    entry = declared_entry(tmp_path / "x.json", UCFCRIME_AR)
    assert entry.score == pytest.approx(flat_scores(record)["SumR"])
    assert entry.metrics["v2t"]["MdR"] == pytest.approx(flat_scores(record)["v2t_MdR"])
