import pytest

from var_bench.benchmarks.kit import parse_segments
from var_bench.errors import DataError


def test_parse_segments_skips_minus_one_pairs():
    assert parse_segments(["165", "240", "-1", "-1"], "x") == [[165, 240]]
    assert parse_segments(["-1", "-1", "-1", "-1"], "x") == []


@pytest.mark.parametrize(
    "fields, match",
    [
        (["1", "2", "3"], "odd number"),
        (["a", "b"], "integer"),
        (["5", "5"], "start < end"),
        (["-3", "4"], "start < end"),
    ],
)
def test_parse_segments_refuses(fields, match):
    with pytest.raises(DataError, match=match):
        parse_segments(fields, "where")
