"""``var-bench extract`` on the command line, and the identity in a scored record."""

import json

import pytest

from var_bench.cli import extract as cli_extract
from var_bench.cli import main
from var_bench.extract.flow import FLOW_METHODS
from var_bench.extract.models import MODELS
from var_bench.extract.recipes import RECIPES


def _run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_cli_choices_are_the_library_names():
    assert cli_extract._MODELS == MODELS and cli_extract._RECIPES == tuple(RECIPES)
    assert cli_extract._FLOWS == FLOW_METHODS


def test_cli_extract_and_errors(ucf_videos, tmp_path, capsys):
    root, counts = ucf_videos
    vid = sorted(counts)[0]
    next(p for p in root.rglob("*.mp4") if p.stem != vid).unlink()
    code, out, err = _run(
        capsys,
        "extract",
        "ucfcrime-ar",
        "--videos",
        root,
        "--out",
        tmp_path / "o",
        "--model",
        "i3d-rgb",
        "--weights",
        "random",
        "--crops",
        "1",
    )
    assert code == 2 and "missing" in out and "Traceback" not in out + err
    code, out, err = _run(
        capsys,
        "extract",
        "ucfcrime-ar",
        "--videos",
        root,
        "--out",
        tmp_path / "o",
        "--model",
        "i3d-rgb",
        "--weights",
        "random",
        "--shard",
        "3/3",
    )
    assert code == 2 and "K/N" in out
    assert not (tmp_path / "o").exists()


def test_identity_lands_in_a_scored_record(built_home, ucf_videos, tmp_path):
    from training.tiny import FakeFeatureDataset  # registers the tiny-test model

    from var_bench import data as vdata
    from var_bench.extract import extract
    from var_bench.features import build_features
    from var_bench.training.evaluate import evaluate
    from var_bench.training.trainer import train

    from .conftest import UCF_SMALL

    root, _ = ucf_videos
    res = extract(
        "ucfcrime-ar", root, tmp_path / "feats", "i3d-rgb", recipe=UCF_SMALL, weights="random"
    )
    build_features("ucfcrime-ar", tmp_path / "feats")
    run = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "run",
        data={"train": FakeFeatureDataset(16, seed=1), "val": FakeFeatureDataset(8, seed=2)},
        overrides=["train.epochs=1", "train.batch_size=8"],
    )
    ids = vdata.ids("ucfcrime-ar", "val")
    record = evaluate(
        run.best_checkpoint,
        "ucfcrime-ar",
        split="val",
        out=tmp_path / "s.npz",
        data=FakeFeatureDataset(len(ids), seed=4, ids=ids),
        features="test",
        json_path=tmp_path / "rec.json",
    )
    got = json.loads(record.disclosure["extraction"])
    assert got == {"rgb": res.identity} and got["rgb"]["random_weights"] is True
    saved = json.loads((tmp_path / "rec.json").read_text())
    assert json.loads(saved["disclosure"]["extraction"]) == got
