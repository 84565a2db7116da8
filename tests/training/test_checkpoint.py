import json

import pytest
import torch
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
    folder = ckpt.save_checkpoint(tmp_path / "c", net, config={"model": "net"}, context={},
                                  state={"epoch": 3}, optimizer=opt)
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
    folder = ckpt.save_checkpoint(tmp_path / "c", nn.Linear(3, 4), config={"model": "x"}, context={})
    with pytest.raises(DataError, match="missing"):
        ckpt.load_model_weights(nn.Sequential(nn.Linear(3, 4)), folder)
    with pytest.raises(InputError, match="expected a checkpoint folder"):
        ckpt.load_model_weights(nn.Linear(3, 4), tmp_path / "nothing")


def test_incomplete_checkpoint_is_not_a_checkpoint(tmp_path):
    folder = ckpt.save_checkpoint(tmp_path / "c", nn.Linear(2, 2), config={"model": "x"}, context={})
    (folder / ckpt.STATE_FILE).unlink()
    assert not ckpt.is_checkpoint(folder)


def test_no_pickle_anywhere(tmp_path):
    folder = ckpt.save_checkpoint(tmp_path / "c", nn.Linear(2, 2), config={"model": "x"},
                                  context={}, optimizer=torch.optim.Adam(nn.Linear(2, 2).parameters()))
    for f in folder.iterdir():
        head = f.read_bytes()[:2]
        assert head != b"\x80\x02" and not f.name.endswith((".pt", ".pth", ".bin")), f
