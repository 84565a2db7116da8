import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.errors import InputError
from var_bench.training import checkpoint as ckpt
from var_bench.training.optim import lr_at
from var_bench.training.trainer import train

from .tiny import FakeFeatureDataset

FAST = ["train.batch_size=16", "train.lr=0.01", "train.log_every=2", "train.seed=3"]


def _data(audio=False, n_train=96, n_val=48):
    return {
        "train": FakeFeatureDataset(n_train, seed=1, audio=audio),
        "val": FakeFeatureDataset(n_val, seed=2, audio=audio),
    }


def _chance_sumr(n):
    # expected R@1 + R@5 + R@10 of a random ranking, both directions, in percent
    return 2 * 100 * (1 + 5 + 10) / n


@pytest.mark.parametrize("benchmark,audio", [(UCFCRIME_AR, False), (XDVIOLENCE_AR, True)])
def test_training_lowers_loss_and_beats_chance(tmp_path, benchmark, audio):
    out = tmp_path / "run"
    res = train(
        "tiny-test", benchmark.name, out=out, data=_data(audio), overrides=FAST + ["train.epochs=6"]
    )
    losses = [h["train"]["loss"] for h in res.history]
    assert losses[-1] < 0.6 * losses[0]
    assert res.epochs_run == 6
    assert res.best_val_score > 2 * _chance_sumr(48)
    assert res.best_checkpoint == out / "best" and ckpt.is_checkpoint(out / "best")
    assert ckpt.is_checkpoint(out / "last")
    assert (out / "config.yaml").read_text().startswith("model: tiny-test")
    entries = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    epochs = [e for e in entries if e["kind"] == "epoch"]
    steps = [e for e in entries if e["kind"] == "step"]
    assert [e["epoch"] for e in epochs] == list(range(1, 7))
    assert set(epochs[0]["val"]) == set(benchmark.task().groups)
    assert steps and {"loss", "rank", "lr", "step"} <= set(steps[0])
    # lr decays per epoch by the configured factor (0.95 default)
    assert epochs[1]["lr"] == pytest.approx(epochs[0]["lr"] * 0.95)
    best_state = json.loads((out / "best" / "state.json").read_text())
    assert best_state["best_score"] == res.best_val_score == max(e["val_SumR"] for e in epochs)
    assert best_state["selection"].startswith("val split")
    assert not (out / "best" / ckpt.OPTIMIZER_FILE).exists()
    assert (out / "last" / ckpt.OPTIMIZER_FILE).exists()


def _weights(folder):
    return load_file(str(folder / ckpt.MODEL_FILE))


RNG_HEAVY = FAST + ["model_args.dropout=0.3", "model_args.sample=random", "model_args.n=4"]


def test_same_seed_same_losses_and_different_seed_differs(tmp_path):
    runs = [
        train(
            "tiny-test",
            "ucfcrime-ar",
            out=tmp_path / f"r{i}",
            data=_data(n_train=48, n_val=16),
            overrides=RNG_HEAVY + ["train.epochs=2", f"train.seed={seed}"],
        )
        for i, seed in enumerate((5, 5, 6))
    ]
    losses = [[h["train"]["loss"] for h in r.history] for r in runs]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


def test_resume_continues_and_matches_uninterrupted_run(tmp_path):
    data = _data(n_train=48, n_val=16)
    first = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        overrides=RNG_HEAVY + ["train.epochs=1"],
    )
    assert first.epochs_run == 1
    resumed = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        overrides=RNG_HEAVY + ["train.epochs=2"],
    )
    straight = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "b",
        data=data,
        overrides=RNG_HEAVY + ["train.epochs=2"],
    )
    assert resumed.epochs_run == 2
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert [h["train"] for h in resumed.history] == [h["train"] for h in straight.history]
    wa, wb = _weights(tmp_path / "a" / "last"), _weights(tmp_path / "b" / "last")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    # a finished run resumed with the same epochs trains nothing more
    again = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        overrides=RNG_HEAVY + ["train.epochs=2"],
    )
    assert again.epochs_run == 2 and len(again.history) == 2


def test_resume_refuses_other_model_settings(tmp_path):
    data = _data(n_train=32, n_val=16)
    train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        overrides=FAST + ["train.epochs=1"],
    )
    with pytest.raises(
        InputError, match=r"resume: model_args\.dim differs: checkpoint unset, config 8 "
    ):
        train(
            "tiny-test",
            "ucfcrime-ar",
            out=tmp_path / "a",
            data=data,
            overrides=FAST + ["train.epochs=2", "model_args.dim=8"],
        )
    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        resume=False,
        overrides=FAST + ["train.epochs=1", "model_args.dim=8"],
    )
    assert res.epochs_run == 1


def test_patience_stops_early(tmp_path):
    # lr tiny: no improvement after the first validation
    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "p",
        data=_data(n_train=32, n_val=16),
        overrides=FAST + ["train.epochs=10", "train.lr=1e-12", "train.patience=2"],
    )
    assert res.epochs_run < 10
    assert res.best_epoch == 1


def test_max_steps_per_epoch(tmp_path):
    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "m",
        data=_data(n_train=96, n_val=16),
        overrides=FAST + ["train.epochs=1", "train.max_steps_per_epoch=2"],
    )
    assert res.history[0]["step"] == 2


def test_unknown_model_lists_registered_ones(tmp_path):
    with pytest.raises(InputError, match="unknown model: expected one of .*tiny-test.*got 'nope'"):
        train("nope", "ucfcrime-ar", out=tmp_path / "x", data=_data(n_train=8, n_val=8))


def test_unknown_model_arg_is_input_error(tmp_path):
    with pytest.raises(InputError, match="model_args for tiny-test"):
        train(
            "tiny-test",
            "ucfcrime-ar",
            out=tmp_path / "x",
            data=_data(n_train=8, n_val=8),
            overrides=["model_args.bogus=1"],
        )


def test_missing_audio_refused_on_xd(tmp_path):
    with pytest.raises(InputError, match="expected audio features"):
        train(
            "tiny-test",
            "xdviolence-ar",
            out=tmp_path / "x",
            data=_data(audio=False, n_train=8, n_val=8),
        )


def test_lr_schedule():
    assert lr_at(1.0, 0, 0, 0.95) == 1.0
    assert lr_at(1.0, 2, 100, 0.95) == pytest.approx(0.9025)
    assert lr_at(2.0, 0, 0, 0.95, warmup_steps=4) == pytest.approx(0.5)
    assert lr_at(2.0, 1, 3, 0.5, warmup_steps=4) == pytest.approx(1.0)
    assert lr_at(2.0, 1, 10, 0.5, warmup_steps=4) == pytest.approx(1.0)


def test_frozen_text_encoder_model_learns_and_skips_text_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "txt"
    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=out,
        data=_data(n_train=64, n_val=32),
        overrides=FAST + ["train.epochs=4", "model_args.text=bert", "text_model=offline"],
    )
    assert res.best_val_score > 2 * _chance_sumr(32)
    saved = _weights(out / "best")
    assert not any(k.startswith("text.") for k in saved)  # frozen encoder reloaded by name
    assert "query.weight" in saved


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_gloo(tmp_path):
    import torch.multiprocessing as mp

    from . import ddp_worker

    out = tmp_path / "ddp"
    out.mkdir()
    mp.spawn(ddp_worker.run, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    # 64 videos over 2 processes, 8 per batch: 4 steps per epoch on each rank
    assert [r["steps"] for r in reports] == [8, 8]
    assert all(r["epochs"] == 2 for r in reports)
    assert all(np.isfinite(r["losses"]).all() for r in reports)
    assert ckpt.is_checkpoint(out / "last") and ckpt.is_checkpoint(out / "best")
    entries = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "epoch" for e in entries) == 2  # only rank 0 logs


def test_samples_per_epoch_counts_steps_and_resumes_bit_exact(tmp_path):
    data = _data(n_train=48, n_val=16)
    opts = RNG_HEAVY + ["train.samples_per_epoch=80"]
    straight = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "b",
        data=data,
        overrides=opts + ["train.epochs=2"],
    )
    assert [h["step"] for h in straight.history] == [5, 10]  # 80 samples / 16 per batch
    train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        overrides=opts + ["train.epochs=1"],
    )
    resumed = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        overrides=opts + ["train.epochs=2"],
    )
    assert [h["train"] for h in resumed.history] == [h["train"] for h in straight.history]
    wa, wb = _weights(tmp_path / "a" / "last"), _weights(tmp_path / "b" / "last")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_checkpoint_last_hands_on_the_last_epoch(tmp_path):
    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "l",
        data=_data(n_train=32, n_val=16),
        overrides=FAST + ["train.epochs=2", "train.checkpoint=last"],
    )
    assert res.checkpoint == tmp_path / "l" / "last"
    assert res.best_checkpoint == tmp_path / "l" / "best"  # val is still tracked
    assert json.loads((res.checkpoint / "state.json").read_text())["selection"] == "last epoch (2)"
    default = train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "d",
        data=_data(n_train=32, n_val=16),
        overrides=FAST + ["train.epochs=1"],
    )
    assert default.checkpoint == default.best_checkpoint == tmp_path / "d" / "best"


def test_refit_on_train_val_trains_on_both_without_validation(tmp_path):
    out = tmp_path / "r"
    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=out,
        data=_data(n_train=48, n_val=16),
        overrides=FAST + ["train.epochs=2", "train.refit_on_train_val=true"],
    )
    assert [h["step"] for h in res.history] == [4, 8]  # (48 + 16) / 16 per epoch
    assert all("val" not in h for h in res.history) and res.best_val_score is None
    assert res.best_checkpoint is None and not (out / "best").exists()
    assert res.checkpoint == out / "last"
    state = json.loads((out / "last" / "state.json").read_text())
    assert state["selection"] == "last epoch (2), trained on train + val (no validation)"


def test_one_info_line_per_epoch(tmp_path, caplog):
    import logging
    import re

    caplog.set_level(logging.INFO, logger="var_bench.training")
    train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "e",
        data=_data(n_train=32, n_val=16),
        overrides=FAST + ["train.epochs=3", "train.eval_every=2"],
    )
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "var_bench.training" and r.message.startswith("epoch ")
    ]
    assert len(lines) == 3
    assert re.fullmatch(r"epoch 1/3  loss \d+\.\d{4}  \d+\.\d s", lines[0]), lines[0]
    assert re.fullmatch(r"epoch 2/3  loss \d+\.\d{4}  val SumR \d+\.\d  \d+\.\d s", lines[1]), (
        lines[1]
    )
    assert lines[2].startswith("epoch 3/3  loss ") and "val SumR" in lines[2]


def test_resume_mismatch_names_every_changed_key(tmp_path):
    data = _data(n_train=32, n_val=16)
    train(
        "tiny-test",
        "ucfcrime-ar",
        out=tmp_path / "a",
        data=data,
        overrides=FAST + ["train.epochs=1", "model_args.margin=0.3"],
    )
    with pytest.raises(InputError) as info:
        train(
            "tiny-test",
            "ucfcrime-ar",
            out=tmp_path / "a",
            data=data,
            overrides=FAST + ["train.epochs=2", "model_args.margin=0.1", "data.max_snippets=4"],
        )
    msg = str(info.value)
    assert msg.startswith(
        "resume: model_args.margin differs: checkpoint 0.3, config 0.1; "
        "data.max_snippets differs: checkpoint None, config 4 ("
    )
    assert "\n" not in msg and len(msg) < 300


class _StopAfter(torch.utils.data.Dataset):
    """``data`` that raises KeyboardInterrupt (Ctrl-C) on the ``after``-th item fetched."""

    def __init__(self, data, after):
        self.data, self.after, self.fetched = data, after, 0

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        self.fetched += 1
        if self.fetched > self.after:
            raise KeyboardInterrupt
        return self.data[i]


def test_ctrl_c_mid_epoch_says_rerun_and_the_rerun_resumes_at_the_step(tmp_path, caplog):
    from var_bench.errors import Interrupted

    data = _data(n_train=96, n_val=16)  # 6 steps of 16 per epoch
    every = FAST + ["train.epochs=2", "train.checkpoint_every=2"]
    stopped = {"train": _StopAfter(data["train"], after=16 * 5), "val": data["val"]}
    with pytest.raises(Interrupted, match="epoch 1, step 4: rerun the same command to resume"):
        train("tiny-test", "ucfcrime-ar", out=tmp_path / "a", data=stopped, overrides=every)
    assert Interrupted.exit_code == 130
    state = json.loads((tmp_path / "a" / "last" / "state.json").read_text())
    assert (state["epoch"], state["epoch_step"], state["step"]) == (0, 4, 4)
    assert "mid-epoch" in state["selection"]
    with caplog.at_level("INFO", logger="var_bench"):
        resumed = train("tiny-test", "ucfcrime-ar", out=tmp_path / "a", data=data, overrides=every)
    said = caplog.text
    assert "at epoch 1, step 4" in said and "epoch 1/2: 6 steps, from step 4" in said
    assert "rerun to resume" in said
    assert [h["step"] for h in resumed.history] == [6, 12]  # 2 steps left in epoch 1, then 6
    # before any checkpoint, the message says a rerun starts over
    early = {"train": _StopAfter(data["train"], after=16), "val": data["val"]}
    with pytest.raises(Interrupted, match="before the first checkpoint.*starts over"):
        train("tiny-test", "ucfcrime-ar", out=tmp_path / "b", data=early, overrides=every)
