"""Encoding a split with a model and scoring the resulting matrix: the piece the trainer
(validation) and the evaluator (test) share, below both.

The matrix S has one row per query (text on UCFCrime-AR, audio on XDViolence-AR) and one column
per video, both in the split's order; query i's positive is video i.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from var_bench.errors import InputError
from var_bench.models.base import RetrievalModel
from var_bench.tasks import Gold
from var_bench.training.runtime import autocast, move_batch

#: Queries per similarity block (bounds memory: block x N scores at a time).
SIMILARITY_BLOCK = 256


def _pad_to(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    pad: list[int] = []
    for have, want in zip(reversed(t.shape[1:]), reversed(shape)):
        pad += [0, want - have]
    return F.pad(t, pad) if any(pad) else t


def concat_outputs(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Concatenate per-batch encoder outputs along dim 0. Tensors whose trailing sizes differ
    between batches (e.g. padded snippet or token axes) are zero-padded (False for masks) to the
    largest; lists are chained."""
    if not parts:
        return {}
    out: dict[str, Any] = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        if isinstance(values[0], Tensor):
            trailing = tuple(max(v.shape[i] for v in values) for i in range(1, values[0].dim()))
            out[key] = torch.cat([_pad_to(v, trailing) for v in values], dim=0)
        else:
            out[key] = [x for v in values for x in v]
    return out


def _rows(outputs: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    return {k: v[start:stop] for k, v in outputs.items()}


class Encoded(NamedTuple):
    """A split encoded row by row: query and gallery outputs, the rows' video ids and, for pair
    rows of a table gold, their query ids (else None)."""

    queries: dict
    gallery: dict
    ids: list[str]
    query_ids: list[str] | None = None


@torch.no_grad()
def encode_split(
    model: RetrievalModel,
    loader: Iterable[dict],
    device: torch.device,
    amp: torch.dtype | None = None,
    progress: bool | None = False,
    *,
    queries_too: bool = True,
) -> Encoded:
    """(query outputs, gallery outputs, video ids, query ids) over ``loader``, in its order
    (:class:`Encoded`). Outputs stay on ``device``. ``progress``: a bar per batch
    (:mod:`var_bench.progress`; off by default, since validation inside training reports per
    epoch). ``queries_too=False``: the gallery side only (query outputs ``{}``), for videos
    without captions (a search index of a raw feature folder)."""
    from var_bench.progress import Progress

    model.eval()
    queries, gallery, ids, qids = [], [], [], []
    for batch in Progress(loader, desc="encode", unit="batch", progress=progress, log_every=0):
        batch = move_batch(batch, device)
        with autocast(amp, device):
            if queries_too:
                queries.append(model.encode_query(batch))
            gallery.append(model.encode_gallery(batch))
        ids.extend(batch["video_id"])
        qids.extend(batch.get("query_id") or ())
    return Encoded(
        concat_outputs(queries),
        concat_outputs(gallery),
        ids,
        qids if qids and len(qids) == len(ids) else None,
    )


def pair_rows(query_ids: list[str], video_ids: list[str]) -> tuple[list[int], list[int], Gold]:
    """For pair rows (row k: query ``query_ids[k]``, its positive video ``video_ids[k]``): the
    first row of each query and of each video, both in order of first appearance, and the gold
    they form (each query's positives: the videos it is paired with).

    Example:
        >>> q, v, g = pair_rows(["q0", "q1", "q1"], ["a", "a", "b"])
        >>> q, v, [p.tolist() for p in g.positive_lists()]
        ([0, 1], [0, 2], [[0], [0, 1]])
    """
    first_q = list(dict.fromkeys(query_ids))
    first_v = list(dict.fromkeys(video_ids))
    positives: dict[str, list[str]] = {q: [] for q in first_q}
    for q, v in zip(query_ids, video_ids):
        positives[q].append(v)
    at_q = {q: i for i, q in reversed(list(enumerate(query_ids)))}
    at_v = {v: i for i, v in reversed(list(enumerate(video_ids)))}
    return (
        [at_q[q] for q in first_q],
        [at_v[v] for v in first_v],
        Gold.from_lists(first_q, first_v, [positives[q] for q in first_q]),
    )


def select_rows(outputs: dict[str, Any], rows: list[int]) -> dict[str, Any]:
    """The encoder outputs of ``rows`` only (tensors indexed, lists picked)."""
    index = torch.as_tensor(rows, dtype=torch.long)
    return {
        k: (
            v.index_select(0, index.to(v.device)) if isinstance(v, Tensor) else [v[i] for i in rows]
        )
        for k, v in outputs.items()
    }


@torch.no_grad()
def similarity_matrix(
    model: RetrievalModel,
    queries: dict,
    gallery: dict,
    *,
    block: int = SIMILARITY_BLOCK,
    amp: torch.dtype | None = None,
    device: torch.device | None = None,
) -> np.ndarray:
    """S = model.similarity over blocks of ``block`` queries -> float32 ndarray [Nq, Nv]."""
    n = next(len(v) for v in queries.values())
    rows = []
    for start in range(0, n, block):
        with autocast(amp, device or torch.device("cpu")):
            s = model.similarity(_rows(queries, start, start + block), gallery)
        rows.append(s.float().cpu())
    S = torch.cat(rows, dim=0).numpy()
    if not np.isfinite(S).all():
        raise InputError(
            f"{model.name or type(model).__name__}: expected finite similarities, "
            f"got NaN or Inf (diverged training?)"
        )
    return np.ascontiguousarray(S, dtype=np.float32)
