"""FS / AS samplers: shapes, bounds, determinism, short videos and the roulette-wheel
frequencies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from var_bench.models.alan.sampling import (
    anomaly_led_indices,
    anomaly_led_probs,
    fixed_frame_indices,
    roulette_indices,
    systematic_indices,
)


def _mask(lengths, t=None):
    lengths = torch.as_tensor(lengths)
    t = t or int(lengths.max())
    return torch.arange(t)[None] < lengths[:, None]


def _chi_square(counts: np.ndarray, probs: np.ndarray) -> float:
    expected = counts.sum() * probs
    return float(((counts - expected) ** 2 / expected).sum())


# chi-square critical value for 9 degrees of freedom at p = 0.001.
CHI2_9_DF_999 = 27.877


def _roulette_counts(l, tau, draws, seed=0):
    gen = torch.Generator().manual_seed(seed)
    mask = torch.ones(1, l.shape[1], dtype=torch.bool)
    idx = anomaly_led_indices(l, mask, draws, tau, train=True, generator=gen)
    return np.bincount(idx.numpy().ravel(), minlength=l.shape[1])


def test_roulette_frequencies_match_softmax_of_l_over_tau():
    l = torch.tensor([[0.0, 0.1, 0.2, 0.9, 1.0, 0.95, 0.3, 0.05, 0.5, 0.7]])
    tau = 0.7
    counts = _roulette_counts(l, tau, 200_000)
    probs = torch.softmax(l[0] / tau, dim=0).double().numpy()
    assert _chi_square(counts, probs) < CHI2_9_DF_999
    assert np.abs(counts / counts.sum() - probs).max() < 0.005


def test_frequency_check_rejects_a_wrong_distribution():
    # The same statistic must fail against the wrong tau (or a uniform wheel): the test can fail.
    l = torch.tensor([[0.0, 0.1, 0.2, 0.9, 1.0, 0.95, 0.3, 0.05, 0.5, 0.7]])
    counts = _roulette_counts(l, 0.7, 200_000)
    wrong = torch.softmax(l[0] / 0.35, dim=0).double().numpy()
    assert _chi_square(counts, wrong) > CHI2_9_DF_999
    assert _chi_square(counts, np.full(10, 0.1)) > CHI2_9_DF_999


def test_probs_are_softmax_over_real_snippets_only():
    l = torch.tensor([[0.2, 0.8, 0.5, 0.0], [0.9, 0.1, 0.0, 0.0]])
    mask = _mask([3, 2], 4)
    p = anomaly_led_probs(l, 0.7, mask)
    assert torch.allclose(p.sum(dim=1), torch.ones(2))
    assert torch.all(p[~mask] == 0)
    assert torch.allclose(p[0, :3], torch.softmax(l[0, :3] / 0.7, dim=0))


def test_padding_is_never_sampled_and_indices_are_sorted_and_in_range():
    gen = torch.Generator().manual_seed(1)
    lengths = torch.tensor([1, 3, 7, 40])
    mask = _mask(lengths, 48)
    l = torch.rand(4, 48, generator=gen)
    for train in (True, False):
        for idx in (
            anomaly_led_indices(l, mask, 16, 0.7, train=train, generator=gen),
            fixed_frame_indices(lengths, 16, train=train, generator=gen),
        ):
            assert idx.shape == (4, 16) and idx.dtype == torch.int64
            assert torch.all(idx >= 0) and torch.all(idx < lengths[:, None])
            assert torch.all(idx[:, 1:] >= idx[:, :-1])


def test_one_snippet_video_repeats_its_only_snippet():
    mask = _mask([1], 5)
    l = torch.rand(1, 5)
    for train in (True, False):
        assert torch.all(anomaly_led_indices(l, mask, 8, 0.7, train=train) == 0)
        assert torch.all(fixed_frame_indices(torch.tensor([1]), 8, train=train) == 0)
    assert torch.all(anomaly_led_indices(l, mask, 8, 0.7, train=False, eval_mode="topk") == 0)


def test_short_video_fixed_frame_eval_repeats_evenly():
    # T = 3 < N = 6: bin centres floor((k + 0.5) * 3 / 6) = 0, 0, 1, 1, 2, 2.
    idx = fixed_frame_indices(torch.tensor([3]), 6, train=False)
    assert idx.tolist() == [[0, 0, 1, 1, 2, 2]]


def test_fixed_frame_eval_takes_bin_centres():
    idx = fixed_frame_indices(torch.tensor([100, 10]), 5, train=False)
    assert idx.tolist() == [[10, 30, 50, 70, 90], [1, 3, 5, 7, 9]]


def test_fixed_frame_training_draws_one_index_per_bin():
    gen = torch.Generator().manual_seed(0)
    t, n = 100, 10
    idx = fixed_frame_indices(torch.full((500,), t), n, train=True, generator=gen)
    bins = torch.div(idx * n, t, rounding_mode="floor")
    assert torch.equal(bins, torch.arange(n).expand(500, n))
    assert len(torch.unique(idx)) > 50  # random within the bins, not the centres


def test_evaluation_sampling_is_deterministic_and_independent_of_the_batch():
    gen = torch.Generator().manual_seed(3)
    l = torch.rand(3, 30, generator=gen)
    mask = _mask([30, 12, 5], 30)
    for mode in ("systematic", "topk"):
        a = anomaly_led_indices(l, mask, 10, 0.7, train=False, eval_mode=mode)
        b = anomaly_led_indices(l, mask, 10, 0.7, train=False, eval_mode=mode)
        assert torch.equal(a, b)
        # The same video alone, with less padding, samples the same snippets.
        alone = anomaly_led_indices(
            l[1:2, :12], mask[1:2, :12], 10, 0.7, train=False, eval_mode=mode
        )
        assert torch.equal(alone, a[1:2])
    fs = fixed_frame_indices(torch.tensor([30, 12, 5]), 10, train=False)
    assert torch.equal(fs, fixed_frame_indices(torch.tensor([30, 12, 5]), 10, train=False))


def test_systematic_counts_follow_the_probabilities():
    probs = torch.tensor([[0.5, 0.25, 0.125, 0.125]])
    idx = systematic_indices(probs, 8)
    assert idx.tolist() == [[0, 0, 0, 0, 1, 1, 2, 3]]


def test_topk_eval_keeps_the_most_confident_sorted_by_time():
    l = torch.tensor([[0.1, 0.9, 0.2, 0.8, 0.7, 0.0]])
    idx = anomaly_led_indices(l, _mask([6]), 3, 0.7, train=False, eval_mode="topk")
    assert idx.tolist() == [[1, 3, 4]]
    short = anomaly_led_indices(l[:, :2], _mask([2]), 4, 0.7, train=False, eval_mode="topk")
    assert short.tolist() == [[0, 0, 1, 1]]


def test_zero_probability_snippets_are_never_drawn():
    probs = torch.tensor([[0.0, 0.5, 0.0, 0.5, 0.0]])
    idx = roulette_indices(probs, 5000, torch.Generator().manual_seed(0))
    assert set(idx.unique().tolist()) == {1, 3}


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        anomaly_led_probs(torch.rand(1, 3), 0.0)
    with pytest.raises(ValueError):
        anomaly_led_indices(
            torch.rand(1, 3), torch.zeros(1, 3, dtype=torch.bool), 4, 0.7, train=False
        )
    with pytest.raises(ValueError):
        fixed_frame_indices(torch.tensor([0]), 4, train=False)
    with pytest.raises(ValueError):
        anomaly_led_indices(torch.rand(1, 3), _mask([3]), 4, 0.7, train=False, eval_mode="x")
