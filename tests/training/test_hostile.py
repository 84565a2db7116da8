"""Red-team cases of configs and checkpoints (issue 11, report K1, K3, K4, K7, K8, K10, K12, T6):
every bad value is refused by type and range when the config or checkpoint is read, in one
InputError line, before any model is built or any weight file is unpickled."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from var_bench.errors import InputError
from var_bench.training import checkpoint as ckpt
from var_bench.training.config import from_dict, load_config

GOOD_CTX = {"benchmark": "ucfcrime-ar", "query_modality": "text", "streams": ["rgb"],
            "dims": {"rgb": 1024}, "text_model": "x"}


# ------------------------------------------------------------ K12, T6: config values


@pytest.mark.parametrize(("key", "value", "needle"), [
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
])
def test_K12_config_values_are_checked_at_load(key, value, needle) -> None:
    with pytest.raises(InputError, match=needle):
        from_dict({"model": "random", "train": {key: value}})


@pytest.mark.parametrize(("args", "needle"), [
    ({"dim": 10 ** 7}, r"model_args.dim: expected an integer in \[0, 16384\]"),
    ({"dim": -5}, "model_args.dim"),
    ({"layers": 10 ** 12}, "model_args.layers"),
    ({"dropout": float("nan")}, "model_args.dropout: expected a finite number"),
    ({"enc": {"hidden_dim": 10 ** 9}}, "model_args.enc.hidden_dim"),
])
def test_K7_model_sizes_are_bounded_before_building(args, needle) -> None:
    with pytest.raises(InputError, match=needle):
        from_dict({"model": "random", "model_args": args})


def test_T6_non_utf8_yaml_is_one_line(tmp_path) -> None:
    p = tmp_path / "binary.yaml"
    p.write_bytes(b"\xff\xfe\x00 train: 1")
    with pytest.raises(InputError, match="expected a UTF-8 YAML config"):
        load_config(p, model="random")


# ------------------------------------------------------------ K7, K8, K10: checkpoint config.json


def _saved(**edits):
    saved = {"format": ckpt.CHECKPOINT_FORMAT, "model": "random", "config": {"model": "random"},
             "context": dict(GOOD_CTX)}
    for k, v in edits.items():
        if k.startswith("ctx_"):
            saved["context"][k[4:]] = v
        else:
            saved[k] = v
    return saved


@pytest.mark.parametrize(("saved", "state", "needle"), [
    (_saved(format=99), {}, "expected checkpoint format 1, got 99"),          # K10
    (_saved(ctx_dims={"rgb": 10 ** 12}), {}, r"context.dims.rgb: expected an integer in \[1"),  # K7
    (_saved(ctx_dims={"rgb": -3}), {}, "context.dims.rgb"),                   # K8 negative
    (_saved(context=None), {}, "expected a 'context' object"),                # K8 no context
    (_saved(ctx_streams="rgb"), {}, "context.streams"),                       # K8 bad streams
    (_saved(ctx_streams=["rgb", "flow"]), {}, "expected a size for stream 'flow'"),
    ([1, 2], {}, "expected a JSON object, got list"),                         # K8 config.json list
    (_saved(), [], "state.json: expected a JSON object, got list"),          # K8 state.json list
])
def test_K8_checkpoint_configs_are_checked_before_building(tmp_path, saved, state, needle) -> None:
    with pytest.raises(InputError, match=needle):
        ckpt.check_saved(saved, state, tmp_path)


# ------------------------------------------------------------ K3, K4: safetensors files


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2)


def _weights(tmp_path: Path, case: str) -> Path:
    folder = tmp_path / case
    folder.mkdir()
    p = folder / ckpt.MODEL_FILE
    if case == "K4-transposed":
        save_file({"lin.weight": torch.zeros(3, 2), "lin.bias": torch.zeros(2)}, str(p))
        return folder
    save_file({"lin.weight": torch.zeros(2, 3), "lin.bias": torch.zeros(2)}, str(p))
    raw = bytearray(p.read_bytes())
    if case == "K3-truncated":
        p.write_bytes(bytes(raw[: len(raw) // 2]))
    elif case == "K3-header-2^62":
        p.write_bytes((2 ** 62).to_bytes(8, "little") + bytes(raw[8:]))
    elif case == "K3-offsets-beyond":
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        header["lin.bias"]["data_offsets"] = [0, 10 ** 6]
        h = json.dumps(header).encode().ljust(n)
        p.write_bytes(len(h).to_bytes(8, "little") + h + bytes(raw[8 + n:]))
    elif case == "K3-pickle":
        p.write_bytes(pickle.dumps({"lin.weight": 1}))
    return folder


@pytest.mark.parametrize("case", ["K3-truncated", "K3-header-2^62", "K3-offsets-beyond",
                                  "K3-pickle", "K4-transposed"])
def test_K3_K4_bad_safetensors_are_input_errors(tmp_path, case) -> None:
    folder = _weights(tmp_path, case)
    with pytest.raises(InputError, match="model.safetensors: expected"):
        ckpt.load_model_weights(_Tiny(), folder)


# ------------------------------------------------------------ K1: text-model folders


def test_K1_text_model_folder_with_only_a_pickle_is_refused(tmp_path) -> None:
    from transformers import BertConfig, BertTokenizerFast

    folder = tmp_path / "evil-text-model"
    folder.mkdir()
    BertConfig(vocab_size=8, hidden_size=4, num_hidden_layers=1, num_attention_heads=1,
               intermediate_size=4).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]))
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Evil()))
    from var_bench.models.text import load_text_encoder

    with pytest.raises(InputError, match="model.safetensors"):
        load_text_encoder(str(folder))
    assert not marker.exists()
