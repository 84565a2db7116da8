"""The options the fidelity audit asked for (issue 14): each has its formula checked, and the
deviations that used to be silent are named."""

from __future__ import annotations

import os

import pytest
import torch

from var_bench.errors import InputError
from var_bench.models.alan import ALAN
from var_bench.models.alan.encoders import QueryHead
from var_bench.models.alan.phrases import TABLE_VI_VARIANTS
from var_bench.models.alan.vpmpm import PhraseMasker
from var_bench.models.baselines.xclip import XCLIP, four_similarities
from var_bench.models.baselines.xml_baseline import XML
from var_bench.models.baselines.mmt import MultiModalTransformer
from var_bench.models.deviations import Deviation, collect, disclosure_text
from var_bench.models.losses import max_margin_ranking_loss, sampled_negative_ranking_loss
from var_bench.models.modules import GatedEmbeddingUnit

from .baselines.fakebatch import TEXT, UCF, XD, make_batch, make_ctx

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ALAN_TINY = dict(d=16, n=4, self_layers=1, heads=2, text_model="offline", text_freeze=True,
                 text_cache=True, vpmpm_heads=2, detector_dropout=0.0, dropout=0.0,
                 text_max_length=24)
PAPER_EXAMPLE = "A shirtless man deliberately knocked down multiple shelves."


def _alan(streams=("rgb", "flow"), bench=UCF, **kw):
    torch.manual_seed(0)
    return ALAN.from_config({**ALAN_TINY, **kw}, make_ctx(bench, streams))


# ------------------------------------------------------------------ ALAN


def test_rank_reduction_sum_is_twice_mmt_in_the_forward_pass():
    batch = make_batch(make_ctx(UCF), 4)
    outs = {}
    for red in ("mmt", "sum"):
        m = _alan(rank_reduction=red, vpmpm=False).eval()
        with torch.no_grad():
            outs[red] = m(batch)["rank"].item()
    assert outs["sum"] == pytest.approx(2 * outs["mmt"], rel=1e-5)
    with pytest.raises(InputError, match="rank_reduction"):
        _alan(rank_reduction="mean")


def test_stream_weights_from_post_geu_embeddings():
    head = QueryHead(8, 6, ("rgb", "flow"), weights_from="embeddings")
    g, h = torch.randn(3, 8), torch.randn(3, 8)
    q = head(g, h)
    # w_s = softmax_s(u_s . g_ts + b_s): recomputed by hand from the GEU outputs.
    logits = torch.cat([head.weight_g[s](q.g[s]) for s in ("rgb", "flow")], dim=-1)
    assert torch.allclose(q.w_g, torch.softmax(logits, -1), atol=1e-6)
    assert torch.allclose(q.w_h.sum(-1), torch.ones(3))
    # The MMT form reads the pre-GEU vector: a Linear(in_dim, S).
    assert QueryHead(8, 6, ("rgb", "flow")).weight_g.in_features == 8
    m = _alan(weights_from="embeddings", vpmpm=False)
    assert torch.isfinite(m(make_batch(make_ctx(UCF), 4))["loss"])
    with pytest.raises(InputError, match="weights_from"):
        _alan(weights_from="video")


def test_alan_without_flow_names_the_deviation():
    assert collect(_alan(vpmpm=False)) == []
    devs = collect(_alan(streams=("rgb",), vpmpm=False))
    assert [d.key for d in devs] == ["alan.no_flow"]
    assert "no Cross Encoder" in devs[0].message
    assert disclosure_text(devs).startswith("alan.no_flow: ")
    assert disclosure_text([]) == "none"


def test_alan_on_rgb_flow_and_clip_trains_and_names_the_deviation():
    three = ("rgb", "flow", "clip")
    torch.manual_seed(0)
    m = ALAN.from_config({**ALAN_TINY, "streams": list(three), "vpmpm": False}, make_ctx(UCF, three))
    assert m.streams == ("rgb", "flow", "clip")
    assert [d.key for d in collect(m)] == ["alan.streams"]
    assert "other 2 concatenated" in collect(m)[0].message
    loss = m(make_batch(make_ctx(UCF, three), 4))["loss"]
    assert torch.isfinite(loss)
    loss.backward()
    assert m.video.project["clip"].weight.grad.abs().sum() > 0  # the CLIP stream is learnt from
    alone = ALAN.from_config({**ALAN_TINY, "streams": ["clip"], "vpmpm": False},
                             make_ctx(UCF, ("clip",)))
    assert "clip: no Cross Encoder" in disclosure_text(collect(alone))
    assert torch.isfinite(alone(make_batch(make_ctx(UCF, ("clip",)), 4))["loss"])
    with pytest.raises(InputError, match="distinct video stream names"):
        ALAN.from_config({**ALAN_TINY, "streams": ["rgb", "rgb"]}, make_ctx(UCF))


def test_text_fallback_is_a_named_deviation(monkeypatch):
    from var_bench.models import text as text_mod

    monkeypatch.setattr(text_mod, "resolve_text_model",
                        lambda name: (str(text_mod.offline_model_path()), True))
    enc = text_mod.TextEncoder("bert-base-cased", freeze=True)
    assert [d.key for d in collect(enc)] == ["text.fallback"]
    assert collect(text_mod.TextEncoder("offline", freeze=True)) == []


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from var_bench.models.text import offline_model_path

    return AutoTokenizer.from_pretrained(str(offline_model_path()))


def _masked_tokens(tokenizer, mask, ids):
    return tuple(tokenizer.convert_ids_to_tokens([ids[i] for i in mask.nonzero().ravel()]))


def test_table_vi_noun_and_verb_word_passes(tokenizer):
    masker = PhraseMasker(tokenizer, 64)
    ids = tokenizer(PAPER_EXAMPLE)["input_ids"]
    gen = torch.Generator().manual_seed(0)
    nouns = {_masked_tokens(tokenizer, masker.masks([PAPER_EXAMPLE], "N", len(ids), generator=gen)[0], ids)
             for _ in range(30)}
    verbs = {_masked_tokens(tokenizer, masker.masks([PAPER_EXAMPLE], "V", len(ids), generator=gen)[0], ids)
             for _ in range(30)}
    # Single noun words, never a whole phrase (spaCy's small model also tags "shirtless" NOUN).
    assert {("man",), ("shelves",)} <= nouns <= {("man",), ("shelves",), ("shirt", "##less")}
    assert verbs == {("knocked",)}
    assert TABLE_VI_VARIANTS == {"random_words": ("RW",), "noun_verb_words": ("N", "V"),
                                 "phrases": ("NP", "VP")}


def test_table_vi_random_words_pass(tokenizer):
    masker = PhraseMasker(tokenizer, 64)
    ids = tokenizer(PAPER_EXAMPLE)["input_ids"]
    gen = torch.Generator().manual_seed(0)
    counts = [int(masker.masks([PAPER_EXAMPLE], "RW", len(ids), generator=gen)[0].sum())
              for _ in range(200)]
    assert min(counts) >= 1                  # at least one word per caption
    # 8 words at rate 0.15 (at least one): about 1.5 tokens masked on average, never [CLS]/[SEP].
    assert 1.0 < sum(counts) / len(counts) < 2.5
    m = masker.masks([PAPER_EXAMPLE], "RW", len(ids), generator=gen)[0]
    assert not m[0] and not m[len(ids) - 1]


def test_alan_runs_each_table_vi_variant():
    batch = make_batch(make_ctx(UCF), 3)
    for kinds in TABLE_VI_VARIANTS.values():
        out = _alan(vpmpm_kinds=list(kinds), w_mpm=0.01)(batch)
        assert torch.isfinite(out["loss"]) and out["mpm"] > 0
    with pytest.raises(InputError, match="vpmpm_kinds"):
        _alan(vpmpm_kinds=["XP"])


# ------------------------------------------------------------------ baselines


def test_gated_unit_batch_norm_is_mmt_form():
    torch.manual_seed(0)
    geu = GatedEmbeddingUnit(5, 4, normalize=False, batch_norm=True).train()
    x = torch.randn(6, 5)
    y = geu.fc(x)
    gate = geu.gate(y)
    gate_bn = (gate - gate.mean(0)) / torch.sqrt(gate.var(0, unbiased=False) + geu.bn.eps)
    assert torch.allclose(geu(x), y * torch.sigmoid(gate_bn), atol=1e-5)
    assert GatedEmbeddingUnit(5, 4).bn is None
    m = MultiModalTransformer.from_config({"dim": 16, "layers": 1, "heads": 2, "text": TEXT,
                                           "geu_batch_norm": True}, make_ctx(UCF))
    assert all(u.bn is not None for u in m.query_units.values())


def test_xclip_mat_weights_identity_at_init_then_bilinear():
    torch.manual_seed(0)
    n = torch.nn.functional.normalize
    s, w, v, f = n(torch.randn(2, 8), dim=-1), n(torch.randn(2, 3, 8), dim=-1), \
        n(torch.randn(3, 8), dim=-1), n(torch.randn(3, 4, 8), dim=-1)
    wm, fm = torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 4, dtype=torch.bool)
    plain = four_similarities(s, w, wm, v, f, fm, 0.01)
    eye = four_similarities(s, w, wm, v, f, fm, 0.01, torch.eye(8), torch.eye(8))
    assert all(torch.allclose(plain[k], eye[k]) for k in plain)
    W = torch.randn(8, 8)
    bil = four_similarities(s, w, wm, v, f, fm, 0.01, W, None)
    assert torch.allclose(bil["video_sentence"], s @ W @ v.t(), atol=1e-6)
    m = XCLIP.from_config({"dim": 16, "layers": 1, "heads": 2, "num_snippets": 4, "text": TEXT,
                           "mat_weights": True}, make_ctx(UCF))
    assert m.global_mat_weight.shape == (16, 16)
    assert XCLIP.from_config({"dim": 16, "layers": 1, "heads": 2, "num_snippets": 4, "text": TEXT},
                             make_ctx(UCF)).global_mat_weight is None


def test_sampled_negative_loss_hand_values():
    sim = torch.tensor([[0.9, 0.5, 0.2], [0.6, 0.4, 0.3], [0.1, 0.8, 0.7]])
    # pool 1 = the hardest negative. Rows: max neg (.5, .6, .8) vs diag (.9, .4, .7), margin .1:
    #   relu(.1+.5-.9)=0, relu(.1+.6-.4)=.3, relu(.1+.8-.7)=.2 -> mean 1/6
    # Columns: max neg (.6, .8, .3): 0, relu(.1+.8-.4)=.5, 0 -> mean 1/6. Total 1/3.
    assert sampled_negative_ranking_loss(sim, 0.1, pool=1).item() == pytest.approx(1 / 3, abs=1e-6)
    # Pool of all negatives: the mean over draws approaches the per-row average.
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sampled_negative_ranking_loss(sim, 0.1, None, g) for _ in range(3000)])
    assert draws.mean().item() == pytest.approx(2 * max_margin_ranking_loss(sim, 0.1).item(), abs=0.01)


def test_xml_hard_negatives_count_steps_and_switch_pool():
    torch.manual_seed(0)
    m = XML.from_config({"hidden": 16, "heads": 2, "max_snippets": 8, "text": TEXT,
                         "hard_negatives": True, "hard_pool": 1, "hard_start_step": 2},
                        make_ctx(UCF))
    batch = make_batch(make_ctx(UCF), 4)
    for _ in range(3):
        assert torch.isfinite(m(batch)["loss"])
    assert int(m.train_steps) == 3 and "train_steps" in m.state_dict()
    assert "train_steps" not in XML.from_config({"hidden": 16, "heads": 2, "max_snippets": 8,
                                                 "text": TEXT}, make_ctx(UCF)).state_dict()
