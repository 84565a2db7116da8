"""Video / audio encoders: sequence assembly, positions, cross attention, pooling, query heads."""

from __future__ import annotations

import torch
from torch import nn

from var_bench.models.alan.encoders import (
    CrossEncoder,
    MultiStreamEncoder,
    QueryHead,
    SequenceAssembler,
    pool_outputs,
    positions,
)


def _indices(b, n, t):
    base = torch.div(torch.arange(n) * t, n, rounding_mode="floor")
    return base.expand(b, n).clone()


def test_positions_time_and_order():
    idx = torch.tensor([[0, 0, 5, 9]])
    assert positions(idx, torch.tensor([10]), 4, "time").tolist() == [[1, 1, 3, 4]]
    assert positions(idx, torch.tensor([10]), 4, "order").tolist() == [[1, 2, 3, 4]]


def test_cls_token_is_the_mean_of_its_half_and_segments_differ():
    asm = SequenceAssembler(4, 3, dropout=0.0)
    asm.norm = nn.Identity()  # look at the raw sum
    nn.init.zeros_(asm.pos.table.weight)
    with torch.no_grad():
        asm.segment.weight.copy_(torch.tensor([[0.0] * 4, [1.0] * 4]))
    u, r = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    pos = torch.ones(2, 3, dtype=torch.long)
    seq = asm([("fs", u, pos), ("as", r, pos)])
    assert seq.shape == (2, 8, 4)
    assert torch.allclose(seq[:, 0], u.mean(dim=1))
    assert torch.allclose(seq[:, 4], r.mean(dim=1) + 1.0)
    assert torch.allclose(seq[:, 5:], r + 1.0)


def test_position_embedding_is_a_named_choice_learned_or_sinusoidal():
    from var_bench.models.modules import sinusoidal_positions

    learned = SequenceAssembler(4, 3, dropout=0.0)
    fixed = SequenceAssembler(4, 3, dropout=0.0, position_embedding="sinusoidal")
    assert any("pos.table" in k for k, _ in learned.named_parameters())
    assert not any("pos" in k for k, _ in fixed.named_parameters())  # nothing learned
    fixed.norm = nn.Identity()
    nn.init.zeros_(fixed.segment.weight)
    pos = torch.tensor([[1, 2, 3]])
    seq = fixed([("fs", torch.zeros(1, 3, 4), pos)])
    assert torch.allclose(seq[0], sinusoidal_positions(4, 4))  # positions 0 (CLS), 1, 2, 3
    enc = MultiStreamEncoder(
        {"rgb": 6}, 8, 3, self_layers=1, heads=2, position_embedding="sinusoidal"
    )
    assert not enc.assemble["rgb"].pos.learned


def test_pool_outputs_cls_and_avg():
    out = torch.arange(2 * 6 * 1, dtype=torch.float32).reshape(2, 6, 1)  # N = 2, two halves
    g, h = pool_outputs(out, 2)
    assert g[:, 0].tolist() == [(0 + 3) / 2, (6 + 9) / 2]
    assert h[:, 0].tolist() == [((1 + 2) / 2 + (4 + 5) / 2) / 2, ((7 + 8) / 2 + (10 + 11) / 2) / 2]


def _two_streams(b: int, cross_layers: int, t: int = 9):
    """A small RGB + Flow encoder in eval mode, its inputs (``[b, t, D]``), indices, output."""
    torch.manual_seed(0)
    enc = MultiStreamEncoder(
        {"rgb": 12, "flow": 10},
        8,
        4,
        self_layers=1,
        cross_layers=cross_layers,
        heads=2,
        dropout=0.0,
    ).eval()
    feats = {"rgb": torch.randn(b, t, 12), "flow": torch.randn(b, t, 10)}
    idx = {"fs": _indices(b, 4, t), "as": _indices(b, 4, t)}
    return enc, feats, idx, enc(feats, torch.full((b,), t), idx)


def test_two_stream_encoder_shapes_and_cross_attention():
    b, t = 3, 9
    enc, feats, idx, out = _two_streams(b, 1, t)
    assert set(out) == {"rgb", "flow"}
    assert out["rgb"].tokens.shape == (b, 10, 8) and out["rgb"].g.shape == (b, 8)
    assert out["flow"].h.shape == (b, 8)
    # The object stream's output depends on the motion stream (cross encoder) ...
    changed = enc({"rgb": feats["rgb"], "flow": feats["flow"] * 2}, torch.full((b,), t), idx)
    assert not torch.allclose(changed["rgb"].g, out["rgb"].g)


def test_two_stream_cross_layers_are_the_papers_and_three_streams_attend_to_both_others():
    b, t = 2, 9
    enc, feats, idx, out = _two_streams(b, 2, t)
    # By hand: Self Encoders, then per layer rgb' = C_rgb(rgb, flow), flow' = C_flow(flow, rgb).
    with torch.no_grad():
        pos = {k: positions(idx[k], torch.full((b,), t), 4, "time") for k in idx}
        seq = {
            s: enc.self_enc[s](
                enc.assemble[s](
                    [
                        (k, enc.project[s](feats[s][torch.arange(b)[:, None], idx[k]]), pos[k])
                        for k in idx
                    ]
                )
            )
            for s in ("rgb", "flow")
        }
        for la, lb in zip(enc.cross["rgb"], enc.cross["flow"]):
            seq = {"rgb": la(seq["rgb"], seq["flow"]), "flow": lb(seq["flow"], seq["rgb"])}
    assert torch.allclose(out["rgb"].tokens, seq["rgb"], atol=1e-6)
    assert torch.allclose(out["flow"].tokens, seq["flow"], atol=1e-6)
    # Three streams (rgb + flow + clip): each stream's output depends on both others.
    three = MultiStreamEncoder(
        {"rgb": 12, "flow": 10, "clip": 6},
        8,
        4,
        self_layers=1,
        cross_layers=1,
        heads=2,
        dropout=0.0,
    ).eval()
    feats["clip"] = torch.randn(b, t, 6)
    base = three(feats, torch.full((b,), t), idx)
    assert set(base) == {"rgb", "flow", "clip"} and base["clip"].tokens.shape == (b, 10, 8)
    for changed in ("flow", "clip"):
        other = three({**feats, changed: feats[changed] * 2}, torch.full((b,), t), idx)
        assert not torch.allclose(other["rgb"].g, base["rgb"].g), changed


def test_single_stream_has_no_cross_encoder_and_supports_one_sequence():
    enc = MultiStreamEncoder({"audio": 6}, 8, 5, self_layers=1, cross_layers=1, heads=2)
    assert len(enc.cross["audio"]) == 0
    feats = {"audio": torch.randn(2, 3, 6)}
    out = enc(feats, torch.tensor([3, 1]), {"fs": torch.zeros(2, 5, dtype=torch.long)})
    assert out["audio"].tokens.shape == (2, 6, 8)


def test_cross_encoder_is_attention_linear_residual_layernorm():
    torch.manual_seed(0)
    cross = CrossEncoder(8, 2, dropout=0.0)
    x, other = torch.randn(2, 5, 8), torch.randn(2, 7, 8)
    attn, _ = cross.attn(x, other, other)
    assert torch.allclose(cross(x, other), cross.norm(x + cross.linear(attn)), atol=1e-6)


def test_query_head_geu_outputs_are_unit_norm_and_weights_softmax():
    torch.manual_seed(0)
    head = QueryHead(16, 8, ("rgb", "flow"))
    q = head(torch.randn(4, 16), torch.randn(4, 16))
    for emb in (*q.g.values(), *q.h.values()):
        assert emb.shape == (4, 8)
        assert torch.allclose(emb.norm(dim=-1), torch.ones(4), atol=1e-5)
    assert q.w_g.shape == (4, 2) and torch.allclose(q.w_g.sum(-1), torch.ones(4))
    assert torch.allclose(q.w_h.sum(-1), torch.ones(4))
