"""Input plumbing shared by the baselines: stream selection, joined streams, masked softmax,
query tokens and text options."""

from __future__ import annotations

import pytest
import torch

from var_bench.errors import InputError
from var_bench.models.base import make_text_encoder, query_dim, select_streams
from var_bench.models.baselines._inputs import (
    audio_tokens,
    joined_streams,
    masked_softmax,
    stream_mask,
)

from .fakebatch import UCF, XD, make_batch, make_ctx


def test_select_streams_defaults_to_every_video_stream_in_order():
    assert select_streams(make_ctx(XD)) == ("rgb", "flow")  # audio is the query
    assert select_streams(make_ctx(UCF, ("rgb",))) == ("rgb",)
    assert select_streams(make_ctx(UCF), ["flow", "rgb"]) == ("rgb", "flow")


@pytest.mark.parametrize("requested", [["flow"], [], ["audio"]])
def test_select_streams_refuses_what_the_store_lacks(requested):
    with pytest.raises(InputError, match="model streams"):
        select_streams(make_ctx(XD, ("rgb",)), requested)


def test_joined_streams_concatenates_features_and_ands_masks():
    ctx = make_ctx(XD)
    batch = make_batch(ctx, 2, 5, lengths=[5, 3])
    batch["flow_mask"] = batch["flow_mask"].clone()
    batch["flow_mask"][0, 4] = False
    x, mask = joined_streams(batch, ("rgb", "flow"))
    assert x.shape == (2, 5, 24 + 20)
    assert mask.tolist() == [[True] * 4 + [False], [True] * 3 + [False] * 2]


def test_stream_mask_defaults_to_all_true_and_audio_tokens_need_audio():
    batch = {"rgb": torch.zeros(2, 3, 4)}
    assert stream_mask(batch, "rgb").all()
    with pytest.raises(InputError, match="audio"):
        audio_tokens(batch)
    with pytest.raises(InputError, match="audio"):
        query_dim(make_ctx(UCF))
    assert query_dim(make_ctx(XD)) == 12


def test_masked_softmax_gives_zero_weight_to_masked_positions():
    logits = torch.tensor([[1.0, 2.0, 50.0], [3.0, 3.0, 3.0]])
    mask = torch.tensor([[True, True, False], [False, False, False]])
    w = masked_softmax(logits, mask, dim=-1)
    want = torch.cat([torch.softmax(torch.tensor([1.0, 2.0]), 0), torch.zeros(1)])
    assert torch.allclose(w[0], want)
    assert w[1].sum() == 0


def test_text_options_refuse_unknown_keys():
    with pytest.raises(InputError, match="text options"):
        make_text_encoder(make_ctx(UCF), {"freeze": True, "lr": 1})


@pytest.mark.parametrize("name", ["alan", "ce", "mmt", "t2vlad", "xclip", "hlnet", "xml"])
def test_every_model_reads_a_third_stream_it_is_configured_for(name):
    """A store of rgb + flow + clip (``var-bench build --stream clip=DIR``): each registered model
    told ``streams: [rgb, flow, clip]`` builds on it and its scores depend on the clip stream."""
    from var_bench.models.registry import get_model
    from var_bench.training.config import load_config

    three = ("rgb", "flow", "clip")
    cfg = load_config("tiny", model=name)
    ctx = make_ctx(UCF, three)
    ctx = type(ctx)(**{**ctx.__dict__, "text_model": cfg.text_model})
    torch.manual_seed(0)
    model = get_model(name).from_config({**cfg.model_args, "streams": list(three)}, ctx)
    assert tuple(model.streams) == three
    batch = make_batch(ctx, 4)
    assert torch.isfinite(model(batch)["loss"])
    model.eval()

    def sims(b):
        with torch.no_grad():
            return model.similarity(model.encode_query(b), model.encode_gallery(b))

    other = make_batch(ctx, 4, seed=1)["clip"]  # new values (x * 3 + 1 a LayerNorm would undo)
    changed = {**batch, "clip": other}
    assert not torch.allclose(sims(batch), sims(changed))
