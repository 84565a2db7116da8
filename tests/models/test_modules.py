import pytest
import torch

from var_bench.models.baselines.mmt import MultiModalTransformer
from var_bench.models.modules import (
    GatedEmbeddingUnit,
    NetVLAD,
    PositionEmbedding,
    TransformerEncoderLayers,
    masked_max,
    masked_mean,
    sinusoidal_positions,
)

from .baselines.fakebatch import TEXT, UCF, make_ctx


def _x_mask():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 5, generator=g)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=torch.bool)
    return x, mask


def test_masked_mean_and_max_ignore_padding():
    x, mask = _x_mask()
    mean = masked_mean(x, mask)
    assert torch.allclose(mean[0], x[0, :2].mean(0))
    assert torch.allclose(mean[1], x[1].mean(0))
    assert torch.equal(mean[2], torch.zeros(5))
    mx = masked_max(x, mask)
    assert torch.equal(mx[0], x[0, :2].max(0).values)
    assert torch.equal(mx[2], torch.zeros(5))
    assert torch.allclose(masked_mean(x, None), x.mean(1))


def test_geu_output_unit_norm_and_shape():
    geu = GatedEmbeddingUnit(5, 7)
    y = geu(torch.randn(2, 5))
    assert y.shape == (2, 7)
    assert torch.allclose(y.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_gated_unit_batch_norm_is_mmt_form():
    """Issue 14: the GEU's optional batch norm of the gate, as MMT's code has it."""
    torch.manual_seed(0)
    geu = GatedEmbeddingUnit(5, 4, normalize=False, batch_norm=True).train()
    x = torch.randn(6, 5)
    y = geu.fc(x)
    gate = geu.gate(y)
    gate_bn = (gate - gate.mean(0)) / torch.sqrt(gate.var(0, unbiased=False) + geu.bn.eps)
    assert torch.allclose(geu(x), y * torch.sigmoid(gate_bn), atol=1e-5)
    assert GatedEmbeddingUnit(5, 4).bn is None
    m = MultiModalTransformer.from_config(
        {"dim": 16, "layers": 1, "heads": 2, "text": TEXT, "geu_batch_norm": True}, make_ctx(UCF)
    )
    assert all(u.bn is not None for u in m.query_units.values())


def test_netvlad_mask_equals_truncation():
    torch.manual_seed(0)
    vlad = NetVLAD(5, 3)
    x, mask = _x_mask()
    out = vlad(x, mask)
    assert out.shape == (3, vlad.output_dim) == (3, 15)
    # padding must not change the result: row 0 equals the same video without its padding
    assert torch.allclose(out[0], vlad(x[:1, :2])[0], atol=1e-6)
    assert torch.allclose(out[1].norm(), torch.tensor(1.0), atol=1e-5)
    assert not torch.isnan(out).any()


def test_positions():
    pe = sinusoidal_positions(6, 4)
    assert pe.shape == (6, 4)
    assert torch.allclose(pe[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    for learned in (True, False):
        mod = PositionEmbedding(4, max_len=8, learned=learned)
        x = torch.zeros(2, 6, 4)
        assert mod(x).shape == (2, 6, 4)
        with pytest.raises(ValueError):
            mod.positions(torch.tensor([8]))


def test_transformer_layers_padding_invariant():
    torch.manual_seed(0)
    enc = TransformerEncoderLayers(8, layers=2, heads=2, dropout=0.0).eval()
    x = torch.randn(1, 5, 8)
    padded = torch.cat([x, torch.randn(1, 3, 8)], dim=1)
    mask = torch.tensor([[True] * 5 + [False] * 3])
    assert torch.allclose(enc(padded, mask)[:, :5], enc(x), atol=1e-5)
