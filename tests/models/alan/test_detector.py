"""Anomaly detector shapes/masks and the top-k BCE loss on hand-made inputs."""

from __future__ import annotations

import math

import pytest
import torch

from var_bench.models.alan.detector import AnomalyDetector, topk_bce_loss, topk_counts, topk_mean


def _mask(lengths, t):
    return torch.arange(t)[None] < torch.as_tensor(lengths)[:, None]


def test_detector_architecture_is_the_papers():
    det = AnomalyDetector(1024)
    shapes = [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in det.convs]
    assert shapes == [(1024, 128, 7), (128, 32, 7), (32, 1, 7)]
    assert det.dropout.p == 0.6


def test_scores_shape_range_and_zero_padding():
    torch.manual_seed(0)
    det = AnomalyDetector(16).eval()
    x = torch.randn(3, 20, 16)
    mask = _mask([20, 7, 1], 20)
    l = det(x, mask)
    assert l.shape == (3, 20)
    assert torch.all((l[mask] > 0) & (l[mask] < 1))
    assert torch.all(l[~mask] == 0)


def test_scores_do_not_depend_on_batch_padding():
    torch.manual_seed(0)
    det = AnomalyDetector(16).eval()
    x = torch.randn(1, 9, 16)
    alone = det(x, _mask([9], 9))
    padded = torch.cat([x, torch.randn(1, 11, 16)], dim=1)  # garbage after the real snippets
    in_batch = det(padded, _mask([9], 20))
    assert torch.allclose(alone, in_batch[:, :9], atol=1e-6)


def test_topk_count_rule():
    assert topk_counts(torch.tensor([1, 15, 16, 31, 32, 100])).tolist() == [1, 1, 1, 1, 2, 6]


def test_topk_bce_on_hand_made_inputs():
    # Video 0: T = 32 -> k = 2, top-2 of its scores = 0.9, 0.7 -> rho = 0.8, label 1.
    # Video 1: T = 3 -> k = 1, top-1 = 0.4 -> rho = 0.4, label 0. Padding holds 0.99 (ignored).
    scores = torch.full((2, 32), 0.1)
    scores[0, 5], scores[0, 20] = 0.9, 0.7
    scores[1, :3] = torch.tensor([0.2, 0.4, 0.3])
    scores[1, 3:] = 0.99
    mask = _mask([32, 3], 32)
    assert torch.allclose(topk_mean(scores, mask), torch.tensor([0.8, 0.4]))
    expected = (-math.log(0.8) - math.log(1 - 0.4)) / 2
    loss = topk_bce_loss(scores, mask, torch.tensor([1.0, 0.0]))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_topk_loss_trains_the_detector_only_through_its_scores():
    torch.manual_seed(0)
    det = AnomalyDetector(8, dropout=0.0)
    x = torch.randn(2, 10, 8)
    loss = topk_bce_loss(det(x, _mask([10, 4], 10)), _mask([10, 4], 10), torch.tensor([1.0, 0.0]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in det.parameters())


def test_empty_video_is_rejected():
    with pytest.raises(ValueError):
        topk_mean(torch.rand(1, 4), torch.zeros(1, 4, dtype=torch.bool))
