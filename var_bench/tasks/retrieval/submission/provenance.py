"""Provenance stored inside a submission ``.npz``: how the matrix was made, so re-scoring keeps it.

``var-bench evaluate`` writes, beside the matrices and id arrays, one member under the reserved
key :data:`PROVENANCE_KEY`: a 0-d numpy unicode array (``dtype <U..``, never pickled) holding a
JSON object::

    {"schema": 1, "name": "alan tiny" | null,
     "disclosure": {"reference_model": "alan", "features": "synthetic features (...)",
                    "checkpoint_selection": "...", "test_time_normalisation": "none", ...},
     "features": {"kind": "synthetic" | "real", "layout": {...}, "streams": [...], "dims": {...},
                  "crops_mode": "...", "dtype": "...", "manifest_sha256": "...",
                  "features_digest": "<64 hex>"} | null,
     "var_bench": "0.1.0"}

:func:`var_bench.score` reads it back (:func:`read_provenance`): the disclosure becomes the
record's disclosure (fields the caller states win), the name its default name, and the whole
object the record's ``provenance``. The reader of matrices never sees this member.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError

#: The reserved ``.npz`` key (member ``provenance.npy``).
PROVENANCE_KEY = "provenance"
PROVENANCE_SCHEMA = 1
#: Largest provenance member read (bytes): it is a few hundred bytes of JSON.
MAX_BYTES = 1 << 20


def provenance_array(provenance: Mapping[str, Any]) -> np.ndarray:
    """``provenance`` as the 0-d unicode array stored under :data:`PROVENANCE_KEY`."""
    body = {"schema": PROVENANCE_SCHEMA, **provenance}
    return np.array(
        json.dumps(body, ensure_ascii=False, sort_keys=True, allow_nan=False), dtype=str
    )


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    """The provenance object of the ``.npz`` at ``path``, or None when it has none (or ``path``
    is not a zip archive: other formats carry no provenance).

    Refuses (:class:`InputError`, one line) a member that is not a 0-d unicode array holding a
    JSON object, and one of a newer schema.
    """
    label = Path(path).name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None
    with archive:
        try:
            info = archive.getinfo(f"{PROVENANCE_KEY}.npy")
        except KeyError:
            return None
        if info.file_size > MAX_BYTES:
            raise InputError(
                f"{label}[{PROVENANCE_KEY!r}]: expected at most {MAX_BYTES} bytes of "
                f"JSON, got {info.file_size}"
            )
        with archive.open(info) as f:
            try:
                value = np.lib.format.read_array(f, allow_pickle=False)
            except (ValueError, OSError) as e:
                raise InputError(
                    f"{label}[{PROVENANCE_KEY!r}]: expected a 0-d string array, got "
                    f"an unreadable member ({e})"
                ) from None
    if value.dtype.kind != "U" or value.ndim != 0:
        raise InputError(
            f"{label}[{PROVENANCE_KEY!r}]: expected a 0-d unicode string (JSON), got "
            f"dtype {value.dtype} with shape {value.shape}"
        )
    try:
        data = json.loads(str(value[()]))
    except ValueError as e:
        raise InputError(
            f"{label}[{PROVENANCE_KEY!r}]: expected JSON, got unreadable text ({e})"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"{label}[{PROVENANCE_KEY!r}]: expected a JSON object, got {type(data).__name__}"
        )
    schema = data.get("schema")
    if not isinstance(schema, int) or schema > PROVENANCE_SCHEMA:
        raise InputError(
            f"{label}[{PROVENANCE_KEY!r}]: expected schema <= {PROVENANCE_SCHEMA}, "
            f"got {schema!r} (upgrade var-bench)"
        )
    disclosure = data.get("disclosure", {})
    if not isinstance(disclosure, dict) or not all(
        isinstance(v, str) or v is None for v in disclosure.values()
    ):
        raise InputError(
            f"{label}[{PROVENANCE_KEY!r}]: expected 'disclosure' to map keys to "
            f"strings or null, got {disclosure!r}"[:300]
        )
    return data
