"""Every figure the toolkit prints for both benchmarks stays what it was before the task layer:
the golden submissions (``tests/support/golden.py``) through score, compare, leaderboard, report
and export, against the outputs and records committed in ``tests/golden/``."""

from __future__ import annotations

import json
import re
import warnings

import pytest
from support.golden import GOLDEN, cli_invoke, run_cases

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    work = tmp_path_factory.mktemp("golden")
    mp = pytest.MonkeyPatch()
    mp.setenv("VAR_BENCH_HOME", str(work / "home"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # float16 and tie warnings are part of the outputs
            yield run_cases(work, cli_invoke)
    finally:
        mp.undo()


def record_figures(data: dict) -> dict:
    """The figures of a record: metrics, the main score, bounds, tied queries, intervals and the
    per-query counts, from the record layout before the task layer (schema 1) or after it."""
    if "SumR" in data:  # schema 1
        main = data["SumR"]
        bounds = {
            r: {"metrics": b["metrics"], "SumR": b["SumR"]} for r, b in data["bounds"].items()
        }
        tied, ids = data["tied_queries"], [data["ids_sha256"]] * 2
    else:
        main = data["summary"][data["main_score"]]
        bounds = {
            r: {"metrics": b["metrics"], "SumR": b["summary"]["SumR"]}
            for r, b in data["bounds"].items()
        }
        tied = data["details"]["tied_queries"]
        ids = [data["query_ids_sha256"], data["gallery_ids_sha256"]]
    return {
        "metrics": data["metrics"],
        "main": main,
        "bounds": bounds,
        "tied_queries": tied,
        "per_query": data["per_query"],
        "ci": data["ci"],
        "warnings": data["warnings"],
        "disclosure": data["disclosure"],
        "name": data["name"],
        "ids": ids,
    }


def board_figures(data: dict) -> dict:
    """The figures of a leaderboard's JSON, before or after the task layer: per entry its rank,
    tier, metrics, main score, intervals and per-query counts; every tier comparison."""

    def entry(e: dict) -> tuple:
        main = e["SumR"] if "SumR" in e else e["score"]
        return (
            e["method"],
            e["rank"],
            e["tier"],
            e["metrics"],
            main,
            e["ci"],
            e["per_query"],
            e["flags"],
        )

    comparisons = [
        (c["a"], c["b"], c["better"], c["p_value"], c["p_adjusted"]) for c in data["comparisons"]
    ]
    return {"entries": [entry(e) for e in data["entries"]], "comparisons": comparisons}


def report_figures(data: dict) -> dict:
    """The figures of a report's JSON, before or after the task layer."""
    main = data["SumR"] if "SumR" in data else data["score"]
    groups = [(g["label"], g["n"], g["R@10"], g["interval"]) for g in data["groups"]]
    return {
        k: data[k]
        for k in ("tier", "rank", "metrics", "ci", "nearest", "recall_curves", "ranks", "hardest")
    } | {"main": main, "groups": groups}


def _numbers_outside_svg(html: str) -> list[str]:
    text = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    return _NUMBER.findall(re.sub(r"<[^>]+>", " ", text))


GOLDEN_FILES = sorted(p.name for p in GOLDEN.iterdir())


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_output_matches_golden(outputs, name):
    want = (GOLDEN / name).read_text("utf-8")
    assert name in outputs, f"no golden case makes {name}"
    got = outputs[name]
    if name.endswith(".record.json"):
        assert record_figures(json.loads(got)) == record_figures(json.loads(want))
    elif name.startswith("leaderboard") and name.endswith("-json.txt"):
        assert board_figures(json.loads(got)) == board_figures(json.loads(want))
    elif name.startswith("report") and name.endswith("-json.txt"):
        assert report_figures(json.loads(got)) == report_figures(json.loads(want))
    elif name.endswith("-html.txt"):
        # matplotlib's SVG can change with its version: every number outside the plot must stay.
        assert _numbers_outside_svg(got) == _numbers_outside_svg(want)
    else:
        assert got == want
