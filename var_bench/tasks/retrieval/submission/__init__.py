"""Read and validate a submission: a score matrix S, from a file or from memory.

:func:`read_submission` opens the input (:mod:`.formats`: ``.npy``, ``.npz``, ``torch.save``,
HDF5, in-memory arrays and dicts), checks each matrix's dtype, shape and byte count
(:mod:`.checks`), binds optional id arrays to the canonical order and builds a
:class:`Submission` (:mod:`.assemble`). :func:`normalisation_warnings` flags matrices that look
normalised across the query set (:mod:`.normalisation`). Every refusal is one
:class:`~var_bench.errors.InputError` line naming the input, what was expected and what arrived.
"""

from var_bench.tasks.retrieval.submission.assemble import (
    LOW_PRECISION_WARNING,
    Candidate,
    Submission,
    assemble_submission,
    id_keys,
    infer_benchmark,
)
from var_bench.tasks.retrieval.submission.checks import (
    check_dtype,
    check_matrix,
    check_shape,
    expected_matrix,
)
from var_bench.tasks.retrieval.submission.formats import (
    ACCEPTED_FORMATS,
    Container,
    Entry,
    open_submission,
)
from var_bench.tasks.retrieval.submission.normalisation import (
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
from var_bench.tasks.retrieval.submission.read import read_submission

__all__ = [
    "ACCEPTED_FORMATS",
    "CONSTANT",
    "EQUAL_SPREAD",
    "LOW_PRECISION_WARNING",
    "NORMALISATION_CHECK_MAX_N",
    "UNEQUAL_SPREAD",
    "VARYING_SHARE",
    "AxisSpread",
    "Candidate",
    "Container",
    "Entry",
    "Submission",
    "assemble_submission",
    "axis_mean_spread",
    "check_dtype",
    "check_matrix",
    "check_shape",
    "expected_matrix",
    "id_keys",
    "infer_benchmark",
    "normalisation_warnings",
    "normalised_over_rows",
    "open_submission",
    "read_submission",
]
