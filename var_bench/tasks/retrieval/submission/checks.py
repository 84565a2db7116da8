"""Checks on a submission's matrices: real numeric dtype, the expected 2-D shape, and (for files)
the stored byte count against the header; each refusal is one :class:`InputError` line."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks.retrieval.submission.formats import Entry

_KIND_REFUSALS = {
    "b": "a bool array",
    "c": "complex scores",
    "U": "a string array",
    "S": "a bytes array",
    "V": "a structured (void) array",
    "O": "an object array (refused: reading it would need unpickling)",
    "M": "datetime64 values",
    "m": "timedelta64 values",
}


def expected_matrix(task: Any, benchmark: str, shape: tuple[int, int], d: Any = None) -> str:
    """How the expected matrix is described in messages, e.g. ``290 x 290 (text queries x videos
    for ucfcrime-ar)``; ``d`` names a per-direction matrix (one row per query of ``d``)."""
    d = d or task.directions[0]
    return f"{shape[0]} x {shape[1]} ({d.query} queries x {_plural(d.gallery)} for {benchmark})"


def check_shape(label: str, shape: tuple[int, ...], expected: tuple[int, int], what: str) -> None:
    """Refuse anything but a 2-D ``expected`` shape; ``what`` describes the expectation."""
    if len(shape) != 2:
        raise InputError(
            f"{label}: expected a 2-D matrix of {what}, got a {len(shape)}-D array of shape "
            f"{tuple(shape)}"
        )
    if tuple(shape) == tuple(expected):
        return
    hint = ""
    if tuple(shape) == tuple(expected)[::-1] and expected[0] != expected[1]:
        hint = " (looks transposed)"
    raise InputError(f"{label}: expected {what}, got {shape[0]} x {shape[1]}{hint}")


def check_dtype(label: str, dtype: np.dtype) -> None:
    """Refuse anything but real numbers (floats and integers)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fiu" and dtype.fields is None and dtype.subdtype is None:
        return
    what = _KIND_REFUSALS.get(dtype.kind, f"dtype {dtype}")
    raise InputError(
        f"{label}: expected real numeric scores (float or int), got {what} ({dtype.str})"
    )


def _plural(modality: str) -> str:
    return "audio clips" if modality == "audio" else f"{modality}s"


def check_matrix(entry: Entry, shape: tuple[int, int], what: str) -> None:
    """Refuse a non-numeric dtype, another shape than ``shape`` or a byte count that disagrees
    with the header (``what`` describes the expected matrix)."""
    check_dtype(entry.label, entry.dtype)
    check_shape(entry.label, entry.shape, shape, what)
    if entry.data_bytes is not None:
        need = math.prod(entry.shape) * entry.dtype.itemsize
        if entry.data_bytes < need:
            raise InputError(
                f"{entry.label}: expected {need} bytes of {entry.dtype} data after the "
                f"header ({entry.shape[0]} x {entry.shape[1]}), got {entry.data_bytes} "
                f"(the file is truncated)"
            )
        if entry.data_bytes > need:
            raise InputError(
                f"{entry.label}: expected {need} bytes of {entry.dtype} data after the "
                f"header ({entry.shape[0]} x {entry.shape[1]}), got {entry.data_bytes} "
                f"({entry.data_bytes - need} trailing bytes)"
            )
