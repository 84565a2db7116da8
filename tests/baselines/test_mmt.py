"""MMT: shapes, padding, [AGG] outputs with expert and time embeddings, mixture weights,
gradients, tiny config."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from var_bench.baselines.mmt import MultiModalTransformer
from var_bench.errors import InputError
from var_bench.training.config import load_config
from var_bench.training.registry import get_model

from .fakebatch import TEXT, UCF, XD, make_batch, make_ctx, pad_batch

ARGS = {"dim": 16, "layers": 2, "heads": 2, "ff_dim": 32, "max_tokens": 12, "audio_layers": 1,
        "audio_heads": 2}


def build(benchmark: str, store=("rgb", "flow"), **kw) -> MultiModalTransformer:
    """A small MMT for ``benchmark`` whose feature store has the video streams ``store``."""
    torch.manual_seed(0)
    args = {**ARGS, **kw}
    if benchmark == UCF:
        args["text"] = TEXT
    return MultiModalTransformer.from_config(args, make_ctx(benchmark, store))


@pytest.fixture(scope="module", params=[UCF, XD])
def model(request):
    return build(request.param)


def _ctx(model):
    return make_ctx(UCF if model.text_encoder is not None else XD)


def test_registered():
    assert get_model("mmt") is MultiModalTransformer


def test_shapes_and_loss(model):
    batch = make_batch(_ctx(model), batch_size=4)
    model.train()
    out = model(batch)
    assert out["loss"].dim() == 0 and torch.isfinite(out["loss"])
    model.eval()
    with torch.no_grad():
        q, g = model.encode_query(batch), model.encode_gallery(batch)
        sim = model.similarity(q, g)
    assert q["emb"].shape == (4, 2, 16) and q["weights"].shape == (4, 2)
    assert g["emb"].shape == (4, 2, 16) and sim.shape == (4, 4)
    assert torch.allclose(g["emb"].norm(dim=-1), torch.ones(4, 2), atol=1e-5)
    assert torch.allclose(q["weights"].sum(1), torch.ones(4), atol=1e-6)
    assert model.loader_options() == {"max_snippets": 12}


def test_padding_does_not_change_embeddings(model):
    model.eval()
    batch = make_batch(_ctx(model), batch_size=3, lengths=[8, 5, 2])
    with torch.no_grad():
        g0, q0 = model.encode_gallery(batch)["emb"], model.encode_query(batch)["emb"]
        padded = pad_batch(batch, extra=3)
        g1, q1 = model.encode_gallery(padded)["emb"], model.encode_query(padded)["emb"]
    assert torch.allclose(g0, g1, atol=1e-5) and torch.allclose(q0, q1, atol=1e-5)


def test_similarity_is_the_weighted_sum_of_agg_cosines(model):
    model.eval()
    ctx = _ctx(model)
    with torch.no_grad():
        q = model.encode_query(make_batch(ctx, batch_size=3, seed=1))
        g = model.encode_gallery(make_batch(ctx, batch_size=4, seed=2))
        sim = model.similarity(q, g)
    cos = torch.stack([F.cosine_similarity(q["emb"][:, None, e], g["emb"][None, :, e], dim=-1)
                       for e in range(2)], dim=-1)
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
        changed = not torch.allclose(model.encode_gallery(batch)["emb"],
                                     model.encode_gallery(shuffled)["emb"], atol=1e-5)
        model.video.time_embedding.weight.zero_()
        same = torch.allclose(model.encode_gallery(batch)["emb"],
                              model.encode_gallery(shuffled)["emb"], atol=1e-5)
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
        assert model.encode_gallery(make_batch(make_ctx(XD), batch_size=2))["emb"].shape == (2, 2, 16)


def test_gradient_reaches_every_trainable_part(model):
    model.train()
    model.zero_grad()
    model(make_batch(_ctx(model), batch_size=4))["loss"].backward()
    for name, p in model.named_parameters():
        if name.startswith("text_encoder."):
            assert not p.requires_grad  # frozen in this small configuration
            continue
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="agg_init"):
        build(XD, agg_init="cls")
    with pytest.raises(InputError, match="streams"):
        build(XD, store=("rgb",), streams=["flow"])


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_tiny_config_forward_backward(benchmark):
    cfg = load_config("tiny", model="mmt", benchmark=benchmark)
    ctx = make_ctx(benchmark)
    ctx = type(ctx)(**{**ctx.__dict__, "text_model": cfg.text_model})
    torch.manual_seed(0)
    model = get_model(cfg.model).from_config(cfg.model_args, ctx)
    batch = make_batch(ctx, batch_size=cfg.train.batch_size)
    loss = model(batch)["loss"]
    loss.backward()
    assert torch.isfinite(loss)
