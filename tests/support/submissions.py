"""Shared pieces of the submission tests: benchmark sizes, canonical-id stand-ins, readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines
from var_bench.tasks import Gold, IdList

N_UCF = UCFCRIME_AR.test_videos
N_XD = XDVIOLENCE_AR.test_videos
UCF_IDS = [f"vid{i:03d}" for i in range(N_UCF)]


def gold_for(ids):
    """The identity gold of ``ids`` (hash and list)."""
    return Gold.identity(IdList.of(ids))


def no_list_gold(ids):
    """An identity gold whose id list must never be needed (ids in canonical order are checked
    by hash)."""

    def fail():
        raise AssertionError("the canonical id list was loaded although the ids were canonical")

    return Gold.identity(IdList(len(ids), sha256_lines(ids), fail))


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


def save_npz(folder: Path, **arrays) -> Path:
    """``np.savez(folder / "sub.npz", **arrays)``; the path."""
    p = folder / "sub.npz"
    np.savez(p, **arrays)
    return p
