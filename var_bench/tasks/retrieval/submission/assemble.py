"""Assembling a :class:`Submission` from an opened container.

Layout (``docs/protocol.md``): S has one row per query of the task's first direction (text for
ucfcrime-ar, audio for xdviolence-ar) and one column per gallery item (test video), both in the
gold's canonical order (``var-bench ids``). ``t2v``/``a2v`` rank each row, ``v2t``/``v2a`` each
column. A container (``.npz``, HDF5, a ``.pt`` dict, a Python dict) holds either ONE matrix under
any name, or one matrix per direction under the direction names (each with one row per query of that
direction; one of them alone is a submission for that direction only), plus optional id arrays
``<query modality>_ids`` and ``video_ids`` that bind the row and column order: the matrices are then
reordered to canonical order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines
from var_bench.tasks.base import Prediction
from var_bench.tasks.gold import Gold, IdList
from var_bench.tasks.retrieval.matrix import ArraySource, MatrixSource
from var_bench.tasks.retrieval.submission.checks import check_dtype, check_matrix, expected_matrix
from var_bench.tasks.retrieval.submission.formats import Container, Entry

#: Why float16 (and bfloat16) submissions get a warning.
LOW_PRECISION_WARNING = "ties are likely: ~20% of queries tie in float16"


@dataclass
class Submission(Prediction):
    """A validated submission, ready for the counting kernel.

    ``joint``: the one matrix S (rows = first-direction queries, columns = gallery items), or
    None; ``by_direction``: direction name -> a matrix with one row per query of that direction
    (the per-direction layout; ``v2t`` is videos x texts). Both are in canonical order.
    ``directions``: the directions to score. ``shape``: S's (rows, columns).
    ``warnings``: messages about the input.
    """

    task: Any
    benchmark: str
    split: str
    shape: tuple[int, int]
    directions: tuple[str, ...]
    joint: MatrixSource | None
    by_direction: dict[str, MatrixSource]
    label: str
    path: str | None
    warnings: list[str] = field(default_factory=list)
    provenance: dict | None = None  # a .npz's reserved ``provenance`` JSON object, as given
    _closers: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    @property
    def groups(self) -> tuple[str, ...]:
        return self.directions

    def close(self) -> None:
        """Release open files (HDF5, zip archives)."""
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Submission:
        return self


def id_keys(task: Any) -> tuple[str, str]:
    """(query id array name, gallery id array name), e.g. ``text_ids``, ``video_ids``."""
    return f"{task.query_modality}_ids", f"{task.gallery_modality}_ids"


@dataclass(frozen=True)
class Candidate:
    """A benchmark a submission may be for: its name, retrieval task and test shape."""

    name: str
    task: Any
    shape: tuple[int, int]


def infer_benchmark(container: Container, split: str, candidates: Sequence[Candidate]) -> Candidate:
    """The one candidate whose direction names the container uses as keys, else whose test size
    one of its matrices has.

    Raises:
        InputError: no candidate or several fit (the message names the sizes expected).
    """
    names = set(container.entries)
    named = [c for c in candidates if names & set(c.task.groups)]
    if len(named) == 1:
        return named[0]
    expected = " or ".join(f"{c.shape[0]} x {c.shape[1]} ({c.name})" for c in candidates)
    if split != "test":
        raise InputError(
            f"{container.label}: expected a benchmark name when scoring split "
            f"{split!r} (only test sizes identify a benchmark), got none"
        )
    by_size = {n: c for c in candidates for n in c.shape}
    keys = {k for c in candidates for k in id_keys(c.task)}
    matrices = [e for k, e in container.entries.items() if k not in keys]
    found = {by_size[d].name: by_size[d] for e in matrices for d in e.shape if d in by_size}
    if len(found) == 1:
        return next(iter(found.values()))
    for e in matrices:  # a wrong dtype (object, complex, text) says more than a wrong size
        check_dtype(e.label, e.dtype)
    shapes = ", ".join(" x ".join(map(str, e.shape)) or "a scalar" for e in matrices) or "no matrix"
    raise InputError(
        f"{container.label}: cannot tell the benchmark: expected a {expected} matrix, "
        f"got {shapes}; name the benchmark (--benchmark)"
    )


def assemble_submission(
    container: Container,
    task: Any,
    benchmark: str,
    split: str,
    directions: tuple[str, ...] | None,
    gold: Gold,
) -> Submission:
    """``directions`` None: what the container holds (one matrix: every direction; the
    per-direction layout: the directions named, so ``{"t2v": S}`` is a t2v-only submission)."""
    query_key, gallery_key = id_keys(task)
    entries = dict(container.entries)
    id_entries = {k: entries.pop(k) for k in (query_key, gallery_key) if k in entries}
    names = list(entries)
    layout_keys = ", ".join(task.groups)
    allowed = f"one matrix under any name, or {layout_keys}; optionally {query_key}, {gallery_key}"
    if not names:
        raise InputError(
            f"{container.label}: expected keys: {allowed}; got no matrix"
            + (f" (only {', '.join(id_entries)})" if id_entries else "")
        )
    per_direction = len(names) > 1 or names[0] in task.groups
    if container.kind == "npz" and not per_direction and names[0] != "arr_0":
        # np.savez(path, v2t=S) typo'd as np.savez(path, video_to_text=S) must not pass as t2v.
        raise InputError(
            f"{container.label}: expected .npz keys {layout_keys} or arr_0 "
            f"(np.savez(path, S)); optionally {query_key}, {gallery_key}, provenance; "
            f"got {names[0]!r}"
        )
    if per_direction and not set(names) & set(task.groups):
        raise InputError(
            f"{container.label}: expected keys: {allowed}; got {len(names)} matrices "
            f"({', '.join(repr(k) for k in names[:4])})"
        )
    if per_direction:
        extra = [k for k in names if k not in task.groups]
        if extra:
            raise InputError(
                f"{container.label}: expected keys: {allowed}; got extra key {extra[0]!r}"
            )
        if directions is None:  # score what is there, in the spec's order
            directions = tuple(d for d in task.groups if d in names)
        missing = [d for d in directions if d not in names]
        if missing:
            raise InputError(
                f"{container.label}: expected keys: {allowed}; missing key {missing[0]!r}"
            )

    if directions is None:
        directions = task.groups
    nq, ng = gold.queries.n, gold.gallery.n
    query_ids = _read_ids(id_entries.get(query_key), nq)
    gallery_ids = _read_ids(id_entries.get(gallery_key), ng)
    perms = _permutations(
        container.label,
        benchmark,
        (query_key, gold.queries, query_ids),
        (gallery_key, gold.gallery, gallery_ids),
    )

    warnings: list[str] = []
    sub = Submission(
        task=task,
        benchmark=benchmark,
        split=split,
        shape=(nq, ng),
        directions=directions,
        joint=None,
        by_direction={},
        label=container.label,
        path=container.path,
        warnings=warnings,
    )
    low = False
    if per_direction:
        for name in directions:
            d = task.direction(name)
            entry = entries[name]
            shape = (nq, ng) if d.over_rows else (ng, nq)
            check_matrix(entry, shape, expected_matrix(task, benchmark, shape, d))
            # A per-direction matrix has one row per query of d: t2v rows are texts, v2t rows
            # videos.
            row_perm, col_perm = (perms[0], perms[1]) if d.over_rows else (perms[1], perms[0])
            sub.by_direction[name] = _bound(entry, row_perm, col_perm)
            low |= entry.low_precision
    else:
        entry = entries[names[0]]
        check_matrix(entry, (nq, ng), expected_matrix(task, benchmark, (nq, ng)))
        sub.joint = _bound(entry, perms[0], perms[1])
        low = entry.low_precision
    if low:
        warnings.append(
            f"{container.label}: low-precision (float16/bfloat16) scores: "
            f"{LOW_PRECISION_WARNING}; the tie rule and the bounds account for them"
        )
    return sub


def _read_ids(entry: Entry | None, n: int) -> list[str] | None:
    if entry is None:
        return None
    if entry.dtype.kind == "O":
        raise InputError(
            f"{entry.label}: expected an array of strings (save ids with dtype=str), "
            f"got an object array (refused: reading it would need unpickling)"
        )
    if not entry.is_text:
        raise InputError(f"{entry.label}: expected an array of string ids, got dtype {entry.dtype}")
    if len(entry.shape) != 1 or entry.shape[0] != n:
        raise InputError(f"{entry.label}: expected {n} ids in a 1-D array, got shape {entry.shape}")
    values = entry.array()
    if values.dtype.kind == "S":
        try:
            return [v.decode("utf-8") for v in values.tolist()]
        except UnicodeDecodeError:
            raise InputError(f"{entry.label}: expected UTF-8 ids, got undecodable bytes") from None
    return [str(v) for v in values.tolist()]


def _permutations(
    label: str, benchmark: str, *given: tuple[str, IdList, list[str] | None]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """For (rows, columns) of S: the index that puts them in canonical order (None = already).

    ``given``: per axis, (id array name, the gold's id list, the ids the submission carries)."""
    if all(ids is None for _, _, ids in given):
        return None, None
    perms: list[np.ndarray | None] = []
    for key, canon, ids in given:
        if ids is None or sha256_lines(ids) == canon.sha256:
            perms.append(None)  # absent, or already in canonical order: no need for the list
            continue
        if canon.load is None:
            raise InputError(
                f"{label}: expected the canonical ids to bind {key} (var-bench ids "
                f"{benchmark}; pass ids=... from Python), got none"
            )
        perms.append(_permutation(f"{label}[{key!r}]", benchmark, ids, canon.ids()))
    return perms[0], perms[1]


def _permutation(label: str, benchmark: str, ids: list[str], canonical: list[str]) -> np.ndarray:
    position: dict[str, int] = {}
    for i, v in enumerate(ids):
        if v in position:
            raise InputError(
                f"{label}: expected {len(canonical)} distinct ids, got duplicate id {v!r}"
            )
        position[v] = i
    missing = [v for v in canonical if v not in position]
    if missing:
        known = set(canonical)
        extra = [v for v in ids if v not in known]
        raise InputError(
            f"{label}: expected the {len(canonical)} canonical ids of {benchmark} "
            f"(var-bench ids {benchmark}), got {len(missing)} missing (e.g. {missing[0]!r}) and "
            f"{len(extra)} extra" + (f" (e.g. {extra[0]!r})" if extra else "")
        )
    return np.fromiter((position[v] for v in canonical), dtype=np.intp, count=len(canonical))


def _bound(entry: Entry, row_perm: np.ndarray | None, col_perm: np.ndarray | None) -> MatrixSource:
    """The entry's matrix in canonical order: reordered in memory only when ids bind it."""
    if row_perm is None and col_perm is None:
        return entry.source()
    m = entry.array()
    rows = row_perm if row_perm is not None else np.arange(m.shape[0])
    cols = col_perm if col_perm is not None else np.arange(m.shape[1])
    return ArraySource(np.ascontiguousarray(m[np.ix_(rows, cols)]))
