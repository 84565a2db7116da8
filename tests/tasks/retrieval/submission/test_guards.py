"""Protocol guards of a submission (var_bench.tasks.retrieval.submission.guards): the zero-cell
warning."""

from __future__ import annotations

import numpy as np
import pytest

from var_bench.scoring.score import score


def _padded_topk(n: int, k: int, rng) -> np.ndarray:
    s = rng.random((n, n)).astype(np.float32) + 0.01
    keep = np.argsort(-s, axis=1)[:, :k]
    out = np.zeros_like(s)
    np.put_along_axis(out, keep, np.take_along_axis(s, keep, axis=1), axis=1)
    return out


def test_zero_padded_top_k_matrix_is_warned_about() -> None:
    rng = np.random.default_rng(0)
    with pytest.warns(UserWarning, match="exactly 0"):
        record = score(_padded_topk(290, 10, rng), "ucfcrime-ar")
    assert any("96.6% of the cells are exactly 0" in w for w in record.warnings)


def test_raw_scores_are_not_warned_about() -> None:
    record = score(np.random.default_rng(1).standard_normal((290, 290)), "ucfcrime-ar")
    assert not any("exactly 0" in w for w in record.warnings)
