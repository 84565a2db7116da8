"""Batching variable-length feature sequences: pad with masks, or sample a fixed number n.

Per item (a :class:`~var_bench.loaders.dataset.FeatureDataset` row) and stream s, with T the
video's snippet count:

1. ``max_snippets`` M: when T > M every stream is average-pooled to M snippets
   (:func:`~var_bench.loaders.sampling.pool_to`), snippet labels by the half rule.
2. ``sample``: ``"uniform"`` (:func:`uniform_indices`) or ``"random"`` (:func:`random_indices`)
   picks n snippets (L = n, masks all True; a short video repeats indices); None pads every
   sequence with zeros to the longest in the batch (L = max T, mask False on padding).

Batch keys: ``index`` LongTensor [B]; ``video_id`` list[str]; per stream ``s`` FloatTensor
[B, L, ...] and ``s_mask`` BoolTensor [B, L] (True = real snippet); ``length`` LongTensor [B] (the
original T); ``video_label`` FloatTensor [B]; ``snippet_labels`` LongTensor [B, L] (-1 where
unknown or padding); ``text``, ``class`` and ``query_id`` list[str] when the items carry them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from var_bench.errors import InputError
from var_bench.loaders.rng import LazyRng
from var_bench.loaders.sampling import pool_labels, pool_to, random_indices, uniform_indices

SAMPLERS = ("uniform", "random")
_PASSTHROUGH = ("text", "class", "query_id")


def _as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _check_options(
    streams: Sequence[str], max_snippets: int | None, sample: str | None, n: int | None
) -> None:
    if not streams:
        raise InputError("collate: expected at least one stream name (rgb, flow, audio), got none")
    if sample is not None and sample not in SAMPLERS:
        raise InputError(
            f"collate: sample expected one of None, {', '.join(SAMPLERS)}, got {sample!r}"
        )
    if sample is not None and (n is None or int(n) < 1):
        raise InputError(f"collate: sample={sample!r} needs n >= 1 snippets, got n={n!r}")
    if max_snippets is not None and int(max_snippets) < 1:
        raise InputError(f"collate: max_snippets expected >= 1 or None, got {max_snippets!r}")


def _prepare(
    item: Mapping[str, Any],
    streams: Sequence[str],
    max_snippets: int | None,
    sample: str | None,
    n: int | None,
    rng: LazyRng,
) -> tuple[dict, np.ndarray, int]:
    """One item's streams and labels after pooling and sampling, and its original length T."""
    missing = [s for s in streams if s not in item]
    if missing:
        raise InputError(
            f"collate: expected streams {', '.join(streams)} in every item, "
            f"item {item.get('video_id', '?')!r} lacks {', '.join(missing)}"
        )
    arrays = {s: _as_numpy(item[s]) for s in streams}
    lengths = {a.shape[0] if a.ndim else -1 for a in arrays.values()}
    if len(lengths) != 1 or min(lengths) < 1:
        found = ", ".join(f"{s}: {a.shape}" for s, a in arrays.items())
        raise InputError(
            f"collate: expected streams of one length T >= 1 per item, item "
            f"{item.get('video_id', '?')!r} has {found}"
        )
    T = lengths.pop()
    labels = item.get("snippet_labels")
    labels = np.full(T, -1, np.int64) if labels is None else _as_numpy(labels).astype(np.int64)
    if labels.shape != (T,):
        raise InputError(
            f"collate: expected snippet_labels of length {T}, item "
            f"{item.get('video_id', '?')!r} has shape {labels.shape}"
        )
    if max_snippets is not None and T > max_snippets:
        arrays = {s: pool_to(a, max_snippets) for s, a in arrays.items()}
        labels = pool_labels(labels, max_snippets)
    if sample is not None:
        t = labels.shape[0]
        idx = uniform_indices(t, n) if sample == "uniform" else random_indices(t, n, rng.get())
        arrays = {s: a[idx] for s, a in arrays.items()}
        labels = labels[idx]
    return arrays, labels, T


def collate(
    items: Sequence[Mapping[str, Any]],
    *,
    streams: Sequence[str],
    max_snippets: int | None = None,
    sample: str | None = None,
    n: int | None = None,
    rng: np.random.Generator | LazyRng | None = None,
) -> dict[str, Any]:
    """Stack ``items`` into a batch of tensors (see the module docstring for keys and shapes).

    ``rng`` draws the ``"random"`` samples (default: a fresh generator; pass one, or use
    :func:`make_collate` with a seed, for reproducible draws).
    """
    if not items:
        raise InputError("collate: expected at least one item, got an empty batch")
    _check_options(streams, max_snippets, sample, n)
    lazy = rng if isinstance(rng, LazyRng) else LazyRng(rng=rng)
    prepared = [_prepare(it, streams, max_snippets, sample, n, lazy) for it in items]
    B = len(items)
    L = int(n) if sample is not None else max(p[1].shape[0] for p in prepared)
    batch: dict[str, Any] = {
        "index": torch.tensor([int(it["index"]) for it in items], dtype=torch.long),
        "video_id": [str(it["video_id"]) for it in items],
    }
    for s in streams:
        rest = prepared[0][0][s].shape[1:]
        out = np.zeros((B, L) + rest, np.float32)
        mask = np.zeros((B, L), bool)
        for b, (arrays, _labels, _) in enumerate(prepared):
            a = arrays[s]
            if a.shape[1:] != rest:
                raise InputError(
                    f"collate: expected {s} rows of shape {rest} in every item, "
                    f"item {items[b].get('video_id', '?')!r} has {a.shape[1:]}"
                )
            out[b, : a.shape[0]] = a  # one copy (and the float16 -> float32 cast) per item
            mask[b, : a.shape[0]] = True
        batch[s] = torch.from_numpy(out)
        batch[f"{s}_mask"] = torch.from_numpy(mask)
    labels = np.full((B, L), -1, np.int64)
    for b, (_, lab, _) in enumerate(prepared):
        labels[b, : lab.shape[0]] = lab
    batch["length"] = torch.tensor([p[2] for p in prepared], dtype=torch.long)
    batch["video_label"] = torch.tensor(
        [float(it.get("video_label", 0.0)) for it in items], dtype=torch.float32
    )
    batch["snippet_labels"] = torch.from_numpy(labels)
    for key in _PASSTHROUGH:
        if all(key in it for it in items):
            batch[key] = [it[key] for it in items]
    return batch


class Collate:
    """Picklable ``collate`` with fixed options, for ``DataLoader(collate_fn=..., num_workers>0)``.

    Random draws come from a generator created in each worker (see :mod:`.rng`), so workers do
    not repeat each other; ``seed`` makes the main-process draws reproducible.
    """

    def __init__(
        self,
        *,
        streams: Sequence[str],
        max_snippets: int | None = None,
        sample: str | None = None,
        n: int | None = None,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        _check_options(streams, max_snippets, sample, n)
        self.options = {
            "streams": tuple(streams),
            "max_snippets": max_snippets,
            "sample": sample,
            "n": n,
        }
        self.rng = LazyRng(seed, rng)

    def __call__(self, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return collate(items, rng=self.rng, **self.options)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Collate({opts})"


def make_collate(**kw: Any) -> Collate:
    """A picklable collate function: ``make_collate(streams=("rgb",), sample="random", n=32)``."""
    return Collate(**kw)
