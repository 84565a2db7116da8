"""The shared mixture-of-experts pieces (CE, MMT, T2VLAD)."""

import pytest
import torch

from var_bench.models.mixture import MixtureWeights, ReduceDim, weighted_expert_similarity


def test_weighted_similarity_is_the_weighted_sum_of_expert_cosines():
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # one query, 2 experts
    g = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])  # two videos
    w = torch.tensor([[0.25, 0.75]])
    S = weighted_expert_similarity(q, w, g)
    # video 0: 0.25 * 1 + 0.75 * 0; video 1: 0.25 * 0 + 0.75 * 1
    assert torch.allclose(S, torch.tensor([[0.25, 0.75]]))


def test_weighted_similarity_refuses_mismatched_experts():
    with pytest.raises(ValueError):
        weighted_expert_similarity(torch.zeros(2, 2, 4), torch.zeros(2, 2), torch.zeros(3, 1, 4))


def test_reduce_dim_and_mixture_weights_shapes():
    torch.manual_seed(0)
    x = ReduceDim(6, 4)(torch.randn(3, 5, 6))
    assert x.shape == (3, 5, 4) and torch.allclose(x.norm(dim=-1), torch.ones(3, 5))
    w = MixtureWeights(6, 2)(torch.randn(3, 6))
    assert w.shape == (3, 2) and torch.allclose(w.sum(-1), torch.ones(3)) and (w >= 0).all()
