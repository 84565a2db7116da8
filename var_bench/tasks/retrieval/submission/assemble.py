"""Assembling a :class:`Submission` from an opened container.

Layout (``docs/protocol.md``): S has one row per query of the benchmark's first direction (text
for ucfcrime-ar, audio for xdviolence-ar) and one column per test video, both in canonical order
(``var-bench ids``). ``t2v``/``a2v`` rank each row, ``v2t``/``v2a`` each column. A container
(``.npz``, HDF5, a ``.pt`` dict, a Python dict) holds either ONE matrix under any name, or one
matrix per direction under the direction names (each with one row per query of that direction;
one of them alone is a submission for that direction only),
plus optional id arrays ``<query modality>_ids`` and ``video_ids`` that bind the row and column
order: the matrices are then reordered to canonical order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from var_bench.benchmarks import BENCHMARKS, BenchmarkSpec
from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines
from var_bench.tasks.retrieval.matrix import ArraySource, MatrixSource
from var_bench.tasks.retrieval.submission.checks import check_matrix, check_dtype, expected_matrix
from var_bench.tasks.retrieval.submission.formats import Container, Entry

#: Why float16 (and bfloat16) submissions get a warning.
LOW_PRECISION_WARNING = "ties are likely: ~20% of queries tie in float16"


@dataclass(frozen=True)
class Canon:
    """The canonical ordered ids of the split being scored: the cheap sha256 of the list, and a
    loader for the list itself (it may need the built dataset), called only when needed."""

    sha256: Callable[[BenchmarkSpec], str]
    ids: Callable[[BenchmarkSpec], Sequence[str]]



@dataclass
class Submission:
    """A validated submission, ready for the counting kernel.

    ``joint``: the one matrix S (rows = first-direction queries, columns = videos), or None;
    ``by_direction``: direction name -> a matrix with one row per query of that direction (the
    per-direction layout; ``v2t`` is videos x texts). Both are in canonical order.
    ``directions``: the directions to score. ``warnings``: messages about the input.
    """

    spec: BenchmarkSpec
    split: str
    n: int
    directions: tuple[str, ...]
    joint: MatrixSource | None
    by_direction: dict[str, MatrixSource]
    label: str
    path: str | None
    warnings: list[str] = field(default_factory=list)
    provenance: dict | None = None  # a .npz's reserved ``provenance`` JSON object, as given
    _closers: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Release open files (HDF5, zip archives)."""
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> "Submission":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()



def _id_keys(spec: BenchmarkSpec) -> tuple[str, str]:
    """(query id array name, gallery id array name), e.g. ``text_ids``, ``video_ids``."""
    return f"{spec.query_modality}_ids", f"{spec.gallery_modality}_ids"


def infer_benchmark(container: Container, split: str) -> BenchmarkSpec:
    names = set(container.entries)
    named = [s for s in BENCHMARKS.values() if names & set(s.direction_names)]
    if len(named) == 1:
        return named[0]
    expected = " or ".join(f"{s.test_size} x {s.test_size} ({s.name})" for s in BENCHMARKS.values())
    if split != "test":
        raise InputError(f"{container.label}: expected a benchmark name when scoring split "
                         f"{split!r} (only test sizes identify a benchmark), got none")
    by_size = {s.test_size: s for s in BENCHMARKS.values()}
    id_keys = {k for s in BENCHMARKS.values() for k in _id_keys(s)}
    matrices = [e for k, e in container.entries.items() if k not in id_keys]
    found = {by_size[d].name: by_size[d] for e in matrices for d in e.shape if d in by_size}
    if len(found) == 1:
        return next(iter(found.values()))
    for e in matrices:  # a wrong dtype (object, complex, text) says more than a wrong size
        check_dtype(e.label, e.dtype)
    shapes = ", ".join(" x ".join(map(str, e.shape)) or "a scalar" for e in matrices) or "no matrix"
    raise InputError(f"{container.label}: cannot tell the benchmark: expected a {expected} matrix, "
                     f"got {shapes}; name the benchmark (--benchmark)")


def assemble_submission(container: Container, spec: BenchmarkSpec, split: str,
                        directions: tuple[str, ...] | None, n: int, canon: Canon | None) -> Submission:
    """``directions`` None: what the container holds (one matrix: every direction; the
    per-direction layout: the directions named, so ``{"t2v": S}`` is a t2v-only submission)."""
    query_key, gallery_key = _id_keys(spec)
    entries = dict(container.entries)
    id_entries = {k: entries.pop(k) for k in (query_key, gallery_key) if k in entries}
    names = list(entries)
    layout_keys = ", ".join(spec.direction_names)
    allowed = f"one matrix under any name, or {layout_keys}; optionally {query_key}, {gallery_key}"
    if not names:
        raise InputError(f"{container.label}: expected keys: {allowed}; got no matrix"
                         + (f" (only {', '.join(id_entries)})" if id_entries else ""))
    per_direction = len(names) > 1 or names[0] in spec.direction_names
    if container.kind == "npz" and not per_direction and names[0] != "arr_0":
        # np.savez(path, v2t=S) typo'd as np.savez(path, video_to_text=S) must not pass as t2v.
        raise InputError(f"{container.label}: expected .npz keys {layout_keys} or arr_0 "
                         f"(np.savez(path, S)); optionally {query_key}, {gallery_key}, provenance; "
                         f"got {names[0]!r}")
    if per_direction and not set(names) & set(spec.direction_names):
        raise InputError(f"{container.label}: expected keys: {allowed}; got {len(names)} matrices "
                         f"({', '.join(repr(k) for k in names[:4])})")
    if per_direction:
        extra = [k for k in names if k not in spec.direction_names]
        if extra:
            raise InputError(f"{container.label}: expected keys: {allowed}; got extra key {extra[0]!r}")
        if directions is None:  # score what is there, in the spec's order
            directions = tuple(d for d in spec.direction_names if d in names)
        missing = [d for d in directions if d not in names]
        if missing:
            raise InputError(f"{container.label}: expected keys: {allowed}; missing key {missing[0]!r}")

    if directions is None:
        directions = spec.direction_names
    query_ids = _read_ids(id_entries.get(query_key), n)
    gallery_ids = _read_ids(id_entries.get(gallery_key), n)
    perms = _permutations(container.label, spec, query_ids, gallery_ids, canon)

    warnings: list[str] = []
    sub = Submission(spec=spec, split=split, n=n, directions=directions, joint=None,
                     by_direction={}, label=container.label, path=container.path, warnings=warnings)
    low = False
    if per_direction:
        for name in directions:
            d = spec.direction(name)
            entry = entries[name]
            check_matrix(entry, n, expected_matrix(spec, n, d))
            # A per-direction matrix has one row per query of d: t2v rows are texts, v2t rows videos.
            row_perm, col_perm = (perms[0], perms[1]) if d.over_rows else (perms[1], perms[0])
            sub.by_direction[name] = _bound(entry, row_perm, col_perm)
            low |= entry.low_precision
    else:
        entry = entries[names[0]]
        check_matrix(entry, n, expected_matrix(spec, n))
        sub.joint = _bound(entry, perms[0], perms[1])
        low = entry.low_precision
    if low:
        warnings.append(f"{container.label}: low-precision (float16/bfloat16) scores: "
                        f"{LOW_PRECISION_WARNING}; the tie rule and the bounds account for them")
    return sub


def _read_ids(entry: Entry | None, n: int) -> list[str] | None:
    if entry is None:
        return None
    if entry.dtype.kind == "O":
        raise InputError(f"{entry.label}: expected an array of strings (save ids with dtype=str), "
                         f"got an object array (refused: reading it would need unpickling)")
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


def _permutations(label: str, spec: BenchmarkSpec, query_ids: list[str] | None,
                  gallery_ids: list[str] | None, canon: Canon | None
                  ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """For (rows, columns) of S: the index that puts them in canonical order (None = already)."""
    query_key, gallery_key = _id_keys(spec)
    given = [(query_key, query_ids), (gallery_key, gallery_ids)]
    if all(ids is None for _, ids in given):
        return None, None
    if canon is None:
        raise InputError(f"{label}: expected the canonical ids to bind {query_key}/{gallery_key} "
                         f"(pass ids=...), got none")
    want_sha = canon.sha256(spec)
    canonical: list[str] | None = None
    perms: list[np.ndarray | None] = []
    for key, ids in given:
        if ids is None or sha256_lines(ids) == want_sha:
            perms.append(None)  # absent, or already in canonical order: no need for the list
            continue
        if canonical is None:
            canonical = [str(i) for i in canon.ids(spec)]
        perms.append(_permutation(f"{label}[{key!r}]", spec, ids, canonical))
    return perms[0], perms[1]


def _permutation(label: str, spec: BenchmarkSpec, ids: list[str], canonical: list[str]) -> np.ndarray:
    position: dict[str, int] = {}
    for i, v in enumerate(ids):
        if v in position:
            raise InputError(f"{label}: expected {len(canonical)} distinct ids, got duplicate id {v!r}")
        position[v] = i
    missing = [v for v in canonical if v not in position]
    if missing:
        known = set(canonical)
        extra = [v for v in ids if v not in known]
        raise InputError(
            f"{label}: expected the {len(canonical)} canonical ids of {spec.name} "
            f"(var-bench ids {spec.name}), got {len(missing)} missing (e.g. {missing[0]!r}) and "
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
