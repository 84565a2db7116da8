"""HL-Net: shapes and masks, the three graphs, the causal HLC scores, the detection loss,
gradients and the tiny config on CPU."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from var_bench.errors import InputError
from var_bench.models.baselines.hlnet import (
    HLNet,
    distance_graph,
    score_graph,
    similarity_graph,
    topk_mean,
)
from var_bench.models.registry import get_model

from .checks import losses_decrease, model_ctx, padding_batches, shapes_batch, tiny_model, unmask
from .fakebatch import UCF, XD, build, evaluate_pair, make_batch, parameters_without_gradient

ARGS = dict(embed_dim=16, hidden=(32, 16), gcn_dim=8, max_snippets=12)


@pytest.fixture(scope="module", params=[UCF, XD])
def model(request):
    m, _ = build("hlnet", request.param, **ARGS)
    return m


def test_registered():
    assert get_model("hlnet") is HLNet


def test_shapes_and_keys(model):
    batch = shapes_batch(model)
    model.eval()
    with torch.no_grad():
        feats, clf, hlc = model.video(*_joined(batch))
        g, q = model.encode_gallery(batch), model.encode_query(batch)
        s = model.similarity({k: v[:3] for k, v in q.items()}, g)
    assert feats.shape == (5, 10, 3 * 8) and clf.shape == hlc.shape == (5, 10)
    assert g["video"].shape == q["query"].shape == (5, 16)
    assert torch.allclose(g["video"].norm(dim=-1), torch.ones(5))
    assert s.shape == (3, 5)


def _joined(batch):
    return torch.cat([batch["rgb"], batch["flow"]], dim=-1), batch["rgb_mask"]


def test_padding_does_not_change_scores(model):
    batch, padded = padding_batches(model)
    s = evaluate_pair(model, batch, batch)
    assert torch.allclose(s, evaluate_pair(model, padded, padded), atol=1e-5)
    # The same padding, unmasked, matters.
    assert not torch.allclose(s, evaluate_pair(model, batch, unmask(padded)), atol=1e-4)


def test_similarity_graph_thresholds_and_normalises_rows():
    u = torch.tensor([[[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [9.0, 9.0]]])
    mask = torch.tensor([[True, True, True, False]])
    adj = similarity_graph(u, mask, 0.7)
    cos01 = F.cosine_similarity(u[0, 0], u[0, 1], dim=0)
    # Row 0 over the 3 real snippets: logits 1 (self), cos01 (> 0.7), 0 (cos 0 thresholded).
    row = torch.softmax(torch.tensor([1.0, float(cos01), 0.0]), 0)
    assert torch.allclose(adj[0, 0, :3], row, atol=1e-6)
    assert torch.allclose(adj[0, :3].sum(-1), torch.ones(3))
    assert adj[0, 3].abs().sum() == 0 and adj[0, :, 3].abs().sum() == 0


def test_distance_graph_decays_with_time_and_skips_padding():
    mask = torch.tensor([[True, True, True, False]])
    adj = distance_graph(mask)[0]
    assert adj[0, 0] == 1.0 and torch.isclose(adj[0, 2], torch.tensor(math.exp(-2 / math.e)))
    assert torch.equal(adj, adj.t()) and adj[3].abs().sum() == 0


def test_score_graph_links_snippets_of_similar_score():
    logits = torch.tensor([[4.0, 4.0, -4.0]])
    adj = score_graph(logits, torch.ones(1, 3, dtype=torch.bool))[0]
    assert torch.allclose(adj.sum(-1), torch.ones(3))
    p = torch.sigmoid(logits[0])
    edge = torch.sigmoid((1 - (p[:, None] - p[None, :]).abs() - 0.5) / 0.1)
    assert torch.allclose(adj, torch.softmax(edge, dim=-1), atol=1e-6)
    assert adj[0, 1] > 2 * adj[0, 2]  # same score: strong edge; opposite score: weak edge


def test_hlc_scores_are_causal(model):
    batch = make_batch(model_ctx(model), 1, 10, seed=3)
    model.eval()
    u, mask = _joined(batch)
    with torch.no_grad():
        _, _, hlc = model.video(u, mask)
        later = u.clone()
        later[:, 6:] += 5.0
        _, _, hlc_later = model.video(later, mask)
    assert torch.allclose(hlc[:, :6], hlc_later[:, :6]) and not torch.allclose(hlc, hlc_later)


def test_topk_mean_uses_floor_t_over_16_plus_one():
    logits = torch.arange(40, dtype=torch.float32).repeat(2, 1)
    mask = torch.zeros(2, 40, dtype=torch.bool)
    mask[0, :35] = True  # T = 35 -> k = 3: mean of 34, 33, 32
    mask[1, :15] = True  # T = 15 -> k = 1: 14
    assert topk_mean(logits, mask).tolist() == [33.0, 14.0]


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_gradient_reaches_every_trainable_parameter(benchmark):
    m, ctx = build("hlnet", benchmark, **ARGS)
    m.train()
    out = m(make_batch(ctx, 6, 12, lengths=[12, 5, 12, 9, 3, 12], seed=5))
    assert set(out) >= {"loss", "ranking", "detection", "mil", "mil_hlc", "distill"}
    out["loss"].backward()
    assert parameters_without_gradient(m) == []


def test_approximator_learns_only_from_the_detection_loss():
    """The score graph reads detached HLC scores (as in HL-Net): without the detection loss the
    approximator gets no gradient."""
    m, ctx = build("hlnet", XD, detection_weight=0.0, **ARGS)
    out = m(make_batch(ctx, 4, 12, seed=6))
    assert "detection" not in out
    out["loss"].backward()
    assert all(
        n.startswith(("video.approximator", "video.hlc", "video.classifier"))
        for n in parameters_without_gradient(m)
    )
    assert any(n.startswith("video.hlc") for n in parameters_without_gradient(m))


def test_unknown_pool_is_refused():
    with pytest.raises(InputError, match="pool"):
        build("hlnet", XD, pool="attention", **ARGS)


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_tiny_config_trains_on_cpu(benchmark):
    m, ctx, cfg = tiny_model("hlnet", benchmark, ("rgb",))
    assert m.streams == ("rgb",)
    opts = m.loader_options()
    batch = make_batch(ctx, 6, opts["max_snippets"], lengths=[32, 3, 9, 32, 20, 7], seed=6)
    losses_decrease(m, batch, cfg.train.lr)
