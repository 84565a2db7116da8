"""Dtype and shape checks of a submission's matrices
(var_bench.tasks.retrieval.submission.checks)."""

from __future__ import annotations

import numpy as np
import pytest
from support.submissions import N_UCF, refused

from var_bench.scoring.score import read_submission
from var_bench.tasks.retrieval.submission import (
    check_dtype,
    check_shape,
)


@pytest.mark.parametrize(
    "bad, got",
    [
        (np.zeros((N_UCF, N_UCF - 1), np.float32), f"got {N_UCF} x {N_UCF - 1}"),
        (np.zeros(N_UCF, np.float32), "got a 1-D array"),
        (np.zeros((N_UCF, N_UCF, 1), np.float32), "got a 3-D array"),
        (np.zeros((N_UCF, N_UCF), np.complex64), "complex"),
        (np.zeros((N_UCF, N_UCF), bool), "bool"),
        (np.zeros((N_UCF, N_UCF), "U3"), "string"),
        (np.zeros((N_UCF, N_UCF), "S3"), "bytes"),
        (np.zeros((N_UCF, N_UCF), [("a", "f4"), ("b", "f4")]), "structured"),
        (np.zeros((N_UCF, N_UCF), "datetime64[s]"), "datetime64"),
        (np.zeros((N_UCF, N_UCF), object), "object array"),
    ],
)
def test_bad_matrices_are_refused_in_one_line(bad, got):
    msg = refused("expected", read_submission, bad, "ucfcrime-ar")
    assert got in msg


def test_shape_message_names_the_expectation():
    msg = refused(
        "expected", read_submission, np.zeros((N_UCF, N_UCF - 1), np.float32), "ucfcrime-ar"
    )
    assert msg == (
        f"matrix: expected {N_UCF} x {N_UCF} (text queries x videos for ucfcrime-ar), "
        f"got {N_UCF} x {N_UCF - 1}"
    )


def test_transposed_is_named_when_the_expectation_is_not_square():
    msg = refused("looks transposed", check_shape, "m", (5, 3), (3, 5), "3 x 5 (q x v)")
    assert "expected 3 x 5 (q x v), got 5 x 3" in msg
    check_shape("m", (3, 5), (3, 5), "3 x 5")


def test_check_dtype_accepts_floats_and_ints():
    for dt in ("f2", "f4", ">f8", "i4", "u1"):
        check_dtype("m", np.dtype(dt))
