"""The ALAN model: construction from configs, losses, encoding, similarity and determinism; the
options of the fidelity audit (issue 14), each with its formula checked, and the deviations that
used to be silent, named."""

from __future__ import annotations

import pytest
import torch

from var_bench.benchmarks import get_benchmark
from var_bench.errors import InputError
from var_bench.models.alan import ALAN, ALANConfig
from var_bench.models.alan.encoders import QueryHead
from var_bench.models.alan.phrases import TABLE_VI_VARIANTS
from var_bench.models.base import ModelContext
from var_bench.models.deviations import collect, disclosure_text
from var_bench.models.losses import max_margin_ranking_loss
from var_bench.models.registry import get_model
from var_bench.training.config import load_config

from ..baselines.fakebatch import UCF, make_batch, make_ctx

TINY = dict(
    d=16,
    n=6,
    self_layers=1,
    heads=2,
    text_model="offline",
    text_freeze=True,
    text_cache=True,
    vpmpm_heads=2,
    detector_dropout=0.0,
    dropout=0.0,
)
DIMS = {"rgb": 12, "flow": 10, "audio": 8}
CAPTIONS = [
    "A shirtless man deliberately knocked down multiple shelves.",
    "A man jumped over the table and opened the drawer.",
    "At night, a car was parked on the road.",
    "Two men were fighting in the yard.",
]


def _ctx(bench="ucfcrime-ar", streams=("rgb", "flow")):
    spec = get_benchmark(bench)
    return ModelContext(spec, spec.query_modality, tuple(streams), dict(DIMS))


def _batch(lengths=(20, 5, 1, 12), t=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    t = t or int(lengths.max())
    b = len(lengths)
    mask = torch.arange(t)[None] < lengths[:, None]
    return {
        "rgb": torch.randn(b, t, 12, generator=g),
        "flow": torch.randn(b, t, 10, generator=g),
        "audio": torch.randn(b, t, 8, generator=g),
        "rgb_mask": mask,
        "flow_mask": mask,
        "audio_mask": mask,
        "length": lengths,
        "video_label": (torch.arange(b) % 2 == 0).float(),
        "text": CAPTIONS[:b],
    }


@pytest.fixture(scope="module")
def offline_env():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def ucf_model(offline_env):
    torch.manual_seed(0)
    return ALAN.from_config(TINY, _ctx())


def test_registered_under_alan():
    assert get_model("alan") is ALAN


@pytest.mark.parametrize("name", ["ucfcrime-ar", "xdviolence-ar", "tiny"])
def test_shipped_configs_load_through_the_trainer_config(name):
    cfg = load_config(name, model="alan")
    assert cfg.model == "alan" and cfg.source.endswith(f"{name}.yaml")
    parsed = ALANConfig.from_args(cfg.model_args)
    if name != "tiny":  # the paper's hyper-parameters
        assert (parsed.d, parsed.n, parsed.tau, parsed.alpha, parsed.margin) == (
            768,
            50,
            0.7,
            0.5,
            0.05,
        )
        assert (parsed.w_rank, parsed.w_topk) == (1.0, 0.1)
        assert (cfg.train.lr, cfg.train.lr_decay, cfg.train.batch_size) == (5e-5, 0.95, 64)
    if name == "ucfcrime-ar":
        assert parsed.w_mpm == 0.01 and parsed.text_dropout == 0.3
        assert cfg.text_model == "bert-base-cased"


def test_bad_model_args_are_one_line_input_errors():
    with pytest.raises(InputError, match="unknown"):
        ALANConfig.from_args({"dd": 3})
    with pytest.raises(InputError, match="detector_input"):
        ALANConfig.from_args({"detector_input": "audio"})
    with pytest.raises(InputError, match="sequences"):
        ALANConfig.from_args({"sequences": ["fs", "fs"]})
    with pytest.raises(InputError, match="position_embedding one of"):
        ALANConfig.from_args({"position_embedding": "rotary"})
    assert ALANConfig.from_args({"position_embedding": "sinusoidal"}).position_embedding == (
        "sinusoidal"
    )


@pytest.mark.parametrize("streams", [("rgb",), ("rgb", "flow")])
def test_builds_with_rgb_only_or_both_streams(offline_env, streams):
    torch.manual_seed(0)
    model = ALAN.from_config({**TINY, "detector_input": "rgb+flow"}, _ctx(streams=streams))
    assert model.streams == streams
    assert model.detector.convs[0].in_channels == sum(DIMS[s] for s in streams)
    out = model(_batch())
    assert {"loss", "rank", "topk", "mpm"} <= set(out)
    assert all(torch.isfinite(v) for v in out.values())
    out["loss"].backward()
    assert model.video.project["rgb"].weight.grad is not None
    assert model.loader_options() == {"max_snippets": 512}


def test_total_loss_uses_the_paper_weights(ucf_model):
    model = ucf_model.train()
    model.zero_grad()
    torch.manual_seed(1)
    out = model(_batch())
    expected = out["rank"] + 0.1 * out["topk"] + 0.01 * out["mpm"]
    assert out["loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert out["mpm"] > 0


def test_detector_learns_only_from_its_topk_loss(offline_env):
    # Ranking and VPMPM send no gradient into the detector: sampling is not differentiable.
    torch.manual_seed(0)
    model = ALAN.from_config({**TINY, "w_topk": 0.0}, _ctx())
    model(_batch())["loss"].backward()
    assert all(p.grad is None or not p.grad.any() for p in model.detector.parameters())
    assert model.video.project["rgb"].weight.grad.any()


def test_ranking_loss_hand_computed_and_used_by_forward(ucf_model):
    sim = torch.tensor([[0.5, 0.2], [0.6, 0.1]])
    # rows: relu(.05 + .2 - .5) = 0, relu(.05 + .6 - .1) = .55 -> .275
    # cols: relu(.05 + .6 - .5) = .15, relu(.05 + .2 - .1) = .15 -> .15
    # MMT's single mean over the 4 terms: (.55 + .15 + .15) / 4 = .2125; the "sum" rule .425.
    assert max_margin_ranking_loss(sim, 0.05).item() == pytest.approx(0.2125)
    assert max_margin_ranking_loss(sim, 0.05, "sum").item() == pytest.approx(0.425)
    model = ucf_model.eval()
    batch = _batch()
    with torch.no_grad():
        sim = model.similarity(model.encode_query(batch), model.encode_gallery(batch))
        out = model(batch)
    assert out["rank"].item() == pytest.approx(max_margin_ranking_loss(sim, 0.05).item(), rel=1e-5)


def test_similarity_is_alpha_mix_of_weighted_cls_and_avg_cosines(ucf_model):
    model = ucf_model.eval()
    batch = _batch()
    with torch.no_grad():
        q, v = model.encode_query(batch), model.encode_gallery(batch)
        s = model.similarity(q, v)
    assert s.shape == (4, 4)
    s_g = sum(
        q["w_g"][:, i : i + 1] * (q[f"g_{st}"] @ v[f"g_{st}"].t())
        for i, st in enumerate(model.streams)
    )
    s_h = sum(
        q["w_h"][:, i : i + 1] * (q[f"h_{st}"] @ v[f"h_{st}"].t())
        for i, st in enumerate(model.streams)
    )
    assert torch.allclose(s, 0.5 * s_g + 0.5 * s_h, atol=1e-6)
    for emb in (v["g_rgb"], v["h_flow"], q["g_rgb"], q["h_flow"]):
        assert torch.allclose(emb.norm(dim=-1), torch.ones(4), atol=1e-5)


def test_evaluation_is_deterministic_and_independent_of_batch_padding(ucf_model):
    model = ucf_model.eval()
    batch = _batch()
    with torch.no_grad():
        a = model.encode_gallery(batch)
        b = model.encode_gallery(batch)
        # the same 5-snippet video (row 1 of `batch`) encoded alone, without the batch's padding
        short = {
            k: (v[1:2, :5] if torch.is_tensor(v) and v.dim() >= 2 else v) for k, v in batch.items()
        }
        short["length"], short["video_label"], short["text"] = (
            torch.tensor([5]),
            batch["video_label"][1:2],
            batch["text"][1:2],
        )
        alone = model.encode_gallery(short)
    for key in a:
        assert torch.equal(a[key], b[key])
        assert torch.allclose(alone[key][0], a[key][1], atol=1e-5)


def test_short_and_one_snippet_videos(ucf_model):
    model = ucf_model.train()
    out = model(_batch(lengths=(1, 1, 2, 3)))  # every video shorter than N = 6
    assert torch.isfinite(out["loss"])
    model.eval()
    with torch.no_grad():
        v = model.encode_gallery(_batch(lengths=(1, 1, 2, 3)))
    assert all(torch.isfinite(t).all() for t in v.values())


def test_audio_queries_on_xdviolence(offline_env):
    torch.manual_seed(0)
    model = ALAN.from_config({**TINY, "w_mpm": 0.0}, _ctx("xdviolence-ar", ("rgb",)))
    assert model.text is None and model.vpmpm_module is None
    out = model(_batch())
    assert out["mpm"].item() == 0.0 and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert model.audio_detector.convs[0].weight.grad is not None  # its own top-k loss
    model.eval()
    with torch.no_grad():
        q = model.encode_query(_batch())
        s = model.similarity(q, model.encode_gallery(_batch()))
    assert s.shape == (4, 4) and q["w_g"].shape == (4, 1)


def test_fs_only_and_as_only_ablations(offline_env):
    for seqs in (["fs"], ["as"]):
        torch.manual_seed(0)
        model = ALAN.from_config(
            {**TINY, "sequences": seqs, "vpmpm": False}, _ctx(streams=("rgb",))
        )
        assert torch.isfinite(model(_batch())["loss"])


# ------------------------------------------------------------ options of the fidelity audit
# Tiny ALANs on the baseline tests' fake contexts and batches (which also hold a CLIP stream).

ALAN_TINY = dict(
    d=16,
    n=4,
    self_layers=1,
    heads=2,
    text_model="offline",
    text_freeze=True,
    text_cache=True,
    vpmpm_heads=2,
    detector_dropout=0.0,
    dropout=0.0,
    text_max_length=24,
)


def _alan(streams=("rgb", "flow"), bench=UCF, **kw):
    torch.manual_seed(0)
    return ALAN.from_config({**ALAN_TINY, **kw}, make_ctx(bench, streams))


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
    m = ALAN.from_config(
        {**ALAN_TINY, "streams": list(three), "vpmpm": False}, make_ctx(UCF, three)
    )
    assert m.streams == ("rgb", "flow", "clip")
    assert [d.key for d in collect(m)] == ["alan.streams"]
    assert "other 2 concatenated" in collect(m)[0].message
    loss = m(make_batch(make_ctx(UCF, three), 4))["loss"]
    assert torch.isfinite(loss)
    loss.backward()
    assert m.video.project["clip"].weight.grad.abs().sum() > 0  # the CLIP stream is learnt from
    alone = ALAN.from_config(
        {**ALAN_TINY, "streams": ["clip"], "vpmpm": False}, make_ctx(UCF, ("clip",))
    )
    assert "clip: no Cross Encoder" in disclosure_text(collect(alone))
    assert torch.isfinite(alone(make_batch(make_ctx(UCF, ("clip",)), 4))["loss"])
    with pytest.raises(InputError, match="distinct video stream names"):
        ALAN.from_config({**ALAN_TINY, "streams": ["rgb", "rgb"]}, make_ctx(UCF))


def test_alan_runs_each_table_vi_variant():
    batch = make_batch(make_ctx(UCF), 3)
    for kinds in TABLE_VI_VARIANTS.values():
        out = _alan(vpmpm_kinds=list(kinds), w_mpm=0.01)(batch)
        assert torch.isfinite(out["loss"]) and out["mpm"] > 0
    with pytest.raises(InputError, match="vpmpm_kinds"):
        _alan(vpmpm_kinds=["XP"])
