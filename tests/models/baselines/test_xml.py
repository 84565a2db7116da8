"""XML: shapes and masks, modular queries, the max-over-snippets video score, gradients and the
tiny config on CPU."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from var_bench.models.baselines import xml_baseline as xml
from var_bench.models.baselines.xml_baseline import XML, max_snippet_scores, modular_queries
from var_bench.models.registry import get_model

from .checks import (
    blocks_equal_one_block,
    eval_encodings,
    losses_decrease,
    model_ctx,
    padding_batches,
    shapes_batch,
    tiny_model,
    unmask,
)
from .fakebatch import (
    TEXT,
    UCF,
    XD,
    build,
    evaluate_pair,
    make_batch,
    make_ctx,
    parameters_without_gradient,
)

ARGS = dict(hidden=16, heads=2, max_snippets=12)


@pytest.fixture(scope="module", params=[UCF, XD])
def model(request):
    m, _ = build("xml", request.param, **ARGS)
    return m


def test_registered():
    assert get_model("xml") is XML


def test_shapes_and_keys(model):
    batch = shapes_batch(model)
    g, q, s = eval_encodings(model, batch, 2)
    assert model.streams == ("rgb", "flow")
    for stream in model.streams:
        assert g[stream].shape == (5, 10, 16)
        assert g[f"{stream}_mask"].tolist() == batch[f"{stream}_mask"].tolist()
    assert q["modular"].shape == (5, 2, 16)  # one query vector per video modality
    assert s.shape == (2, 5) and (s.abs() <= 1 + 1e-6).all()


def test_padding_does_not_change_scores(model):
    batch, padded = padding_batches(model)
    s = evaluate_pair(model, batch, batch)
    assert torch.allclose(s, evaluate_pair(model, batch, padded), atol=1e-5)
    assert torch.allclose(s, evaluate_pair(model, padded, padded), atol=1e-5)
    # The same padding, unmasked, matters.
    assert not torch.allclose(s, evaluate_pair(model, batch, unmask(padded)), atol=1e-4)


def test_score_is_the_max_over_snippets_of_the_cosine(model):
    """s(q, v) = mean over modalities m of max_t cos(q^m, h^m_t), real snippets only."""
    batch = make_batch(model_ctx(model), 4, 8, lengths=[8, 2, 5, 8], seed=2)
    model.eval()
    with torch.no_grad():
        q, g = model.encode_query(batch), model.encode_gallery(batch)
        got = model.similarity(q, g)
    want = torch.zeros(4, 4)
    for i in range(4):
        for j in range(4):
            per_stream = []
            for m, s in enumerate(model.streams):
                real = g[s][j][g[f"{s}_mask"][j]]
                per_stream.append(F.cosine_similarity(q["modular"][i, m][None], real, dim=-1).max())
            want[i, j] = torch.stack(per_stream).mean()
    assert torch.allclose(got, want, atol=1e-5)


def test_max_snippet_scores_ignores_padded_snippets():
    q = torch.tensor([[1.0, 0.0]])
    snippets = torch.tensor([[[0.0, 1.0], [1.0, 1.0], [5.0, 0.0]]])  # the padded one is the best
    mask = torch.tensor([[True, True, False]])
    assert torch.allclose(max_snippet_scores(q, snippets, mask), torch.tensor([[2**-0.5]]))
    assert max_snippet_scores(q, snippets, torch.zeros_like(mask)).item() == -1.0


def test_modular_attention_weights_sum_to_one_over_real_tokens():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(2, 5, 4, generator=g)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    weights = torch.nn.Linear(4, 3, bias=False)
    q = modular_queries(tokens, mask, weights)
    assert q.shape == (2, 3, 4)
    # Each modular query is a convex combination of the real tokens: solve for the weights.
    for b in range(2):
        real = tokens[b][mask[b]]  # [W, 4]
        att = torch.softmax(weights(real), dim=0)  # [W, 3]
        assert torch.allclose(q[b], att.t() @ real, atol=1e-6)
    changed = tokens.clone()
    changed[1, 2:] = 100.0  # padded tokens: no influence
    assert torch.allclose(modular_queries(changed, mask, weights)[1], q[1])


def test_similarity_blocks_equal_one_block(model, monkeypatch):
    blocks_equal_one_block(model, xml, monkeypatch)


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_gradient_reaches_every_trainable_parameter(benchmark):
    m, ctx = build("xml", benchmark, **ARGS)
    m.train()
    out = m(make_batch(ctx, 6, 12, lengths=[12, 5, 12, 9, 3, 12], seed=5))
    assert set(out) >= {"loss", "ranking"} and out["loss"].dim() == 0
    out["loss"].backward()
    assert parameters_without_gradient(m) == []


def test_rgb_only_has_one_modular_query():
    m, ctx = build("xml", XD, streams=("rgb",), **ARGS)
    assert m.streams == ("rgb",) and m.modular.out_features == 1
    s = evaluate_pair(m, make_batch(ctx, 3, 5), make_batch(ctx, 3, 5))
    assert s.shape == (3, 3)


def test_xml_hard_negatives_count_steps_and_switch_pool():
    """Issue 14: with ``hard_negatives`` XML counts its training steps (kept in the state dict;
    the negative pool switches at ``hard_start_step``); without it, no counter is saved."""
    torch.manual_seed(0)
    m = XML.from_config(
        {
            "hidden": 16,
            "heads": 2,
            "max_snippets": 8,
            "text": TEXT,
            "hard_negatives": True,
            "hard_pool": 1,
            "hard_start_step": 2,
        },
        make_ctx(UCF),
    )
    batch = make_batch(make_ctx(UCF), 4)
    for _ in range(3):
        assert torch.isfinite(m(batch)["loss"])
    assert int(m.train_steps) == 3 and "train_steps" in m.state_dict()
    assert (
        "train_steps"
        not in XML.from_config(
            {"hidden": 16, "heads": 2, "max_snippets": 8, "text": TEXT}, make_ctx(UCF)
        ).state_dict()
    )


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_tiny_config_trains_on_cpu(benchmark):
    m, ctx, cfg = tiny_model("xml", benchmark)
    opts = m.loader_options()
    assert opts == {"max_snippets": cfg.model_args["max_snippets"]}
    batch = make_batch(ctx, 6, opts["max_snippets"], lengths=[16, 3, 9, 16, 12, 7], seed=6)
    losses_decrease(m, batch, cfg.train.lr)
