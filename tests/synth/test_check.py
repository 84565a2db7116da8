import os

import pytest

from var_bench.benchmarks import get_benchmark
from var_bench.data.prepare import download
from var_bench.scoring.score import score
from var_bench.synth import synthesize
from var_bench.synth.check import ridge_baseline, ridge_matrix

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_ridge_baseline_runs_on_a_small_tree(built_home, tmp_path):
    tree = synthesize(tmp_path / "t", "ucfcrime-ar", crops=1, snippets=8).out_dir
    r = ridge_baseline(tree)
    assert r["N"] == 3 and set(r) == {"t2v", "v2t", "SumR", "N"}
    assert 0 <= r["SumR"] <= 600


@pytest.mark.shared_data
def test_full_xd_tree_is_learnable_not_trivial(shared_data, tmp_path):
    """Every id of XDViolence-AR (CI knobs): the ridge baseline scored at the official size."""
    home = tmp_path / "home"
    download("xdviolence-ar", home=home, mirror=str(shared_data))
    spec = get_benchmark("xdviolence-ar")
    s = synthesize(
        tmp_path / "xd", spec.name, crops=1, snippets=8, snippet_frames=64, flow=False, home=home
    )
    assert s.videos == spec.upstream_counts
    record = score(ridge_matrix(s.out_dir, home=home), spec.name, home=home)
    a2v, v2a = (record.metrics[d] for d in spec.task().groups)
    chance_r10 = 100 * 10 / spec.test_videos
    assert a2v["R@10"] > 4 * chance_r10 and v2a["R@10"] > 4 * chance_r10
    assert a2v["R@1"] < 50 and v2a["R@1"] < 50
