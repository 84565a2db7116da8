"""Read and validate a submission: a score matrix S, from a file or from memory.

:func:`read_submission` opens the input (:mod:`.formats`: ``.npy``, ``.npz``, ``torch.save``,
HDF5, in-memory arrays and dicts), checks each matrix's dtype, shape and byte count
(:mod:`.checks`), binds optional id arrays to the canonical order and builds a
:class:`Submission` (:mod:`.assemble`). :func:`normalisation_warnings` flags matrices that look
normalised across the query set (:mod:`.normalisation`). Every refusal is one
:class:`~var_bench.errors.InputError` line naming the input, what was expected and what arrived.
"""

from __future__ import annotations

from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.scoring.submission.assemble import LOW_PRECISION_WARNING, Canon, Submission, _assemble, _infer_benchmark
from var_bench.scoring.submission.checks import check_dtype, check_shape, expected_matrix
from var_bench.scoring.submission.formats import ACCEPTED_FORMATS, _open
from var_bench.scoring.submission.normalisation import (
    CONSTANT,
    EQUAL_SPREAD,
    NORMALISATION_CHECK_MAX_N,
    UNEQUAL_SPREAD,
    VARYING_SHARE,
    AxisSpread,
    axis_mean_spread,
    normalisation_warnings,
    normalised_over_rows,
)

__all__ = [
    "ACCEPTED_FORMATS",
    "CONSTANT",
    "EQUAL_SPREAD",
    "LOW_PRECISION_WARNING",
    "NORMALISATION_CHECK_MAX_N",
    "UNEQUAL_SPREAD",
    "VARYING_SHARE",
    "AxisSpread",
    "Canon",
    "Submission",
    "axis_mean_spread",
    "check_dtype",
    "check_shape",
    "expected_matrix",
    "normalisation_warnings",
    "normalised_over_rows",
    "read_submission",
]


def read_submission(
    submission: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    split: str = "test",
    direction: str | None = None,
    canon: Canon | None = None,
    n: int | None = None,
) -> Submission:
    """Open, check and (for id-bound containers) reorder a submission.

    ``submission``: a path (``.npy``, ``.npz``, ``.pt``/``.pth``, ``.h5``/``.hdf5``; other suffixes
    are sniffed), an ndarray / np.memmap / torch tensor / :class:`MatrixSource`, or a dict of
    name -> matrix or id list. ``benchmark`` None: inferred from N (test split only). ``n``: the
    expected N (default: the benchmark's test size). ``canon``: the canonical ids, needed only
    when the submission carries id arrays in a non-canonical order. ``direction`` None: every
    direction the submission holds (both for one matrix; those named in the per-direction layout,
    so ``{"t2v": S}`` scores t2v only); else only that one (it must be there).
    """
    container = _open(submission)
    try:
        spec = get_benchmark(benchmark) if benchmark is not None else _infer_benchmark(container, split)
        directions = (spec.direction(direction).name,) if direction else None
        size = spec.test_size if n is None else int(n)
        sub = _assemble(container, spec, split, directions, size, canon)
    except BaseException:
        container.close()
        raise
    sub._closers.extend(container.closers)
    return sub
