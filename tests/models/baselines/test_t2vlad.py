"""T2VLAD: shapes, padding, shared centres and the local/global alignment, gradients, tiny
config."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from var_bench.errors import InputError
from var_bench.models.baselines.t2vlad import T2VLAD
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
    "clusters": 3,
    "layers": 1,
    "heads": 2,
    "max_tokens": 12,
    "audio_layers": 1,
    "audio_heads": 2,
}


def build(benchmark: str, store=("rgb", "flow"), **kw) -> T2VLAD:
    """A small T2VLAD for ``benchmark`` whose feature store has the video streams ``store``."""
    return build_small(T2VLAD, ARGS, benchmark, store, **kw)


@pytest.fixture(scope="module", params=[UCF, XD])
def model(request):
    return build(request.param)


def test_registered():
    assert get_model("t2vlad") is T2VLAD


def test_shapes_and_loss(model):
    q, g, sim = loss_and_encodings(model, make_batch(model_ctx(model), batch_size=4))
    assert q["local"].shape == (4, 3 * 16) and g["local"].shape == (4, 3 * 16)
    assert q["emb"].shape == (4, 2, 16) and g["emb"].shape == (4, 2, 16)
    assert q["weights"].shape == (4, 2) and sim.shape == (4, 4)
    assert torch.allclose(q["weights"].sum(1), torch.ones(4), atol=1e-6)
    assert model.loader_options() == {"max_snippets": 12}


def test_padding_does_not_change_embeddings(model):
    batch = make_batch(model_ctx(model), batch_size=3, lengths=[8, 5, 2])
    encodings_ignore_padding(model, batch, extra=3, keys=("local", "emb"))


def test_local_similarity_is_the_mean_per_centre_cosine(model):
    model.eval()
    ctx = model_ctx(model)
    with torch.no_grad():
        q = model.encode_query(make_batch(ctx, batch_size=3, seed=1))
        g = model.encode_gallery(make_batch(ctx, batch_size=4, seed=2))
        local = model.local_similarity(q, g)
    qk, gk = q["local"].view(3, 3, 16), g["local"].view(4, 3, 16)
    per_centre = F.cosine_similarity(qk[:, None], gk[None, :], dim=-1)  # [3, 4, K]
    assert torch.allclose(local, per_centre.mean(-1), atol=1e-5)


def test_text_and_video_share_one_set_of_centres(model):
    model.eval()
    ctx = model_ctx(model)
    batch = make_batch(ctx, batch_size=2)
    with torch.no_grad():
        q0, g0 = model.encode_query(batch)["local"], model.encode_gallery(batch)["local"]
        saved = model.vlad.centroids.clone()
        model.vlad.centroids.add_(torch.randn_like(saved))
        q1, g1 = model.encode_query(batch)["local"], model.encode_gallery(batch)["local"]
        model.vlad.centroids.copy_(saved)
    # Moving the centres moves both sides: one NetVLAD for text and video.
    assert not torch.allclose(q0, q1, atol=1e-4) and not torch.allclose(g0, g1, atol=1e-4)


def test_similarity_mixes_global_and_local():
    model = build(XD).eval()
    batch = make_batch(make_ctx(XD), batch_size=3)
    with torch.no_grad():
        q, g = model.encode_query(batch), model.encode_gallery(batch)
        glob, loc = model.global_similarity(q, g), model.local_similarity(q, g)
        assert torch.allclose(model.similarity(q, g), 0.5 * glob + 0.5 * loc, atol=1e-6)
        cos = torch.stack(
            [
                F.cosine_similarity(q["emb"][:, None, e], g["emb"][None, :, e], dim=-1)
                for e in range(2)
            ],
            dim=-1,
        )
        assert torch.allclose(glob, (cos * q["weights"][:, None]).sum(-1), atol=1e-5)
        model.local_weight = 1.0
        assert torch.allclose(model.similarity(q, g), loc)


def test_self_attention_mixes_the_experts_local_features():
    model = build(XD).eval()
    batch = make_batch(make_ctx(XD), batch_size=2)
    feats = {s: batch[s] for s in model.streams}
    masks = {s: batch[f"{s}_mask"] for s in model.streams}
    with torch.no_grad():
        x0, _ = model.local_video(feats, masks)
        x1, mask = model.local_video(dict(feats, flow=torch.randn_like(feats["flow"])), masks)
    assert mask.shape == (2, 16)
    # The first 8 positions are rgb snippets: they read the (changed) flow snippets.
    assert not torch.allclose(x0[:, :8], x1[:, :8], atol=1e-4)


def test_gradient_reaches_every_trainable_part(model):
    gradient_reaches_all_but_frozen_text(model, make_batch(model_ctx(model), batch_size=4))


def test_dim_follows_the_text_model_when_unset():
    model = build(UCF, dim=None)
    assert model.vlad.dim == model.text_encoder.hidden_size
    assert isinstance(model.word_proj, torch.nn.Identity)


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="local_weight"):
        build(XD, local_weight=1.5)
    with pytest.raises(InputError, match="streams"):
        build(XD, store=("rgb",), streams=["flow"])


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_tiny_config_forward_backward(benchmark):
    tiny_forward_backward("t2vlad", benchmark)
