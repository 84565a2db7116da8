"""The features digest a record may carry: 64 lowercase hex or null, read from provenance."""

from __future__ import annotations

import pytest

from support.records import good_record_dict
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
