"""MMT: shapes, padding, [AGG] outputs with expert and time embeddings, mixture weights,
gradients, tiny config."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from var_bench.errors import InputError
from var_bench.models.baselines.mmt import MultiModalTransformer
from var_bench.models.registry import get_model

from .checks import (
    build_small,
    encodings_ignore_padding,
    gradient_reaches_all_but_frozen_text,
    loss_and_encodings,
    model_ctx,
    tiny_forward_backward,
)
from .fakebatch import UCF, XD, make_batch, make_ctx

ARGS = {
    "dim": 16,
    "layers": 2,
    "heads": 2,
    "ff_dim": 32,
    "max_tokens": 12,
    "audio_layers": 1,
    "audio_heads": 2,
}


def build(benchmark: str, store=("rgb", "flow"), **kw) -> MultiModalTransformer:
    """A small MMT for ``benchmark`` whose feature store has the video streams ``store``."""
    return build_small(MultiModalTransformer, ARGS, benchmark, store, **kw)


@pytest.fixture(scope="module", params=[UCF, XD])
def model(request):
    return build(request.param)


def test_registered():
    assert get_model("mmt") is MultiModalTransformer


def test_shapes_and_loss(model):
    q, g, sim = loss_and_encodings(model, make_batch(model_ctx(model), batch_size=4))
    assert q["emb"].shape == (4, 2, 16) and q["weights"].shape == (4, 2)
    assert g["emb"].shape == (4, 2, 16) and sim.shape == (4, 4)
    assert torch.allclose(g["emb"].norm(dim=-1), torch.ones(4, 2), atol=1e-5)
    assert torch.allclose(q["weights"].sum(1), torch.ones(4), atol=1e-6)
    assert model.loader_options() == {"max_snippets": 12}


def test_padding_does_not_change_embeddings(model):
    batch = make_batch(model_ctx(model), batch_size=3, lengths=[8, 5, 2])
    encodings_ignore_padding(model, batch, extra=3)


def test_similarity_is_the_weighted_sum_of_agg_cosines(model):
    model.eval()
    ctx = model_ctx(model)
    with torch.no_grad():
        q = model.encode_query(make_batch(ctx, batch_size=3, seed=1))
        g = model.encode_gallery(make_batch(ctx, batch_size=4, seed=2))
        sim = model.similarity(q, g)
    cos = torch.stack(
        [F.cosine_similarity(q["emb"][:, None, e], g["emb"][None, :, e], dim=-1) for e in range(2)],
        dim=-1,
    )
    assert torch.allclose(sim, (cos * q["weights"][:, None, :]).sum(-1), atol=1e-5)


def test_experts_attend_to_each_other():
    model = build(XD).eval()
    batch = make_batch(make_ctx(XD), batch_size=2)
    with torch.no_grad():
        emb = model.encode_gallery(batch)["emb"]
        emb2 = model.encode_gallery(dict(batch, flow=torch.randn_like(batch["flow"])))["emb"]
    # Only flow changed, yet the rgb [AGG] output moves: one transformer over all experts.
    assert not torch.allclose(emb[:, 0], emb2[:, 0], atol=1e-4)


def test_time_embedding_orders_the_snippets():
    model = build(XD).eval()
    batch = make_batch(make_ctx(XD), batch_size=2)
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(3))
    shuffled = dict(batch, rgb=batch["rgb"][:, perm], flow=batch["flow"][:, perm])
    with torch.no_grad():
        changed = not torch.allclose(
            model.encode_gallery(batch)["emb"], model.encode_gallery(shuffled)["emb"], atol=1e-5
        )
        model.video.time_embedding.weight.zero_()
        same = torch.allclose(
            model.encode_gallery(batch)["emb"], model.encode_gallery(shuffled)["emb"], atol=1e-5
        )
    # With time ids the order matters; without them attention is order-free.
    assert changed and same


def test_time_ids_are_clamped_beyond_max_tokens():
    model = build(XD, max_tokens=4).eval()
    batch = make_batch(make_ctx(XD), batch_size=2, length=9)
    with torch.no_grad():
        assert torch.isfinite(model.encode_gallery(batch)["emb"]).all()


@pytest.mark.parametrize("agg_init", ["mean", "zero"])
def test_other_agg_inits(agg_init):
    model = build(XD, agg_init=agg_init).eval()
    with torch.no_grad():
        assert model.encode_gallery(make_batch(make_ctx(XD), batch_size=2))["emb"].shape == (
            2,
            2,
            16,
        )


def test_gradient_reaches_every_trainable_part(model):
    gradient_reaches_all_but_frozen_text(model, make_batch(model_ctx(model), batch_size=4))


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="agg_init"):
        build(XD, agg_init="cls")
    with pytest.raises(InputError, match="streams"):
        build(XD, store=("rgb",), streams=["flow"])


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_tiny_config_forward_backward(benchmark):
    tiny_forward_backward("mmt", benchmark)
