import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from var_bench.errors import DataError, InputError
from var_bench.training import checkpoint as ckpt


class Frozen(nn.Module):
    persist_weights = False

    def __init__(self):
        super().__init__()
        self.w = nn.Linear(3, 3)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.b = nn.Linear(4, 3)
        self.b.weight = nn.Parameter(self.a.weight.t().contiguous())
        self.tied = nn.Linear(4, 3)
        self.tied.weight = self.b.weight  # shared tensor: safetensors needs separate copies
        self.frozen = Frozen()


def test_roundtrip_skips_frozen_and_handles_tied(tmp_path):
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    net.a(torch.randn(2, 3)).sum().backward()
    opt.step()
    folder = ckpt.save_checkpoint(
        tmp_path / "c", net, config={"model": "net"}, context={}, state={"epoch": 3}, optimizer=opt
    )
    assert ckpt.is_checkpoint(folder)
    saved = json.loads((folder / ckpt.STATE_FILE).read_text())
    assert saved["epoch"] == 3 and "param_groups" in saved["optimizer"]
    other = Net()
    ckpt.load_model_weights(other, folder)
    for (k, v), (_, w) in zip(net.state_dict().items(), other.state_dict().items()):
        if not k.startswith("frozen."):
            assert torch.equal(v, w), k
    opt2 = torch.optim.Adam(other.parameters(), lr=0.1)
    ckpt.load_optimizer(opt2, folder, saved)
    s1, s2 = opt.state_dict(), opt2.state_dict()
    for idx in s1["state"]:
        for key, val in s1["state"][idx].items():
            assert torch.equal(torch.as_tensor(val), torch.as_tensor(s2["state"][idx][key]))
    from safetensors.torch import load_file

    assert not any(k.startswith("frozen.") for k in load_file(str(folder / ckpt.MODEL_FILE)))
    assert not list(folder.glob("*.part"))


def test_mismatched_weights_refused(tmp_path):
    folder = ckpt.save_checkpoint(
        tmp_path / "c", nn.Linear(3, 4), config={"model": "x"}, context={}
    )
    with pytest.raises(DataError, match="missing"):
        ckpt.load_model_weights(nn.Sequential(nn.Linear(3, 4)), folder)
    with pytest.raises(InputError, match="expected a checkpoint folder"):
        ckpt.load_model_weights(nn.Linear(3, 4), tmp_path / "nothing")


def test_incomplete_checkpoint_is_not_a_checkpoint(tmp_path):
    folder = ckpt.save_checkpoint(
        tmp_path / "c", nn.Linear(2, 2), config={"model": "x"}, context={}
    )
    (folder / ckpt.STATE_FILE).unlink()
    assert not ckpt.is_checkpoint(folder)


def test_no_pickle_anywhere(tmp_path):
    folder = ckpt.save_checkpoint(
        tmp_path / "c",
        nn.Linear(2, 2),
        config={"model": "x"},
        context={},
        optimizer=torch.optim.Adam(nn.Linear(2, 2).parameters()),
    )
    for f in folder.iterdir():
        head = f.read_bytes()[:2]
        assert head != b"\x80\x02" and not f.name.endswith((".pt", ".pth", ".bin")), f


# ------------------------------------------------------------ hostile checkpoints (issue 11)
# Every bad value is refused by type and range when the checkpoint is read, in one InputError
# line, before any model is built or any weight file is unpickled.

GOOD_CTX = {
    "benchmark": "ucfcrime-ar",
    "query_modality": "text",
    "streams": ["rgb"],
    "dims": {"rgb": 1024},
    "text_model": "x",
}


def _saved(**edits):
    saved = {
        "format": ckpt.CHECKPOINT_FORMAT,
        "var_bench": "0",
        "model": "random",
        "config": {"model": "random"},
        "context": dict(GOOD_CTX),
    }
    for k, v in edits.items():
        if k.startswith("ctx_"):
            saved["context"][k[4:]] = v
        else:
            saved[k] = v
    return saved


@pytest.mark.parametrize(
    ("saved", "state", "needle"),
    [
        (_saved(format=99), {}, "config.json: field format: expected 1, got 99"),  # K10
        (
            _saved(ctx_dims={"rgb": 10**12}),
            {},
            r"config.json: field context.dims.rgb: expected less than or equal to 16384",
        ),  # K7
        (_saved(ctx_dims={"rgb": -3}), {}, "field context.dims.rgb: expected greater"),  # K8
        (_saved(context=None), {}, "field context: expected a dictionary"),  # K8 no context
        (_saved(ctx_streams="rgb"), {}, "field context.streams: expected a valid list"),  # K8
        (_saved(ctx_streams=["rgb", "flow"]), {}, "expected a size for stream 'flow'"),
        ([1, 2], {}, "config.json: expected a mapping of SavedConfig fields, got list"),  # K8
        (_saved(), [], "state.json: expected a JSON object, got list"),  # K8 state.json list
        (_saved(surplus=1), {}, "config.json: expected fields among format, .*got surplus"),
        (_saved(), {"epoch": "3"}, "state.json: field epoch: expected a valid integer"),
        (_saved(), {"history": [1]}, "state.json: field history.0: expected a valid dict"),
        (_saved(), {"best_score": float("nan")}, "state.json: field best_score: expected a fin"),
        (_saved(), {"best_sumr": "high"}, "state.json: field best_score: expected a valid num"),
    ],
)
def test_checkpoint_configs_are_checked_before_building(tmp_path, saved, state, needle) -> None:
    """K7, K8, K10: config.json and state.json of a checkpoint, each validated against its
    schema (SavedConfig; RunState's fields): one line naming the file and the field."""
    with pytest.raises(InputError, match=needle):
        ckpt.check_saved(saved, state, tmp_path)


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
        p.write_bytes((2**62).to_bytes(8, "little") + bytes(raw[8:]))
    elif case == "K3-offsets-beyond":
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8 : 8 + n])
        header["lin.bias"]["data_offsets"] = [0, 10**6]
        h = json.dumps(header).encode().ljust(n)
        p.write_bytes(len(h).to_bytes(8, "little") + h + bytes(raw[8 + n :]))
    elif case == "K3-pickle":
        p.write_bytes(pickle.dumps({"lin.weight": 1}))
    return folder


@pytest.mark.parametrize(
    "case", ["K3-truncated", "K3-header-2^62", "K3-offsets-beyond", "K3-pickle", "K4-transposed"]
)
def test_bad_safetensors_are_input_errors(tmp_path, case) -> None:
    """K3, K4: model.safetensors files that lie about their sizes, hold a pickle or a transposed
    weight."""
    folder = _weights(tmp_path, case)
    with pytest.raises(InputError, match="model.safetensors: expected"):
        ckpt.load_model_weights(_Tiny(), folder)
