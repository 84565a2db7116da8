"""``var-bench train`` / ``var-bench evaluate``: thin commands, one-line errors."""

from __future__ import annotations

import json

import pytest
from training.tiny import FakeFeatureDataset

from var_bench import data as vdata
from var_bench.cli import main
from var_bench.training import loaders


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return info.value.code, out, err


def assert_one_line_error(capsys, args, code, *needles):
    got, out, err = run_cli(capsys, *args)
    assert got == code, (out, err)
    assert "Traceback" not in out + err
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("var-bench: error: "), out
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_model(capsys, tmp_path):
    assert_one_line_error(
        capsys,
        ["train", "--model", "nope", "--benchmark", "ucfcrime-ar", "--out", tmp_path / "r"],
        2,
        "unknown model",
        "tiny-test",
    )


def test_bad_override(capsys, tmp_path):
    assert_one_line_error(
        capsys,
        [
            "train",
            "--model",
            "tiny-test",
            "--benchmark",
            "ucfcrime-ar",
            "--out",
            tmp_path / "r",
            "--set",
            "train.epoch=2",
        ],
        2,
        "unknown config key train.epoch",
    )


def test_missing_feature_store_gives_build_hint(capsys, built_home, tmp_path):
    got, out, err = run_cli(
        capsys,
        "train",
        "--model",
        "tiny-test",
        "--benchmark",
        "ucfcrime-ar",
        "--out",
        tmp_path / "r",
    )
    assert got != 0 and "Traceback" not in out + err
    assert len(out.splitlines()) == 1 and "var-bench build" in out, out


def test_train_then_evaluate(capsys, built_home, tmp_path, monkeypatch):
    val_ids = vdata.ids("ucfcrime-ar", "val")
    splits = {
        "train": FakeFeatureDataset(48, seed=1),
        "val": FakeFeatureDataset(16, seed=2),
        "test": FakeFeatureDataset(len(val_ids), seed=3, ids=val_ids),
    }
    monkeypatch.setattr(loaders, "open_split", lambda spec, split, home, crop: splits[split])
    code, out, err = run_cli(
        capsys,
        "train",
        "--model",
        "tiny-test",
        "--benchmark",
        "ucfcrime-ar",
        "--out",
        tmp_path / "run",
        "--set",
        "train.epochs=2",
        "--set",
        "train.batch_size=16",
        "--device",
        "cpu",
    )
    assert code == 0, out + err
    assert "2 epochs, best val SumR" in out
    # evaluate on val (the built home's val ids) through the store hook
    splits["val"] = splits["test"]
    code, out, err = run_cli(
        capsys,
        "evaluate",
        tmp_path / "run" / "best",
        "--benchmark",
        "ucfcrime-ar",
        "--split",
        "val",
        "--out",
        tmp_path / "s.npz",
        "--json",
        tmp_path / "r.json",
        "--name",
        "tiny run",
    )
    assert code == 0, out + err
    assert "entry: tiny run" in out
    assert "SumR" in out and (tmp_path / "s.npz").is_file()
    record = json.loads((tmp_path / "r.json").read_text())
    code, out, err = run_cli(
        capsys,
        "score",
        tmp_path / "s.npz",
        "--benchmark",
        "ucfcrime-ar",
        "--split",
        "val",
        "--json",
        tmp_path / "c.json",
    )
    assert code == 0, out + err
    again = json.loads((tmp_path / "c.json").read_text())
    assert again["metrics"] == record["metrics"] and again["name"] == record["name"] == "tiny run"
    assert (
        again["disclosure"] == record["disclosure"] and again["provenance"] == record["provenance"]
    )


def test_evaluate_missing_checkpoint(capsys, tmp_path):
    assert_one_line_error(
        capsys,
        ["evaluate", tmp_path / "none", "--benchmark", "ucfcrime-ar", "--out", tmp_path / "s.npz"],
        2,
        "expected a checkpoint folder",
    )
