"""Flagging matrices normalised across the query set
(var_bench.tasks.retrieval.submission.normalisation)."""

from __future__ import annotations

import numpy as np
from support.submissions import N_UCF

from var_bench.scoring.score import read_submission
from var_bench.tasks.retrieval.matrix import ArraySource
from var_bench.tasks.retrieval.submission import (
    CONSTANT,
    EQUAL_SPREAD,
    UNEQUAL_SPREAD,
    axis_mean_spread,
    normalisation_warnings,
)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_raw_and_constant_matrices_are_not_flagged(S):
    assert normalisation_warnings(read_submission(S)) == []
    assert normalisation_warnings(read_submission(np.ones_like(S))) == []
    assert axis_mean_spread(ArraySource(np.ones_like(S))) == CONSTANT


def test_identical_rows_are_degenerate_not_normalised(S):
    same_rows = np.tile(S[0], (N_UCF, 1))  # every text query scores the videos alike
    assert normalisation_warnings(read_submission(same_rows)) == []
    assert normalisation_warnings(read_submission(np.ascontiguousarray(same_rows.T))) == []


def test_dual_softmax_over_queries_flags_t2v(S):
    # The query-axis softmax of dual-softmax / inverted-softmax re-scoring: columns sum to 1.
    warned = normalisation_warnings(read_submission(_softmax(S * 10, axis=0)))
    assert len(warned) == 1 and "inflates t2v" in warned[0]


def test_softmax_over_videos_flags_v2t(S):
    warned = normalisation_warnings(read_submission(_softmax(S * 10, axis=1)))
    assert len(warned) == 1 and "inflates v2t" in warned[0]


def test_z_scoring_over_queries_is_flagged(S):
    z = (S - S.mean(axis=0)) / S.std(axis=0)
    assert "inflates t2v" in normalisation_warnings(read_submission(z))[0]


def test_one_direction_is_checked_only_for_itself(S):
    z = _softmax(S * 10, axis=0)
    assert normalisation_warnings(read_submission(z, direction="v2t")) == []


def test_per_direction_matrix_normalised_over_its_queries():
    S = np.random.default_rng(5).standard_normal((N_UCF, N_UCF))
    sub = read_submission({"t2v": S, "v2t": _softmax(S.T * 5, axis=0)}, "ucfcrime-ar")
    warned = normalisation_warnings(sub)
    assert len(warned) == 1 and "inflates v2t" in warned[0]


def test_spread_is_the_same_through_a_transposed_source(tmp_path, S):
    p = tmp_path / "f.npy"
    np.save(p, np.asfortranarray(S))
    with read_submission(p) as sub:
        got = axis_mean_spread(sub.joint)
    want = axis_mean_spread(ArraySource(S))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert min(want) > 10 * UNEQUAL_SPREAD and UNEQUAL_SPREAD >= 10 * EQUAL_SPREAD
