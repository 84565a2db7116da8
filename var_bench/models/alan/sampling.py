"""ALAN's two snippet samplers, batched over padded sequences (pure torch functions).

Every function takes a batch of variable-length sequences given as a bool ``mask [B, T]`` (True
on the real snippets, real snippets first) or as ``lengths [B]``, and returns ``[B, n]`` int64
snippet indices, sorted by time, every index inside its video (``0 <= idx < T_b``). Videos
shorter than ``n`` (``T_b < n``, including ``T_b = 1``) get repeated indices: the sampled
sequence always has exactly ``n`` real entries, so the encoders never see padding.

- Fixed-frame sampling (FS, the paper's U sequence): ``n`` equal-width bins over ``[0, T)``;
  training draws one uniform index per bin, evaluation takes each bin's centre
  ``floor((k + 0.5) T / n)`` (deterministic).
- Anomaly-led sampling (AS, the paper's R sequence): ``p_i = exp(l_i / tau) / sum_j exp(l_j / tau)``
  over the real snippets of a video (``l`` = detector confidences in [0, 1]); training draws
  ``n`` indices with replacement by roulette-wheel selection (inverse CDF of ``p`` at ``n``
  independent uniforms); evaluation uses systematic sampling, the deterministic low-variance
  form of the same wheel (inverse CDF at the fixed points ``(k + 0.5) / n``), so snippet ``i``
  appears ``n p_i`` times up to rounding, as it does on average in training. The alternative
  ``eval_mode="topk"`` keeps the ``min(n, T)`` most confident snippets (repeating for short videos).
"""

from __future__ import annotations

import torch
from torch import Tensor

#: Deterministic evaluation rules for :func:`anomaly_led_indices`.
EVAL_MODES: tuple[str, ...] = ("systematic", "topk")


def _lengths_from_mask(mask: Tensor) -> Tensor:
    lengths = mask.sum(dim=1)
    if bool((lengths < 1).any()):
        raise ValueError("every video needs at least one real snippet (a mask row is all False)")
    return lengths


def anomaly_led_probs(l: Tensor, tau: float, mask: Tensor | None = None) -> Tensor:
    """Sampling probabilities ``softmax(l / tau)`` over the real snippets -> ``[B, T]`` float32.

    Padded positions (``mask`` False) get probability 0; each row sums to 1. Computed in
    float32 whatever the dtype of ``l`` (mixed precision must not distort the wheel).
    """
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    logits = l.detach().float() / tau
    if mask is not None:
        _lengths_from_mask(mask)
        logits = logits.masked_fill(~mask, float("-inf"))
    return torch.softmax(logits, dim=-1)


def _inverse_cdf(probs: Tensor, u: Tensor) -> Tensor:
    """Indices ``i`` with ``cdf[i-1] <= u * total < cdf[i]`` (the roulette wheel), sorted by time.

    ``probs [B, T]`` non-negative, ``u [B, n]`` in [0, 1). Zero-probability snippets are never
    chosen (the strict inequality skips empty slots of the wheel).
    """
    cdf = probs.float().cumsum(dim=-1)
    total = cdf[:, -1:]
    targets = (u * total).contiguous()
    idx = torch.searchsorted(cdf.contiguous(), targets, right=True)
    # u * total can round up to total itself: clamp to the last snippet with p > 0.
    last = (probs > 0).long().cumsum(dim=-1).argmax(dim=-1, keepdim=True)
    idx = torch.minimum(idx, last)
    return idx.sort(dim=-1).values


def roulette_indices(probs: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Roulette-wheel selection: ``n`` indices per row drawn with replacement from ``probs [B, T]``,
    ``P(idx = i) = probs_i / sum(probs)``; returned sorted by time -> ``[B, n]`` int64."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    u = torch.rand(probs.shape[0], n, generator=generator, device=probs.device)
    return _inverse_cdf(probs, u)


def systematic_indices(probs: Tensor, n: int) -> Tensor:
    """Deterministic wheel: the inverse CDF at ``u_k = (k + 0.5) / n``, k = 0..n-1 -> ``[B, n]``."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    u = (torch.arange(n, device=probs.device, dtype=torch.float32) + 0.5) / n
    return _inverse_cdf(probs, u.expand(probs.shape[0], n))


def _topk_indices(l: Tensor, mask: Tensor, n: int) -> Tensor:
    """The ``min(n, T_b)`` most confident real snippets, sorted by time, cycled to length ``n``."""
    lengths = _lengths_from_mask(mask)
    scores = l.detach().float().masked_fill(~mask, float("-inf"))
    k = min(n, scores.shape[1])
    top = scores.topk(k, dim=-1).indices  # [B, k], by confidence
    kept = torch.minimum(lengths, torch.tensor(k, device=l.device))  # real ones per row
    # Slot j takes the (j mod kept)-th most confident: a short video repeats its snippets evenly.
    slot = torch.arange(n, device=l.device).unsqueeze(0) % kept.unsqueeze(1)
    return top.gather(1, slot).sort(dim=-1).values


def anomaly_led_indices(
    l: Tensor,
    mask: Tensor,
    n: int,
    tau: float,
    *,
    train: bool,
    generator: torch.Generator | None = None,
    eval_mode: str = "systematic",
) -> Tensor:
    """AS indices ``[B, n]`` from detector confidences ``l [B, T]`` (see the module docstring).

    ``train``: roulette wheel over ``softmax(l / tau)`` (random; ``generator`` or torch's global
    RNG). Otherwise deterministic: ``eval_mode`` "systematic" (default) or "topk".
    """
    if train:
        return roulette_indices(anomaly_led_probs(l, tau, mask), n, generator)
    if eval_mode == "systematic":
        return systematic_indices(anomaly_led_probs(l, tau, mask), n)
    if eval_mode == "topk":
        return _topk_indices(l, mask, n)
    raise ValueError(f"eval_mode must be one of {', '.join(EVAL_MODES)}, got {eval_mode!r}")


def fixed_frame_indices(
    lengths: Tensor, n: int, *, train: bool, generator: torch.Generator | None = None
) -> Tensor:
    """FS indices ``[B, n]``: bin k of video b covers ``[k T_b / n, (k + 1) T_b / n)``.

    ``idx_k = floor((k + u_k) T_b / n)`` with ``u_k ~ U[0, 1)`` in training and ``u_k = 0.5`` at
    evaluation. Non-decreasing in k, so already sorted; for ``T_b < n`` bins share snippets.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    lengths = lengths.long()
    if bool((lengths < 1).any()):
        raise ValueError("every video needs at least one real snippet (a length is < 1)")
    b = lengths.shape[0]
    k = torch.arange(n, device=lengths.device, dtype=torch.float64).expand(b, n)
    if train:
        u = torch.rand(b, n, generator=generator, device=lengths.device, dtype=torch.float64)
    else:
        u = torch.full((b, n), 0.5, device=lengths.device, dtype=torch.float64)
    t = lengths.unsqueeze(1).to(torch.float64)
    idx = torch.floor((k + u) * t / n).long()
    return torch.minimum(idx, lengths.unsqueeze(1) - 1)
