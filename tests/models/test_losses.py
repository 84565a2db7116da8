import pytest
import torch

from var_bench.models.losses import (
    max_margin_ranking_loss,
    same_video,
    sampled_negative_ranking_loss,
    symmetric_infonce,
)


def _reference_mmr(sim, margin):
    b = sim.shape[0]
    rows, cols = [], []
    for i in range(b):
        for j in range(b):
            if i != j:
                rows.append(max(0.0, margin + float(sim[i, j]) - float(sim[i, i])))
                cols.append(max(0.0, margin + float(sim[j, i]) - float(sim[i, i])))
    return sum(rows) / len(rows) + sum(cols) / len(cols)


def _mmt_reference(x, margin):
    """gabeur/mmt model/loss.py MaxMarginRankingLoss(fix_norm=True), transcribed line by line."""
    n = x.size()[0]
    x1 = torch.diag(x).unsqueeze(1).expand(n, n).contiguous().view(-1, 1)
    x1 = torch.cat((x1, x1), 0)
    x2 = x.view(-1, 1)
    x3 = x.transpose(0, 1).contiguous().view(-1, 1)
    x2 = torch.cat((x2, x3), 0)
    keep = torch.ones(x.shape) - torch.eye(x.shape[0])
    keep1 = keep.view(-1, 1)
    keep2 = keep.transpose(0, 1).contiguous().view(-1, 1)
    keep_idx = torch.nonzero(torch.cat((keep1, keep2), 0).flatten()).flatten()
    x1_ = torch.index_select(x1, dim=0, index=keep_idx)
    x2_ = torch.index_select(x2, dim=0, index=keep_idx)
    return torch.relu(margin - (x1_ - x2_)).mean().item()


def test_max_margin_sum_reduction_matches_loop_reference():
    g = torch.Generator().manual_seed(0)
    sim = torch.randn(5, 5, generator=g)
    assert max_margin_ranking_loss(sim, 0.05, "sum").item() == pytest.approx(
        _reference_mmr(sim, 0.05), rel=1e-6
    )


def test_max_margin_default_is_mmt_single_mean_on_a_hand_matrix():
    # 3 x 3, margin 0.1. Row terms relu(.1 + s_ij - s_ii):
    #   row 0 (s_00 = .9): .1+.5-.9 <0, .1+.2-.9 <0          -> 0, 0
    #   row 1 (s_11 = .4): .1+.6-.4 = .3, .1+.3-.4 = 0       -> .3, 0
    #   row 2 (s_22 = .7): .1+.1-.7 <0, .1+.8-.7 = .2        -> 0, .2
    # Column terms relu(.1 + s_ji - s_ii):
    #   col 0 (.9): .1+.6-.9 <0, .1+.1-.9 <0                 -> 0, 0
    #   col 1 (.4): .1+.5-.4 = .2, .1+.8-.4 = .5             -> .2, .5
    #   col 2 (.7): .1+.2-.7 <0, .1+.3-.7 <0                 -> 0, 0
    # MMT: one mean over the 2 B (B - 1) = 12 terms: (.3 + .2 + .2 + .5) / 12 = 0.1.
    sim = torch.tensor([[0.9, 0.5, 0.2], [0.6, 0.4, 0.3], [0.1, 0.8, 0.7]])
    assert max_margin_ranking_loss(sim, 0.1).item() == pytest.approx(0.1, abs=1e-7)
    assert _mmt_reference(sim, 0.1) == pytest.approx(0.1, abs=1e-7)
    # The old rule (mean of rows + mean of columns) is exactly twice that.
    assert max_margin_ranking_loss(sim, 0.1, "sum").item() == pytest.approx(0.2, abs=1e-7)


def test_max_margin_equals_mmt_code_on_random_matrices():
    g = torch.Generator().manual_seed(1)
    for b in (2, 7, 64):
        sim = torch.randn(b, b, generator=g)
        assert max_margin_ranking_loss(sim, 0.05).item() == pytest.approx(
            _mmt_reference(sim, 0.05), rel=1e-5
        )


def test_max_margin_unknown_reduction_refused():
    with pytest.raises(ValueError, match="reduction"):
        max_margin_ranking_loss(torch.eye(3), 0.05, "mean")


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
    assert symmetric_infonce(torch.zeros(3, 3), 1.0).item() == pytest.approx(
        torch.log(torch.tensor(3.0)).item()
    )
    g = torch.Generator().manual_seed(1)
    s = torch.randn(4, 4, generator=g)
    assert symmetric_infonce(s, 0.1).item() == pytest.approx(symmetric_infonce(s.t(), 0.1).item())


def test_sampled_negative_loss_hand_values():
    """Issue 14: the sampled-negative loss (XML's hard negatives) on a hand-computed matrix."""
    sim = torch.tensor([[0.9, 0.5, 0.2], [0.6, 0.4, 0.3], [0.1, 0.8, 0.7]])
    # pool 1 = the hardest negative. Rows: max neg (.5, .6, .8) vs diag (.9, .4, .7), margin .1:
    #   relu(.1+.5-.9)=0, relu(.1+.6-.4)=.3, relu(.1+.8-.7)=.2 -> mean 1/6
    # Columns: max neg (.6, .8, .3): 0, relu(.1+.8-.4)=.5, 0 -> mean 1/6. Total 1/3.
    assert sampled_negative_ranking_loss(sim, 0.1, pool=1).item() == pytest.approx(1 / 3, abs=1e-6)
    # Pool of all negatives: the mean over draws approaches the per-row average.
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sampled_negative_ranking_loss(sim, 0.1, None, g) for _ in range(3000)])
    assert draws.mean().item() == pytest.approx(
        2 * max_margin_ranking_loss(sim, 0.1).item(), abs=0.01
    )


# ---------------------------------------------------------------- positives from the gold


def _dup_sim(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of 5 pairs where rows 0 and 3 are two captions of one video."""
    g = torch.Generator().manual_seed(seed)
    sim = torch.rand(5, 5, generator=g)
    return sim, same_video(["v0", "v1", "v2", "v0", "v4"])


def test_same_video_is_none_when_every_video_is_distinct():
    assert same_video({"video_id": ["a", "b", "c"]}) is None and same_video({}) is None
    m = same_video({"video_id": ["a", "b", "a"]})
    assert m.tolist() == [[True, False, True], [False, True, False], [True, False, True]]


def test_max_margin_leaves_out_pairs_of_one_video():
    sim, same = _dup_sim()
    got = max_margin_ranking_loss(sim, 0.2, "sum", same=same)
    neg = ~same  # diagonal and the (0, 3) / (3, 0) pairs excluded
    rows = torch.relu(0.2 + sim - sim.diagonal()[:, None])[neg].mean()
    cols = torch.relu(0.2 + sim - sim.diagonal()[None, :])[neg].mean()
    assert torch.isclose(got, rows + cols)
    # a pair of one video scoring high is no error: raising it changes nothing
    sim2 = sim.clone()
    sim2[0, 3] = sim2[3, 0] = 9.0
    assert torch.isclose(max_margin_ranking_loss(sim2, 0.2, "sum", same=same), got)
    assert not torch.isclose(max_margin_ranking_loss(sim2, 0.2, "sum"), got)


def test_infonce_and_sampled_negatives_ignore_pairs_of_one_video():
    sim, same = _dup_sim(1)
    sim2 = sim.clone()
    sim2[0, 3] = sim2[3, 0] = 9.0
    assert torch.isclose(symmetric_infonce(sim, 0.1, same), symmetric_infonce(sim2, 0.1, same))
    for seed in range(5):
        a = sampled_negative_ranking_loss(
            sim, 0.1, None, torch.Generator().manual_seed(seed), same=same
        )
        b = sampled_negative_ranking_loss(
            sim2, 0.1, None, torch.Generator().manual_seed(seed), same=same
        )
        assert torch.isclose(a, b)


def test_a_batch_of_one_video_gives_zero():
    sim = torch.rand(3, 3, requires_grad=True)
    same = same_video(["v", "v", "v"])
    for loss in (
        max_margin_ranking_loss(sim, same=same),
        sampled_negative_ranking_loss(sim, same=same),
    ):
        assert loss.item() == 0.0
        loss.backward()  # still part of the graph
