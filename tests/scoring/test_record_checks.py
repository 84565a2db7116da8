"""Type and range checks of a result record read from JSON (var_bench.scoring.record_checks).

Mistyped fields, NaN, giant or float counts and deep nesting are one InputError line (exit 2 from
the CLI), never an internal error (the red-team cases of issue 11, L13-L22), with a hypothesis fuzz
test of the reader; the features digest a record may carry is 64 lowercase hex or null, read from
provenance."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.records import good_record_dict

from var_bench.cli import main
from var_bench.errors import InputError
from var_bench.scoring.record import ResultRecord
from var_bench.scoring.score import provenance_digest


@pytest.mark.parametrize("bad", ["abc", "A" * 64, 7, ["a" * 64], "a" * 63 + "\n"])
def test_a_record_features_digest_is_64_hex_or_null(bad) -> None:
    d = good_record_dict()
    d["features_digest"] = "0123456789abcdef" * 4
    assert ResultRecord.from_dict(dict(d)).features_digest == d["features_digest"]
    d["features_digest"] = None
    assert ResultRecord.from_dict(dict(d)).features_digest is None
    d["features_digest"] = bad
    with pytest.raises(InputError, match="features_digest: expected 64 lowercase hex") as e:
        ResultRecord.from_dict(d)
    assert "\n" not in str(e.value)


def test_the_digest_comes_from_the_submission_provenance() -> None:
    digest = "ab" * 32
    assert provenance_digest({"features": {"kind": "real", "features_digest": digest}}) == digest
    assert provenance_digest({"features": {"features_digest": "nothex"}}) is None
    assert provenance_digest({"features": None}) is None and provenance_digest(None) is None


# ------------------------------------------------------------ hostile records (issue 11)


def _edit(d: dict, case: str) -> str:
    """The record text for one hostile case."""
    if case == "L14-ci-nan":
        d["ci"] = {"intervals": {"t2v": {"R@1": [float("nan"), 1.0]}}, "level": 0.95}
        return json.dumps(d)  # json writes the NaN literal
    if case == "L15-ci-strings":
        d["ci"] = {"intervals": {"t2v": {"R@1": ["<script>", "x"]}}, "level": 0.95}
    elif case == "L16-by-class-malformed":
        d["by_class"] = {"classes": {"Abuse": {"n": 3, "metrics": {"t2v": 5}, "SumR": 1}}}
    elif case == "L17-count-2^70":
        d["per_query"]["t2v"]["higher"][0] = 2**70
    elif case == "L19-float-counts":
        d["per_query"]["t2v"]["higher"][0] += 0.9
    elif case == "L20-name-dict":
        d["name"] = {"a": 1}
    elif case == "L20-disclosure-list":
        d["disclosure"] = ["x"]
    elif case == "L20-date-int":
        d["date"] = 5
    elif case == "L21-warnings-string":
        d["warnings"] = "abc"
    elif case == "L22-deep-json":
        return json.dumps(d)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif case == "L13-array":
        return "[1, 2]"
    return json.dumps(d)


CASES = {
    "L13-array": "JSON object",
    "L14-ci-nan": "finite JSON numbers, got NaN",
    "L15-ci-strings": "ci.intervals.t2v.R@1[0]: expected a finite number",
    "L16-by-class-malformed": "by_class.classes.Abuse.metrics.t2v: expected an object",
    "L17-count-2^70": "per_query.t2v.higher[0]: expected an integer",
    "L19-float-counts": "per_query.t2v.higher[0]: expected an integer",
    "L20-name-dict": "name: expected a string or null",
    "L20-disclosure-list": "disclosure: expected an object",
    "L20-date-int": "date: expected a string",
    "L21-warnings-string": "warnings: expected a list of strings",
    "L22-deep-json": "nested at most",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mistyped_records_are_one_line_exit_2(tmp_path, capsys, case) -> None:
    p = tmp_path / "r.json"
    p.write_text(_edit(good_record_dict(), case))
    with pytest.raises(InputError, match=CASES[case].replace("[", r"\[").replace("^", r"\^")):
        ResultRecord.load(p)
    for cmd in (
        ["compare", str(p), str(p)],
        ["export", str(p), "--to", "codalab", "--output", str(tmp_path / "o.txt")],
    ):
        with pytest.raises(SystemExit) as e:
            main(cmd)
        out, err = capsys.readouterr()
        assert e.value.code == 2 and out.count("\n") == 1 and "internal error" not in out


def test_the_good_record_still_loads(tmp_path) -> None:
    p = tmp_path / "r.json"
    p.write_text(json.dumps(good_record_dict()))
    assert ResultRecord.load(p).main_value > 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = [
    "benchmark",
    "task",
    "task_type",
    "split",
    "ties",
    "metrics",
    "summary",
    "main_score",
    "per_query",
    "ci",
    "by_class",
    "name",
    "disclosure",
    "warnings",
    "date",
    "versions",
    "bounds",
    "details",
    "query_ids_sha256",
]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    field=st.sampled_from(_FIELDS),
    value=_JSON,
    raw=st.binary(max_size=64),
    mode=st.sampled_from(["replace", "bytes"]),
)
def test_fuzz_record_reader(tmp_path_factory, capsys, field, value, raw, mode) -> None:
    tmp = tmp_path_factory.mktemp("rec")
    p = tmp / "r.json"
    if mode == "bytes":
        p.write_bytes(raw)
    else:
        d = good_record_dict()
        d[field] = value
        p.write_text(json.dumps(d))
    before = set(os.listdir(tmp.parent))
    with pytest.raises(SystemExit) as e:
        main(["compare", str(p), str(p)])
    out, err = capsys.readouterr()
    assert e.value.code in (0, 2), out
    assert "Traceback" not in out + err and "internal error" not in out
    if e.value.code == 2:
        assert out.count("\n") == 1
    assert set(os.listdir(tmp.parent)) == before
