import re

import pytest

from var_bench.benchmarks import BENCHMARKS, SPLITS, UCFCRIME_AR
from var_bench.data.splits import check_ids, expected_ids_sha256, split_info
from var_bench.errors import DataError, InputError
from var_bench.fsutil import sha256_lines


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_shipped_rules_and_checksums(name):
    info = split_info(BENCHMARKS[name])
    assert info.benchmark == name
    if info.rule is None:  # a benchmark shipping its own val split (UCA) lists its videos too
        assert set(info.videos_sha256) == set(SPLITS)
    else:
        assert (info.rule.source_split, info.rule.group_by, info.rule.denominator) == (
            "train",
            "class",
            10,
        )
    assert set(info.ids_sha256) == set(SPLITS)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in info.ids_sha256.values())
    assert len(set(info.ids_sha256.values())) == 3


def test_check_ids_mismatch_is_loud():
    with pytest.raises(DataError, match=r"ucfcrime-ar test: ordered id list sha256 expected"):
        check_ids(UCFCRIME_AR, "test", ["a", "b"])


def test_sha256_lines_is_what_ids_prints():
    # `printf "a\nb\n" | sha256sum`
    assert (
        sha256_lines(["a", "b"])
        == "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2"
    )


def test_unknown_split():
    with pytest.raises(InputError, match="split: expected one of"):
        expected_ids_sha256(UCFCRIME_AR, "dev")
