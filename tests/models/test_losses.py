import pytest
import torch

from var_bench.models.losses import max_margin_ranking_loss, symmetric_infonce


def _reference_mmr(sim, margin):
    b = sim.shape[0]
    rows, cols = [], []
    for i in range(b):
        for j in range(b):
            if i != j:
                rows.append(max(0.0, margin + float(sim[i, j]) - float(sim[i, i])))
                cols.append(max(0.0, margin + float(sim[j, i]) - float(sim[i, i])))
    return sum(rows) / len(rows) + sum(cols) / len(cols)


def test_max_margin_matches_loop_reference():
    g = torch.Generator().manual_seed(0)
    sim = torch.randn(5, 5, generator=g)
    assert max_margin_ranking_loss(sim, 0.05).item() == pytest.approx(_reference_mmr(sim, 0.05), rel=1e-6)


def test_max_margin_zero_when_diagonal_dominates_and_positive_otherwise():
    sim = torch.eye(4)
    assert max_margin_ranking_loss(sim, 0.05).item() == 0.0
    assert max_margin_ranking_loss(-sim, 0.05).item() > 0.0


def test_max_margin_batch_of_one_is_zero_with_grad():
    sim = torch.ones(1, 1, requires_grad=True)
    loss = max_margin_ranking_loss(sim, 0.1)
    loss.backward()
    assert loss.item() == 0.0


def test_non_square_refused():
    with pytest.raises(ValueError, match="square"):
        max_margin_ranking_loss(torch.zeros(2, 3))


def test_infonce_symmetric_and_low_for_diagonal():
    sim = torch.eye(3) * 10
    low = symmetric_infonce(sim, 1.0).item()
    assert low < symmetric_infonce(torch.zeros(3, 3), 1.0).item()
    assert symmetric_infonce(torch.zeros(3, 3), 1.0).item() == pytest.approx(torch.log(torch.tensor(3.0)).item())
    g = torch.Generator().manual_seed(1)
    s = torch.randn(4, 4, generator=g)
    assert symmetric_infonce(s, 0.1).item() == pytest.approx(symmetric_infonce(s.t(), 0.1).item())
