"""The model interface: typed model configs (one-line errors), the shared input prologue, and the
named configs of every registered model."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from var_bench.errors import InputError
from var_bench.models.base import ModelConfig, RetrievalModel, select_streams
from var_bench.models.registry import get_model, model_names
from var_bench.training.config import available_config_names, load_config

from .baselines.fakebatch import UCF, XD, make_ctx


@dataclass(frozen=True)
class _Cfg(ModelConfig):
    dim: int = 4
    rate: float = 0.5
    flag: bool = False
    kinds: tuple[str, ...] = ("a",)
    cap: int | None = None
    opts: dict | None = None

    def validate(self, label: str) -> None:
        if self.dim < 1:
            raise InputError(f"{label}.dim: expected a positive integer, got {self.dim}")


def test_model_config_converts_losslessly():
    cfg = _Cfg.from_args({"rate": 1, "kinds": ["a", "b"], "cap": 3, "opts": {"x": 1}}, "m")
    assert cfg == _Cfg(rate=1.0, kinds=("a", "b"), cap=3, opts={"x": 1})
    assert isinstance(cfg.rate, float)
    assert _Cfg.from_args({"kinds": "b", "rate": "5e-5"}).kinds == ("b",)
    assert _Cfg.from_args(None) == _Cfg()


@pytest.mark.parametrize(
    "args,needle",
    [
        (
            {"bogus": 1},
            "m model_args: expected keys among dim, rate, flag, kinds, cap, opts, "
            "got unknown bogus",
        ),
        ({"dim": "big"}, "m model_args.dim: expected an integer, got 'big'"),
        ({"dim": True}, "m model_args.dim: expected an integer, got True"),
        ({"flag": 1}, "m model_args.flag: expected true or false, got 1"),
        ({"rate": "fast"}, "m model_args.rate: expected a number, got 'fast'"),
        ({"kinds": [1]}, "m model_args.kinds[0]: expected a string, got 1"),
        ({"cap": 2.5}, "m model_args.cap: expected an integer, got 2.5"),
        ({"opts": [1]}, "m model_args.opts: expected a mapping, got [1]"),
        ({"dim": 0}, "m model_args.dim: expected a positive integer, got 0"),
    ],
)
def test_model_config_errors_are_one_line(args, needle):
    with pytest.raises(InputError) as info:
        _Cfg.from_args(args, "m")
    assert str(info.value) == needle


def test_baseline_config_names_the_model_and_key():
    with pytest.raises(InputError, match=r"^ce model_args\.dim: expected an integer, got 'x'$"):
        get_model("ce").from_config({"dim": "x"}, make_ctx(XD))


def test_prologue_sets_streams_and_query_modality():
    m = RetrievalModel()
    m.init_inputs(make_ctx(XD, ("rgb",)), ["rgb", "flow"], missing_ok=True)
    assert m.streams == ("rgb",) and m.query_modality == "audio"
    assert m.init_query(make_ctx(XD)) == make_ctx(XD).dims["audio"] and m.text_encoder is None
    with pytest.raises(InputError, match="model streams"):
        m.init_inputs(make_ctx(UCF, ("rgb",)), ["flow"])
    assert select_streams(make_ctx(UCF), ["flow", "rgb"]) == ("rgb", "flow")


def test_protocol_defaults_are_declared():
    assert RetrievalModel.needs_training is True
    assert RetrievalModel.test_time_normalisation is None
    assert get_model("random").needs_training is False


@pytest.mark.parametrize(
    "model,name",
    [(m, n) for m in model_names() if m != "tiny-test" for n in available_config_names(m)],
)
def test_every_named_config_validates(model, name):
    cfg = load_config(name, model=model)
    cls = get_model(model)
    assert cls.config_class is not None
    cls.config_class.from_args(cfg.model_args, model)
