"""A valid result record as a plain dict (scored from a random 290 x 290 matrix), for tests that
edit one field at a time."""

from __future__ import annotations

import copy
import json
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _good() -> str:
    from var_bench.scoring.score import score

    r = np.random.default_rng(0)
    S = (r.standard_normal((290, 290)) + 2 * np.eye(290)).astype("f4")
    return score(S, benchmark="ucfcrime-ar").to_json()


def good_record_dict() -> dict:
    """A fresh copy of the good record's dict."""
    return copy.deepcopy(json.loads(_good()))
