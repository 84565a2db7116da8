import pytest

from var_bench.benchmarks import BENCHMARKS, get_benchmark
from var_bench.errors import InputError


def test_published_counts():
    ucf, xd = BENCHMARKS["ucfcrime-ar"], BENCHMARKS["xdviolence-ar"]
    assert ucf.upstream_counts == {"train": 1610, "test": 290}
    assert xd.upstream_counts == {"train": 3954, "test": 800}
    assert ucf.upstream_class_counts["train"]["Normal"] == 800
    assert ucf.upstream_class_counts["test"]["Normal"] == 150
    assert xd.upstream_class_counts["test"]["Normal"] == 300
    assert len(ucf.classes) == 14 and "B3" not in xd.class_codes


def test_directions():
    ucf = get_benchmark("UCFCrime_AR").task()
    assert ucf.groups == ("t2v", "v2t") and ucf.main_score == "SumR" and ucf.paired
    assert ucf.direction("v2t").over_rows is False
    assert ucf.directions[0].arrow == "T->V"
    with pytest.raises(InputError, match="expected one of t2v, v2t, got 'a2v'"):
        ucf.direction("a2v")
    with pytest.raises(InputError, match="expected a task among retrieval, got 'moments'"):
        get_benchmark("ucfcrime-ar").task("moments")


def test_specs_are_immutable():
    with pytest.raises(TypeError):
        BENCHMARKS["ucfcrime-ar"].upstream_class_counts["train"]["Abuse"] = 1
