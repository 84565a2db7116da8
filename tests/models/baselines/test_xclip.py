"""X-CLIP: shapes and masks, the four similarities with attention over similarity matrices,
gradients, and the tiny config on CPU."""

from __future__ import annotations

import pytest
import torch

from var_bench.models.baselines import xclip
from var_bench.models.baselines.xclip import XCLIP, aosm, four_similarities
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

ARGS = dict(dim=16, layers=1, heads=2, num_snippets=12)


@pytest.fixture(scope="module", params=[UCF, XD])
def model(request):
    m, _ = build("xclip", request.param, **ARGS)
    return m


def _aosm_loop(values: list[float], tau: float) -> float:
    v = torch.tensor(values, dtype=torch.float64)
    return float((torch.softmax(v / tau, 0) * v).sum())


def _reference(s, w, wm, v, f, fm, tau):
    """The four similarities pair by pair, over the real words / frames only."""
    out = {
        k: torch.zeros(s.shape[0], v.shape[0], dtype=torch.float64)
        for k in ("video_sentence", "video_word", "sentence_frame", "frame_word")
    }
    for q in range(s.shape[0]):
        words = w[q][wm[q]].double()
        for j in range(v.shape[0]):
            frames = f[j][fm[j]].double()
            out["video_sentence"][q, j] = float(s[q].double() @ v[j].double())
            out["video_word"][q, j] = _aosm_loop((words @ v[j].double()).tolist(), tau)
            out["sentence_frame"][q, j] = _aosm_loop((frames @ s[q].double()).tolist(), tau)
            m = frames @ words.t()  # [F, W]
            per_frame = [_aosm_loop(m[i].tolist(), tau) for i in range(m.shape[0])]
            per_word = [_aosm_loop(m[:, k].tolist(), tau) for k in range(m.shape[1])]
            out["frame_word"][q, j] = 0.5 * (_aosm_loop(per_frame, tau) + _aosm_loop(per_word, tau))
    return out


def test_registered():
    assert get_model("xclip") is XCLIP


def test_shapes_and_keys(model):
    batch = shapes_batch(model)
    g, q, s = eval_encodings(model, batch, 3)
    assert g["video"].shape == (5, 16) and g["frames"].shape == (5, 10, 16)
    assert g["frames_mask"].tolist() == batch["rgb_mask"].tolist()
    assert q["sentence"].shape == (5, 16) and q["words"].shape[0] == 5
    assert torch.allclose(g["video"].norm(dim=-1), torch.ones(5))
    assert s.shape == (3, 5) and torch.isfinite(s).all()
    assert s.abs().max() <= 1.0 + 1e-5  # a mean of four cosine-bounded terms


def test_padding_does_not_change_scores(model):
    batch, padded = padding_batches(model)
    s = evaluate_pair(model, batch, batch)
    assert torch.allclose(s, evaluate_pair(model, batch, padded), atol=1e-5)
    assert torch.allclose(s, evaluate_pair(model, padded, padded), atol=1e-5)


def test_padding_would_matter_without_mask(model):
    """The padding check above has teeth: the same padded values unmasked change the scores."""
    batch, padded = padding_batches(model)
    assert not torch.allclose(
        evaluate_pair(model, batch, batch), evaluate_pair(model, batch, unmask(padded)), atol=1e-4
    )


def test_four_similarities_match_pairwise_reference():
    g = torch.Generator().manual_seed(3)

    def unit(*shape):
        return torch.nn.functional.normalize(torch.randn(*shape, generator=g), dim=-1)

    s, w, v, f = unit(3, 8), unit(3, 5, 8), unit(4, 8), unit(4, 6, 8)
    wm = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=torch.bool)
    fm = torch.tensor(
        [[1] * 6, [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1] * 5 + [0]], dtype=torch.bool
    )
    for tau in (0.01, 0.3):
        got = four_similarities(s, w, wm, v, f, fm, tau)
        want = _reference(s, w, wm, v, f, fm, tau)
        for key in want:
            assert torch.allclose(got[key].double(), want[key], atol=1e-5), key


def test_similarity_is_the_mean_of_the_four_terms(model):
    batch = make_batch(model_ctx(model), 4, 8, lengths=[8, 2, 5, 8], seed=2)
    model.eval()
    with torch.no_grad():
        q, g = model.encode_query(batch), model.encode_gallery(batch)
        parts = four_similarities(
            q["sentence"],
            q["words"],
            q["words_mask"],
            g["video"],
            g["frames"],
            g["frames_mask"],
            model.tau,
        )
        assert torch.allclose(model.similarity(q, g), sum(parts.values()) / 4, atol=1e-6)


def test_aosm_interpolates_between_mean_and_max():
    x = torch.tensor([[0.1, 0.5, -0.2, 0.3]])
    mask = torch.tensor([[True, True, True, False]])
    assert torch.allclose(aosm(x, mask, -1, 1e3), torch.tensor([0.4 / 3]), atol=1e-3)  # mean
    assert torch.allclose(aosm(x, mask, -1, 1e-4), torch.tensor([0.5]), atol=1e-6)  # max
    assert aosm(x, torch.zeros_like(mask), -1, 0.01).item() == 0.0  # empty


def test_xclip_mat_weights_identity_at_init_then_bilinear():
    """Issue 14: the optional MAT weights of the fine-grained similarities (``mat_weights``):
    identity weights give the plain cosines, a weight W gives s W v^T."""
    torch.manual_seed(0)
    n = torch.nn.functional.normalize
    s, w, v, f = (
        n(torch.randn(2, 8), dim=-1),
        n(torch.randn(2, 3, 8), dim=-1),
        n(torch.randn(3, 8), dim=-1),
        n(torch.randn(3, 4, 8), dim=-1),
    )
    wm, fm = torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 4, dtype=torch.bool)
    plain = four_similarities(s, w, wm, v, f, fm, 0.01)
    eye = four_similarities(s, w, wm, v, f, fm, 0.01, torch.eye(8), torch.eye(8))
    assert all(torch.allclose(plain[k], eye[k]) for k in plain)
    W = torch.randn(8, 8)
    bil = four_similarities(s, w, wm, v, f, fm, 0.01, W, None)
    assert torch.allclose(bil["video_sentence"], s @ W @ v.t(), atol=1e-6)
    m = XCLIP.from_config(
        {"dim": 16, "layers": 1, "heads": 2, "num_snippets": 4, "text": TEXT, "mat_weights": True},
        make_ctx(UCF),
    )
    assert m.global_mat_weight.shape == (16, 16)
    assert (
        XCLIP.from_config(
            {"dim": 16, "layers": 1, "heads": 2, "num_snippets": 4, "text": TEXT}, make_ctx(UCF)
        ).global_mat_weight
        is None
    )


def test_similarity_blocks_equal_one_block(model, monkeypatch):
    blocks_equal_one_block(model, xclip, monkeypatch)


@pytest.mark.parametrize("benchmark", [UCF, XD])
def test_gradient_reaches_every_trainable_parameter(benchmark):
    m, ctx = build("xclip", benchmark, **ARGS)
    m.train()
    out = m(make_batch(ctx, 4, 12, seed=5))
    assert set(out) >= {"loss", "infonce"} and out["loss"].dim() == 0
    out["loss"].backward()
    assert parameters_without_gradient(m) == []
    if benchmark == UCF:  # the frozen offline text encoder is not trained
        assert not any(p.requires_grad for p in m.text_encoder.parameters())


@pytest.mark.parametrize("benchmark", [UCF, XD])
@pytest.mark.parametrize("streams", [("rgb",), ("rgb", "flow")])
def test_tiny_config_trains_on_cpu(benchmark, streams):
    m, ctx, cfg = tiny_model("xclip", benchmark, streams)
    assert m.streams == streams
    opts = m.loader_options()
    assert opts["sample"] == "random" and m.eval_loader_options()["sample"] == "uniform"
    losses_decrease(m, make_batch(ctx, 6, opts["n"], seed=6), cfg.train.lr)
