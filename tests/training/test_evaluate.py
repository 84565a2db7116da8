import json

import numpy as np
import pytest
import torch

from var_bench import data as vdata
from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.errors import InputError
from var_bench.scoring.score import score, score_matrix
from var_bench.training.encode import concat_outputs
from var_bench.training.evaluate import evaluate, expand_to_canonical, write_submission
from var_bench.training.trainer import train

from .tiny import FakeFeatureDataset


def test_concat_pads_trailing_axes():
    a = {"x": torch.ones(2, 3, 4), "m": torch.ones(2, 3, dtype=torch.bool), "t": ["a", "b"]}
    b = {"x": torch.ones(1, 5, 4), "m": torch.ones(1, 5, dtype=torch.bool), "t": ["c"]}
    out = concat_outputs([a, b])
    assert out["x"].shape == (3, 5, 4) and out["x"][:2, 3:].abs().sum() == 0
    assert out["m"].dtype == torch.bool and not out["m"][:2, 3:].any() and out["m"][2].all()
    assert out["t"] == ["a", "b", "c"]


def test_expand_to_canonical_fills_missing_below_everything():
    S = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    full = expand_to_canonical(S, ["b", "d"], ["a", "b", "c", "d"])
    assert full.shape == (4, 4)
    assert (
        full[1, 1] == np.float32(0.9)
        and full[3, 3] == np.float32(0.8)
        and full[1, 3] == np.float32(0.1)
    )
    assert (full[0] == full[0, 0]).all() and full[0, 0] < S.min()
    metrics, _ = score_matrix(UCFCRIME_AR, full)
    assert metrics["t2v"]["R@1"] == pytest.approx(
        100 * (1 + 1 + 0.25 + 0.25) / 4
    )  # missing rows: chance
    with pytest.raises(InputError, match="unknown ids"):
        expand_to_canonical(S, ["b", "zz"], ["a", "b"])


def test_write_submission_layout(tmp_path):
    S = np.arange(9, dtype=np.float64).reshape(3, 3)
    path = write_submission(tmp_path / "s.npz", XDVIOLENCE_AR, S, ["x", "y", "z"])
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["a2v", "audio_ids", "v2a", "video_ids"]
        assert z["a2v"].dtype == np.float32 and z["video_ids"].tolist() == ["x", "y", "z"]
        assert np.array_equal(z["v2a"], z["a2v"].T)
    write_submission(
        tmp_path / "p.npz",
        XDVIOLENCE_AR,
        S,
        ["x", "y", "z"],
        {"name": "n", "disclosure": {"features": "synthetic"}},
    )
    with np.load(tmp_path / "p.npz", allow_pickle=False) as z:  # no pickle needed to read it
        assert z["provenance"].shape == () and z["provenance"].dtype.kind == "U"
        assert json.loads(str(z["provenance"]))["disclosure"] == {"features": "synthetic"}
    with pytest.raises(InputError, match=".npz"):
        write_submission(tmp_path / "s.npy", XDVIOLENCE_AR, S, ["x", "y", "z"])


def _run_cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return info.value.code, out, err


@pytest.fixture
def trained(tmp_path):
    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "run",
        data={"train": FakeFeatureDataset(48, seed=1), "val": FakeFeatureDataset(16, seed=2)},
        overrides=["train.epochs=2", "train.batch_size=16", "train.lr=0.01"],
    )
    return res.best_checkpoint


@pytest.mark.parametrize("reverse", [False, True])
def test_evaluate_writes_submission_that_score_cli_agrees_with(
    built_home, trained, tmp_path, capsys, reverse
):
    ids = vdata.ids("ucfcrime-ar", "val")
    order = ids[::-1] if reverse else ids
    ds = FakeFeatureDataset(len(ids), seed=4, ids=order)
    out = tmp_path / "sub.npz"
    record = evaluate(
        trained,
        "ucfcrime-ar",
        split="val",
        out=out,
        data=ds,
        features="synthetic features (test)",
        json_path=tmp_path / "rec.json",
        name="tiny (test)",
    )
    assert record.name == "tiny (test)"
    assert record.disclosure["reference_model"] == "tiny-test"
    assert record.disclosure["features"].startswith("synthetic")
    assert record.disclosure["checkpoint_selection"].startswith("val split")
    assert record.disclosure["training_data"] == "ucfcrime-ar"  # the checkpoint's benchmark
    assert [(o["kind"], o["status"]) for o in record.contamination] == [("benchmark", "none")]
    saved = json.loads((tmp_path / "rec.json").read_text())
    assert saved["summary"]["SumR"] == record.main_value
    # the scorer reorders by the id arrays: scores equal the ones computed in dataset order
    with np.load(out, allow_pickle=False) as z:
        S = z["t2v"]
        assert z["text_ids"].tolist() == order
    direct, sumr = score_matrix(UCFCRIME_AR, S)
    assert sumr == pytest.approx(record.main_value)
    code, text, _ = _run_cli(
        capsys,
        "score",
        out,
        "--benchmark",
        "ucfcrime-ar",
        "--split",
        "val",
        "--json",
        tmp_path / "cli.json",
    )
    assert code == 0, text
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert cli["metrics"] == saved["metrics"] and cli["summary"] == saved["summary"]
    # provenance survives re-scoring: disclosure (synthetic features), name, the whole provenance
    assert cli["disclosure"] == saved["disclosure"] and cli["name"] == "tiny (test)"
    assert cli["provenance"] == saved["provenance"]
    assert cli["provenance"]["disclosure"]["features"] == "synthetic features (test)"
    assert cli["submission_sha256"] == saved["submission_sha256"]
    # a name or disclosure stated when scoring wins over the file's
    code, _, _ = _run_cli(
        capsys,
        "score",
        out,
        "--benchmark",
        "ucfcrime-ar",
        "--split",
        "val",
        "--name",
        "renamed",
        "--disclose",
        "checkpoint_selection=last epoch",
        "--json",
        tmp_path / "cli2.json",
    )
    again = json.loads((tmp_path / "cli2.json").read_text())
    assert (
        again["name"] == "renamed" and again["disclosure"]["checkpoint_selection"] == "last epoch"
    )
    assert again["disclosure"]["features"] == "synthetic features (test)"


def test_evaluate_refuses_other_benchmark_and_missing_checkpoint(trained, tmp_path):
    with pytest.raises(InputError, match="trained on ucfcrime-ar"):
        evaluate(
            trained,
            "xdviolence-ar",
            split="val",
            out=tmp_path / "x.npz",
            data=FakeFeatureDataset(4, audio=True),
        )
    with pytest.raises(InputError, match="expected a checkpoint folder"):
        evaluate(tmp_path / "none", "ucfcrime-ar", out=tmp_path / "x.npz")
    with pytest.raises(InputError, match="rgb features of size 16 .as trained., got 8"):
        evaluate(
            trained,
            "ucfcrime-ar",
            split="val",
            out=tmp_path / "x.npz",
            data=FakeFeatureDataset(4, d=8),
        )


@pytest.mark.shared_data
def test_full_size_test_split_matches_score(shared_data, trained, tmp_path, capsys):
    home = tmp_path / "home"
    vdata.download(["ucfcrime-ar"], home=home, mirror=str(shared_data))
    ids = vdata.ids("ucfcrime-ar", "test", home=home)
    assert len(ids) == UCFCRIME_AR.test_videos
    out = tmp_path / "test.npz"
    record = evaluate(
        trained,
        "ucfcrime-ar",
        split="test",
        out=out,
        home=home,
        data=FakeFeatureDataset(len(ids), seed=9, ids=ids),
        features="synthetic",
    )
    again = score(out, "ucfcrime-ar", home=home)
    assert again.metrics == record.metrics and again.main_value == record.main_value
    code, text, _ = _run_cli(capsys, "score", out, "--home", home, "--json", tmp_path / "c.json")
    assert code == 0, text
    assert json.loads((tmp_path / "c.json").read_text())["summary"]["SumR"] == record.main_value
    # W1: `var-bench report` reads what `evaluate` writes, also with the ids in another order
    with np.load(out, allow_pickle=False) as z:
        S = z["t2v"]
    perm = np.random.default_rng(2).permutation(len(ids))
    shuffled = write_submission(
        tmp_path / "shuffled.npz", UCFCRIME_AR, S[perm][:, perm], [ids[i] for i in perm]
    )
    for sub in (out, shuffled):
        page = tmp_path / f"{sub.stem}.html"
        code, text, err = _run_cli(
            capsys, "report", sub, "-b", "ucfcrime-ar", "--home", home, "--output", page
        )
        assert code == 0, (text, err)
        assert text.endswith(f"wrote {page}\n") and page.read_text().startswith("<!DOCTYPE html>")
        assert f"{record.main_value:.1f}" in page.read_text()
