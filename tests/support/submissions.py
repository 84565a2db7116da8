"""Shared pieces of the submission tests: benchmark sizes, canonical-id stand-ins, readers."""

from __future__ import annotations

import numpy as np
import pytest

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines
from var_bench.tasks.retrieval.submission import Canon

N_UCF = UCFCRIME_AR.test_size
N_XD = XDVIOLENCE_AR.test_size
UCF_IDS = [f"vid{i:03d}" for i in range(N_UCF)]


def canon_for(ids):
    """A canon of ``ids`` (hash and list)."""
    return Canon(sha256=lambda spec: sha256_lines(ids), ids=lambda spec: ids)


def no_list_canon(ids):
    """A canon whose id list must never be needed (ids in canonical order are checked by hash)."""
    def fail(spec):
        raise AssertionError("the canonical id list was loaded although the ids were canonical")
    return Canon(sha256=lambda spec: sha256_lines(ids), ids=fail)


def whole(src) -> np.ndarray:
    """All of a matrix source as one array, in its logical orientation."""
    m = src.read_rows(0, src.shape[0])
    return np.array(m.T if src.transposed else m)


def refused(match: str, fn, *args, **kw) -> str:
    """``fn(*args, **kw)`` raises one :class:`InputError` line matching ``match``; the line."""
    with pytest.raises(InputError, match=match) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    return msg
