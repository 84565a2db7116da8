"""Snippet sampling: which of a video's T snippets a model sees (pure numpy functions).

Three ways to bring a video of T snippets to a fixed budget of n:

* :func:`uniform_indices`: evenly spaced, deterministic (evaluation),
  i_k = floor((k + 0.5) * T / n), k = 0 .. n-1 (indices repeat when T < n).
* :func:`random_indices`: one uniform random index per equal-width bin (training),
  bin k = [floor(k * T / n), floor((k + 1) * T / n)), sorted.
* :func:`pool_to`: average-pool consecutive groups to at most n snippets (RTFM-style; keeps every
  snippet's information), group k = rows floor(k * T / n) .. floor((k + 1) * T / n) - 1.
"""

from __future__ import annotations

import numpy as np

from var_bench.errors import InputError

#: Load-time crop choice per video (``FeatureDataset(crop=...)``, config ``data.train_crop`` /
#: ``data.eval_crop``): a random crop per item, the centre crop, or the mean over crops. (Not the
#: build-time ``features.align.CROP_MODES``, which decide what the store keeps.)
CROPS: tuple[str, ...] = ("random", "center", "mean")


def _check(T: int, n: int) -> tuple[int, int]:
    if isinstance(T, bool) or int(T) != T or T < 1:
        raise InputError(f"snippet sampling: expected a video of T >= 1 snippets, got T={T!r}")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise InputError(f"snippet sampling: expected n >= 1 snippets to draw, got n={n!r}")
    return int(T), int(n)


def bin_edges(T: int, n: int) -> np.ndarray:
    """The n + 1 edges floor(k * T / n), k = 0 .. n, of n near-equal consecutive bins of T items.

    >>> bin_edges(10, 4).tolist()
    [0, 2, 5, 7, 10]
    """
    T, n = _check(T, n)
    return (np.arange(n + 1, dtype=np.int64) * T) // n


def uniform_indices(T: int, n: int) -> np.ndarray:
    """n evenly spaced snippet indices of a T-snippet video: i_k = floor((k + 0.5) * T / n).

    Deterministic; the centre of each of n equal-width bins, so indices repeat when T < n.

    >>> uniform_indices(10, 4).tolist()
    [1, 3, 6, 8]
    >>> uniform_indices(2, 5).tolist()
    [0, 0, 1, 1, 1]
    """
    T, n = _check(T, n)
    # (2k + 1) * T // (2n) == floor((k + 0.5) * T / n) in exact integer arithmetic.
    return ((2 * np.arange(n, dtype=np.int64) + 1) * T) // (2 * n)


def random_indices(T: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """n sorted random snippet indices of a T-snippet video (training-time sampling).

    n <= T: one index drawn uniformly from each bin [floor(k T / n), floor((k + 1) T / n)),
    so the draw covers the whole video (TSN-style segment sampling).
    n > T: every snippet once plus n - T extra indices drawn uniformly with replacement, sorted
    (each snippet appears at least once; no index is invented).
    """
    T, n = _check(T, n)
    if n <= T:
        edges = bin_edges(T, n)
        return rng.integers(edges[:-1], edges[1:])
    extra = rng.integers(0, T, size=n - T)
    return np.sort(np.concatenate([np.arange(T, dtype=np.int64), extra]))


def pool_to(x: np.ndarray, n: int) -> np.ndarray:
    """Average-pool ``x`` ``[T, ...]`` along its first axis to at most n rows.

    T <= n: ``x`` is returned unchanged (no copy). T > n: row k of the result is the mean of rows
    floor(k T / n) .. floor((k + 1) T / n) - 1 (every group non-empty since T > n), computed in
    float32 (float64 inputs stay float64).
    """
    x = np.asarray(x)
    if x.ndim < 1:
        raise InputError(f"pool_to: expected an array [T, ...], got a {x.ndim}-D array")
    T, n = _check(x.shape[0], n)
    if T <= n:
        return x
    edges = bin_edges(T, n)
    acc = x if x.dtype == np.float64 else x.astype(np.float32, copy=False)
    sums = np.add.reduceat(acc, edges[:-1], axis=0)
    counts = np.diff(edges).reshape((n,) + (1,) * (x.ndim - 1))
    return (sums / counts).astype(acc.dtype, copy=False)


def pool_labels(labels: np.ndarray, n: int) -> np.ndarray:
    """Snippet labels pooled like :func:`pool_to`: a pooled snippet is 1 iff at least half of its
    group is 1 (the same half rule as snippet labels from frames), -1 (unknown) if any member is -1.
    """
    labels = np.asarray(labels)
    T, n = _check(labels.shape[0], n)
    if T <= n:
        return labels
    edges = bin_edges(T, n)
    ones = np.add.reduceat((labels == 1).astype(np.int64), edges[:-1])
    unknown = np.add.reduceat((labels < 0).astype(np.int64), edges[:-1]) > 0
    out = (2 * ones >= np.diff(edges)).astype(labels.dtype)
    out[unknown] = -1
    return out
