"""CE: shapes, padding, collaborative gating and mixture weights, gradients, tiny config."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from var_bench.errors import InputError
from var_bench.models.baselines.ce import CollaborativeExperts
from var_bench.models.registry import get_model

from .checks import (
    build_small,
    gradient_reaches_all_but_frozen_text,
    loss_and_encodings,
    model_ctx,
    tiny_forward_backward,
)
from .fakebatch import UCF, XD, make_batch, make_ctx, pad_batch

ARGS = {"dim": 16, "query_clusters": 3, "g_layers": 2, "h_layers": 1}


def build(benchmark: str, store=("rgb", "flow"), **kw) -> CollaborativeExperts:
    """A small CE for ``benchmark`` whose feature store has the video streams ``store``."""
    return build_small(CollaborativeExperts, ARGS, benchmark, store, **kw)


@pytest.fixture(scope="module", params=[UCF, XD])
def model(request):
    return build(request.param)


def test_registered():
    assert get_model("ce") is CollaborativeExperts


def test_shapes_and_loss(model):
    q, g, sim = loss_and_encodings(model, make_batch(model_ctx(model), batch_size=4))
    assert q["emb"].shape == (4, 2, 16) and q["weights"].shape == (4, 2)
    assert g["emb"].shape == (4, 2, 16)
    assert sim.shape == (4, 4)
    assert torch.allclose(g["emb"].norm(dim=-1), torch.ones(4, 2), atol=1e-5)
    assert model.loader_options() == {"max_snippets": 256}


@pytest.mark.parametrize("video_agg", ["avg", "max", "netvlad"])
def test_padding_does_not_change_embeddings(video_agg):
    model = build(XD, video_agg=video_agg, video_clusters=2).eval()
    ctx = make_ctx(XD)
    batch = make_batch(ctx, batch_size=3, lengths=[8, 5, 2])
    with torch.no_grad():
        g0, q0 = model.encode_gallery(batch)["emb"], model.encode_query(batch)["emb"]
        padded = pad_batch(batch, extra=5)
        g1, q1 = model.encode_gallery(padded)["emb"], model.encode_query(padded)["emb"]
        alone = {
            k: (
                v[2:3, :2]
                if k in ("rgb", "flow", "audio", "rgb_mask", "flow_mask", "audio_mask")
                else v
            )
            for k, v in batch.items()
        }
        g2 = model.encode_gallery(alone)["emb"]
    assert torch.allclose(g0, g1, atol=1e-5) and torch.allclose(q0, q1, atol=1e-5)
    assert torch.allclose(g0[2:3], g2, atol=1e-5)


def test_mixture_weights_are_a_softmax_over_experts(model):
    ctx = model_ctx(model)
    model.eval()
    with torch.no_grad():
        w = model.encode_query(make_batch(ctx, batch_size=5))["weights"]
    assert (w > 0).all()
    assert torch.allclose(w.sum(dim=1), torch.ones(5), atol=1e-6)


def test_similarity_is_the_weighted_sum_of_expert_cosines(model):
    ctx = model_ctx(model)
    model.eval()
    with torch.no_grad():
        q = model.encode_query(make_batch(ctx, batch_size=3, seed=1))
        g = model.encode_gallery(make_batch(ctx, batch_size=5, seed=2))
        sim = model.similarity(q, g)
    expected = torch.zeros(3, 5)
    for i in range(3):
        for j in range(5):
            for e in range(2):
                expected[i, j] += q["weights"][i, e] * F.cosine_similarity(
                    q["emb"][i, e], g["emb"][j, e], dim=0
                )
    assert torch.allclose(sim, expected, atol=1e-5)


def test_collaborative_gating_uses_the_other_expert():
    model = build(XD).eval()
    batch = make_batch(make_ctx(XD), batch_size=3)
    with torch.no_grad():
        x = model.expert_inputs(batch)
        gates = model.gating.attention(x)
        emb = model.encode_gallery(batch)["emb"]
        changed = dict(batch, flow=batch["flow"] + torch.randn_like(batch["flow"]))
        emb2 = model.encode_gallery(changed)["emb"]
    for k, s in enumerate(model.streams):
        assert ((gates[s] > 0) & (gates[s] < 1)).all()
        assert torch.allclose(emb[:, k], F.normalize(x[s] * gates[s], dim=-1), atol=1e-6)
    # rgb's features did not change, but its gate reads flow: the rgb embedding moves.
    assert not torch.allclose(emb[:, 0], emb2[:, 0], atol=1e-4)


def test_single_expert_gates_itself():
    model = build(XD, store=("rgb",)).eval()
    batch = make_batch(make_ctx(XD, ("rgb",)), batch_size=3)
    with torch.no_grad():
        emb = model.encode_gallery(batch)["emb"]
    assert model.streams == ("rgb",) and emb.shape == (3, 1, 16)
    assert torch.isfinite(emb).all()


def test_gradient_reaches_every_trainable_part(model):
    # The frozen text encoder holds CE's frozen word vectors (as its word2vec).
    gradient_reaches_all_but_frozen_text(model, make_batch(model_ctx(model), batch_size=4))


def test_contextual_word_vectors():
    model = build(UCF, word_vectors="contextual").eval()
    with torch.no_grad():
        q = model.encode_query(make_batch(make_ctx(UCF), batch_size=2))
    assert q["emb"].shape == (2, 2, 16)


def test_bad_options_are_one_line_input_errors():
    with pytest.raises(InputError, match="video_agg"):
        build(XD, video_agg="median")
    with pytest.raises(InputError, match="word_vectors"):
        build(UCF, word_vectors="glove")
    with pytest.raises(InputError, match="streams"):
        build(XD, store=("rgb",), streams=["flow"])


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_tiny_config_forward_backward(benchmark):
    model, batch, cfg = tiny_forward_backward("ce", benchmark)
    model.eval()
    with torch.no_grad():
        assert model.similarity(model.encode_query(batch), model.encode_gallery(batch)).shape == (
            cfg.train.batch_size,
            cfg.train.batch_size,
        )
