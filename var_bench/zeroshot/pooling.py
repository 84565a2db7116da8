"""Pooling: per-frame (or per-window) embeddings -> one embedding per video (pure numpy).

``mean``: ``v = normalise(sum_t e_t / T)`` of the L2-normalised rows ``e_t``; ``max``: the
element-wise maximum, then L2-normalised. The pooling's name goes in the sampling manifest.
"""

from __future__ import annotations

import numpy as np

from var_bench.errors import InputError

#: name -> the words the manifest records.
POOLINGS: dict[str, str] = {
    "mean": "mean of L2-normalised frame embeddings, L2-normalised",
    "max": "element-wise max of L2-normalised frame embeddings, L2-normalised",
}


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` divided by their L2 norm (a zero row stays zero), float32.

    >>> l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def pool(frames: np.ndarray, rule: str = "mean") -> np.ndarray:
    """``(T, d)`` frame embeddings -> ``(d,)`` video embedding under ``rule`` (module docstring).

    >>> [round(float(v), 4) for v in pool(np.array([[1.0, 0.0], [0.0, 1.0]]))]
    [0.7071, 0.7071]
    """
    if rule not in POOLINGS:
        raise InputError(f"pooling: expected one of {', '.join(POOLINGS)}, got {rule!r}")
    e = l2_normalise(frames)
    if e.ndim != 2 or e.shape[0] == 0:
        raise InputError(f"pooling: expected (T >= 1, d) embeddings, got shape {e.shape}")
    v = e.mean(axis=0) if rule == "mean" else e.max(axis=0)
    return l2_normalise(v[None])[0]
