import pytest

from var_bench.errors import InputError
from var_bench.training import config as cfgmod
from var_bench.training.config import apply_overrides, from_dict, load_config, parse_override


@pytest.fixture
def config_dirs(tmp_path, monkeypatch):
    alan, base = tmp_path / "alan" / "configs", tmp_path / "base" / "configs"
    alan.mkdir(parents=True)
    base.mkdir(parents=True)
    (alan / "alan-ucfcrime-ar.yaml").write_text(
        "model: alan\nmodel_args: {d: 768}\ntrain: {lr: 5e-5}\n"
    )
    (alan / "alan-tiny.yaml").write_text("model: alan\ntrain: {epochs: 2}\n")
    (base / "mmt-tiny.yaml").write_text("model: mmt\ntrain: {epochs: 1, batch_size: 4}\n")
    dirs = {"alan": alan, "mmt": base}
    monkeypatch.setattr(cfgmod, "config_dir", lambda model: dirs.get(model, base))
    return dirs


def test_named_lookup_and_defaults(config_dirs):
    c = load_config(model="alan", benchmark="ucfcrime-ar")
    assert c.model_args == {"d": 768}
    assert c.train.lr == 5e-5  # YAML reads 5e-5 as a string: coerced
    assert load_config("tiny", model="alan").train.epochs == 2
    m = load_config("tiny", model="mmt")
    assert (m.train.epochs, m.train.batch_size) == (1, 4)
    d = load_config(model="mmt", benchmark="xdviolence-ar")  # no named config: defaults
    assert d.model_args == {} and d.train.lr_decay == 0.95 and d.train.amp == "auto"
    assert cfgmod.available_config_names("alan") == ["tiny", "ucfcrime-ar"]
    assert cfgmod.available_config_names("mmt") == ["tiny"]


def test_unknown_name_lists_available(config_dirs):
    with pytest.raises(InputError, match=r"config 'huge'.*\(tiny\)"):
        load_config("huge", model="mmt")


def test_file_and_overrides(tmp_path, config_dirs):
    f = tmp_path / "c.yaml"
    f.write_text("model: mmt\ntrain: {epochs: 5}\ndata: {max_snippets: 64}\n")
    c = load_config(
        str(f),
        model="mmt",
        overrides=[
            "train.epochs=3",
            "model_args.layers=2",
            "text_model=offline",
            "train.grad_clip=null",
        ],
    )
    assert (c.train.epochs, c.data.max_snippets, c.model_args, c.text_model) == (
        3,
        64,
        {"layers": 2},
        "offline",
    )
    assert c.train.grad_clip is None
    assert c.source == str(f)
    with pytest.raises(InputError, match="expected model 'alan', got 'mmt'"):
        load_config(str(f), model="alan")


@pytest.mark.parametrize(
    "override,needle",
    [
        ("train.epoch=3", "unknown config key train.epoch: expected one of epochs, "),
        ("optim.lr=1", "unknown config key optim: expected one of model, model_args"),
        ("data.crop=left", "data.crop: expected one of random, center, mean"),
        ("train.amp=yes", "train.amp: expected one of auto"),
        ("train.epochs=0", "train.epochs: expected a positive integer"),
        ("train.lr=-1", "train.lr: expected a positive number"),
    ],
)
def test_bad_keys_and_values(override, needle):
    with pytest.raises(InputError) as info:
        load_config(None, model="tiny-test", overrides=[override])
    assert needle in str(info.value)


def test_override_parsing():
    assert parse_override("a.b=3") == (["a", "b"], 3)
    assert parse_override("a=[1, 2]") == (["a"], [1, 2])
    assert parse_override("a=x: y: z")[1] == "x: y: z"  # not YAML: kept as text
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_override("novalue")
    raw = {"train": {"epochs": 1}}
    assert apply_overrides(raw, ["train.lr=0.5"]) == {"train": {"epochs": 1, "lr": 0.5}}
    assert raw == {"train": {"epochs": 1}}  # the caller's dict is not mutated
    with pytest.raises(InputError, match="mapping"):
        apply_overrides({"text_model": "x"}, ["text_model.a=1"])


def test_to_yaml_roundtrip(tmp_path):
    c = load_config(None, model="tiny-test", overrides=["train.epochs=7", "model_args.dim=3"])
    f = tmp_path / "r.yaml"
    f.write_text(c.to_yaml())
    assert load_config(str(f), model="tiny-test").to_dict() == c.to_dict()


def test_trainer_options_defaults():
    c = load_config(model="tiny-test")
    assert c.train.samples_per_epoch is None and c.train.checkpoint == "best-val"
    assert c.train.refit_on_train_val is False and not c.train.selects_last
    c = load_config(
        model="tiny-test", overrides=["train.samples_per_epoch=32000", "train.checkpoint=last"]
    )
    assert c.train.samples_per_epoch == 32000 and c.train.selects_last
    assert load_config(
        model="tiny-test", overrides=["train.refit_on_train_val=true"]
    ).train.selects_last


@pytest.mark.parametrize(
    "override,needle",
    [
        (
            "train.samples_per_epoch=0",
            "train.samples_per_epoch: expected a positive integer or null, got 0",
        ),
        (
            "train.samples_per_epoch=true",
            "train.samples_per_epoch: expected a positive integer or null, got True",
        ),
        (
            "train.samples_per_epoch=1.5",
            "train.samples_per_epoch: expected a positive integer or null, got 1.5",
        ),
        ("train.checkpoint=best", "train.checkpoint: expected one of best-val, last, got 'best'"),
        (
            "train.refit_on_train_val=yes please",
            "train.refit_on_train_val: expected true or false, got 'yes please'",
        ),
        ("train.refit_on_train_val=1", "train.refit_on_train_val: expected true or false, got 1"),
        ("data.max_snippets=0", "data.max_snippets: expected a positive integer or null, got 0"),
        ("train.epochs=true", "train.epochs: expected an integer, got True"),
    ],
)
def test_trainer_options_are_validated_at_load(override, needle):
    with pytest.raises(InputError) as info:
        load_config(model="tiny-test", overrides=[override])
    assert str(info.value) == needle


def test_refit_refuses_patience():
    with pytest.raises(
        InputError, match="train.patience: expected null with train.refit_on_train_val"
    ):
        load_config(
            model="tiny-test", overrides=["train.refit_on_train_val=true", "train.patience=3"]
        )


# ------------------------------------------------------------ hostile values (issue 11)
# Every bad value is refused by type and range when the config is read, in one InputError line,
# before any model is built.


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("lr", float("nan"), "train.lr: expected a finite number"),
        ("lr", float("inf"), "train.lr: expected a finite number"),
        ("lr", True, "train.lr: expected a finite number"),
        ("weight_decay", "abc", "train.weight_decay: expected a finite number"),
        ("weight_decay", -5, "train.weight_decay: expected a number >= 0"),
        ("seed", "abc", "train.seed: expected an integer"),
        ("seed", -1, r"train.seed: expected an integer in \[0"),
        ("grad_clip", float("nan"), "train.grad_clip: expected a finite number"),
        ("epochs", True, "train.epochs: expected an integer"),
        ("find_unused_parameters", "maybe", "find_unused_parameters: expected true or false"),
    ],
)
def test_config_values_are_checked_at_load(key, value, needle) -> None:
    """K12, T6."""
    with pytest.raises(InputError, match=needle):
        from_dict({"model": "random", "train": {key: value}})


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"dim": 10**7}, r"model_args.dim: expected an integer in \[0, 16384\]"),
        ({"dim": -5}, "model_args.dim"),
        ({"layers": 10**12}, "model_args.layers"),
        ({"dropout": float("nan")}, "model_args.dropout: expected a finite number"),
        ({"enc": {"hidden_dim": 10**9}}, "model_args.enc.hidden_dim"),
    ],
)
def test_model_sizes_are_bounded_before_building(args, needle) -> None:
    """K7."""
    with pytest.raises(InputError, match=needle):
        from_dict({"model": "random", "model_args": args})


def test_non_utf8_yaml_is_one_line(tmp_path) -> None:
    """T6."""
    p = tmp_path / "binary.yaml"
    p.write_bytes(b"\xff\xfe\x00 train: 1")
    with pytest.raises(InputError, match="expected a UTF-8 YAML config"):
        load_config(p, model="random")
