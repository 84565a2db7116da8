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
    per-query counts (whatever the record's layout)."""
    return {
        "metrics": data["metrics"],
        "SumR": data["SumR"],
        "bounds": data["bounds"],
        "tied_queries": data["tied_queries"],
        "per_query": data["per_query"],
        "ci": data["ci"],
        "warnings": data["warnings"],
        "disclosure": data["disclosure"],
        "name": data["name"],
        "ids_sha256": data["ids_sha256"],
    }


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
    elif name.endswith("-html.txt"):
        assert _numbers_outside_svg(got) == _numbers_outside_svg(want)
    else:
        assert got == want
