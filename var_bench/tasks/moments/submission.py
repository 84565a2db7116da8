"""Moment submissions: ranked predictions per query, in TVR's shape, read and checked.

A submission is JSON Lines (one object per query) or one JSON document (a list of those objects,
or an object with ``results`` holding the list), each object::

    {"query_id": "Abuse037_x264#0", "predictions": [[video_id, start_s, end_s, score], ...]}

at most :data:`~var_bench.tasks.moments.kernel.MAX_PREDICTIONS` per query, every query of the
split exactly once. For grounding (the video is given) a prediction may leave the video out
(``[start_s, end_s, score]``); when named it must be the query's video. A JSON Lines file may
start with a header line and a JSON document may carry the keys at its top: ``{"benchmark":
"uca", "task": "moments"}``; a file naming another benchmark or task is refused. The header's
``name`` and ``disclosure`` (``{"training_data": "uca"}``: what the maker declares, as for a
retrieval submission's provenance) go into the record. In memory the same objects may be passed
as a list (or the mapping with ``results``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks.base import Prediction
from var_bench.tasks.moments.kernel import MAX_PREDICTIONS

#: Keys a header (a JSONL first line without predictions, or a JSON document's top) may hold.
HEADER_KEYS = ("benchmark", "task", "split", "name", "disclosure")


@dataclass
class MomentPrediction(Prediction):
    """A checked moment submission as padded (Q, P) arrays in the gold's query order.

    ``video``: gallery index (-1 = padding); ``start``, ``end``: seconds; ``score``; ``valid``:
    where a prediction is (P = the longest list).
    """

    video: np.ndarray
    start: np.ndarray
    end: np.ndarray
    score: np.ndarray
    valid: np.ndarray
    groups: tuple[str, ...] = ()
    label: str = "submission"
    path: str | None = None
    warnings: list[str] | None = None
    provenance: dict | None = None

    def __post_init__(self) -> None:
        self.warnings = list(self.warnings or [])

    def __enter__(self) -> MomentPrediction:
        return self


def _lines(text: str, label: str) -> list:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError as e:
                raise InputError(
                    f"{label}: expected JSON or JSON Lines, got a bad line {n} ({e})"
                ) from None
    return out


def _load(submission: Any) -> tuple[list, dict, str, str | None]:
    """(entries, header, label, path) of a file path or an in-memory list/mapping."""
    label, path = "submission", None
    if isinstance(submission, (str, os.PathLike)):
        label = path = str(submission)
        try:
            text = Path(submission).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{label}: expected a readable JSON or JSONL file ({e})") from None
        try:
            submission = json.loads(text)
        except ValueError:  # several lines: JSON Lines
            submission = _lines(text, label)
        if isinstance(submission, Mapping) and "results" not in submission:
            submission = [submission]  # a JSON Lines file of one line
        if isinstance(submission, list):
            first = submission[0] if submission else None
            if (
                isinstance(first, Mapping)
                and "predictions" not in first
                and "query_id" not in first
            ):
                return submission[1:], dict(first), label, path
    if isinstance(submission, Mapping):
        if "results" not in submission:
            raise InputError(
                f"{label}: expected a list of {{query_id, predictions}} objects or an object "
                f"with 'results', got keys {', '.join(map(str, submission)) or 'none'}"
            )
        header = {k: v for k, v in submission.items() if k != "results"}
        return list(submission["results"]), header, label, path
    if isinstance(submission, Sequence) and not isinstance(submission, (str, bytes)):
        return list(submission), {}, label, path
    raise InputError(
        f"{label}: expected a .json/.jsonl path or a list of {{query_id, predictions}} "
        f"objects, got {type(submission).__name__}"
    )


def read_moments(
    submission: Any,
    *,
    query_ids: Sequence[str],
    gallery_ids: Sequence[str],
    query_video: np.ndarray | None,
    benchmark: str,
    task: str,
    group: str,
    split: str = "test",
) -> MomentPrediction:
    """Read and check a moment submission against the gold's queries and gallery.

    Args:
        submission: a ``.json`` / ``.jsonl`` path, or the entries in memory (module docstring).
        query_ids, gallery_ids: the gold's ordered ids.
        query_video: grounding: per query, the gallery index of its given video (a prediction of
            three numbers is on it; a named video must be it); None: corpus retrieval.
        benchmark, task, group, split: for the header check and messages.

    Raises:
        InputError: one line: unreadable file, a header of another benchmark or task, an entry
            without query_id/predictions, an unknown, repeated or missing query id, more than
            100 predictions, a malformed prediction, an unknown video (or, grounding, another
            video than the query's), a time that is negative or not finite, start > end, a score
            that is not finite, a repeated (video, start, end) within a query.
    """
    entries, header, label, path = _load(submission)
    for key, want in (("benchmark", benchmark), ("task", task), ("split", split)):
        got = header.get(key)
        if got is not None and str(got) != want:
            raise InputError(
                f"{label}: expected a {benchmark} {task} {split} submission, got {key} {got!r}"
            )
    unknown = sorted(set(header) - set(HEADER_KEYS))
    if unknown:
        raise InputError(
            f"{label}: expected header keys among {', '.join(HEADER_KEYS)}, got "
            f"{', '.join(unknown)}"
        )
    provenance = _provenance(header, label)
    where = {q: i for i, q in enumerate(query_ids)}
    vwhere = {v: j for j, v in enumerate(gallery_ids)}
    nq = len(query_ids)
    order = np.full(nq, -1, dtype=np.int64)
    lists: list[list] = [[]] * nq
    for n, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or "query_id" not in entry or "predictions" not in entry:
            raise InputError(
                f"{label}: entry {n}: expected an object with query_id and predictions, "
                f"got {str(entry)[:80]}"
            )
        qid = str(entry["query_id"])
        i = where.get(qid)
        if i is None:
            raise InputError(
                f"{label}: unknown query id {qid!r} (not a query of {benchmark} {task}; a file of "
                f"another benchmark or split?)"
            )
        if order[i] >= 0:
            raise InputError(f"{label}: query {qid!r} appears twice")
        preds = entry["predictions"]
        if not isinstance(preds, list):
            raise InputError(f"{label}: query {qid!r}: expected a list of predictions")
        if len(preds) > MAX_PREDICTIONS:
            raise InputError(
                f"{label}: query {qid!r}: expected at most {MAX_PREDICTIONS} predictions, "
                f"got {len(preds)}"
            )
        order[i] = n
        lists[i] = preds
    missing = np.flatnonzero(order < 0)
    if missing.size:
        raise InputError(
            f"{label}: expected predictions for all {nq} queries of {benchmark} {task}, "
            f"{missing.size} missing (e.g. {query_ids[int(missing[0])]!r})"
        )
    lengths = np.fromiter((len(p) for p in lists), dtype=np.int64, count=nq)
    width = max(int(lengths.max(initial=0)), 1)
    flat = list(chain.from_iterable(lists))
    qrow = np.repeat(np.arange(nq), lengths)
    col = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    allowed = {4} if query_video is None else {3, 4}
    # type and length checks in C-level passes (map), the slow search only to name the culprit
    if not set(map(type, flat)) <= {list} or not set(map(len, flat)) <= allowed:
        bad = next(
            k for k, p in enumerate(flat) if not isinstance(p, list) or len(p) not in allowed
        )
        raise InputError(
            f"{label}: query {query_ids[int(qrow[bad])]!r}: expected predictions "
            f"[video_id, start_s, end_s, score]"
            + (" or [start_s, end_s, score]" if query_video is not None else "")
            + f", got {str(flat[bad])[:80]}"
        )
    full = np.array([len(p) == 4 for p in flat], dtype=bool) if query_video is not None else None
    if full is None or full.all():
        table = np.empty((len(flat), 4), dtype=object)
        table[:] = flat if flat else np.empty((0, 4), dtype=object)
        names, numbers = table[:, 0], table[:, 1:]
    else:
        names = np.array([p[0] if len(p) == 4 else None for p in flat], dtype=object)
        numbers = np.empty((len(flat), 3), dtype=object)
        numbers[:] = [p[-3:] for p in flat]
    if not set(map(type, numbers.ravel())) <= {int, float}:
        raise InputError(
            f"{label}: expected numbers for start_s, end_s and score, got another type"
        )
    nums = numbers.astype(np.float64).reshape(-1, 3)
    named = np.ones(len(flat), dtype=bool) if full is None else full
    vids = np.empty(len(flat), dtype=np.int64)
    if query_video is not None:
        vids[~named] = query_video[qrow[~named]]
    found = [vwhere.get(v, -1) if isinstance(v, str) else -1 for v in names[named]]
    vids[named] = found
    if (vids < 0).any():
        k = int(np.flatnonzero(vids < 0)[0])
        raise InputError(
            f"{label}: query {query_ids[int(qrow[k])]!r}: unknown video {flat[k][0]!r} (not in "
            f"the {benchmark} gallery)"
        )
    start, end, score = nums[:, 0], nums[:, 1], nums[:, 2]
    checks = (
        (~np.isfinite(start) | ~np.isfinite(end), "expected finite start_s and end_s"),
        ((start < 0) | (end < 0), "expected times >= 0"),
        (start > end, "expected start_s <= end_s"),
        (~np.isfinite(score), "expected a finite score"),
    )
    if query_video is not None:
        checks += ((vids != query_video[qrow], "expected the query's own video (grounding)"),)
    for bad, what in checks:
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{label}: query {query_ids[int(qrow[k])]!r}: {what}, got {str(flat[k])[:80]}"
            )
    if flat:
        o = np.lexsort((end, start, vids, qrow))
        keys = np.stack([qrow[o], vids[o], start[o], end[o]], axis=1)
        dup = np.flatnonzero(np.all(keys[1:] == keys[:-1], axis=1))
        if dup.size:
            k = int(o[dup[0] + 1])
            raise InputError(
                f"{label}: query {query_ids[int(qrow[k])]!r}: a repeated prediction "
                f"{str(flat[k])[:80]} (each (video, start, end) once)"
            )
    out = {
        "video": np.full((nq, width), -1, dtype=np.int64),
        "start": np.zeros((nq, width)),
        "end": np.zeros((nq, width)),
        "score": np.full((nq, width), -np.inf),
    }
    for name, values in (("video", vids), ("start", start), ("end", end), ("score", score)):
        out[name][qrow, col] = values
    valid = np.zeros((nq, width), dtype=bool)
    valid[qrow, col] = True
    warnings = []
    empty = int((lengths == 0).sum())
    if empty:
        warnings.append(f"{empty} queries have no predictions (scored as misses)")
    return MomentPrediction(
        **out,
        valid=valid,
        groups=(group,),
        label=label,
        path=path,
        warnings=warnings,
        provenance=provenance,
    )


def _provenance(header: Mapping, label: str) -> dict | None:
    """The header's ``name`` and ``disclosure`` (an object of strings: what the maker declares,
    e.g. ``{"training_data": "uca"}``), as scoring reads a submission's provenance."""
    disclosure = header.get("disclosure")
    if disclosure is not None and not (
        isinstance(disclosure, Mapping)
        and all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in disclosure.items()
        )
    ):
        raise InputError(
            f"{label}: header disclosure: expected an object of strings (e.g. "
            f'{{"training_data": "uca"}}), got {str(disclosure)[:80]}'
        )
    if header.get("name") is None and not disclosure:
        return None
    name = header.get("name")
    return {"name": None if name is None else str(name), "disclosure": dict(disclosure or {})}
