"""Extractor models: upstream state-dict names load unchanged; weights verification and loading."""

import shutil
import subprocess

import numpy as np
import pytest
import torch

from var_bench.errors import InputError
from var_bench.extract import weights as W
from var_bench.extract.i3d import I3D, same_padding
from var_bench.extract.models import load_encoder
from var_bench.extract.vggish import VGGish, examples_at, log_mel

# pytorch-i3d's InceptionI3d, written out from its source (end point -> Inception channels), so the
# expected keys do not come from our own module tree.
_MIXED = {
    "Mixed_3b": (192, [64, 96, 128, 16, 32, 32]),
    "Mixed_3c": (256, [128, 128, 192, 32, 96, 64]),
    "Mixed_4b": (480, [192, 96, 208, 16, 48, 64]),
    "Mixed_4c": (512, [160, 112, 224, 24, 64, 64]),
    "Mixed_4d": (512, [128, 128, 256, 24, 64, 64]),
    "Mixed_4e": (512, [112, 144, 288, 32, 64, 64]),
    "Mixed_4f": (528, [256, 160, 320, 32, 128, 128]),
    "Mixed_5b": (832, [256, 160, 320, 32, 128, 128]),
    "Mixed_5c": (832, [384, 192, 384, 48, 128, 128]),
}


def _unit(sd, name, cin, cout, k, bn=True, bias=False):
    sd[f"{name}.conv3d.weight"] = torch.randn(cout, cin, *k)
    if bias:
        sd[f"{name}.conv3d.bias"] = torch.randn(cout)
    if bn:  # checkpoints of 2018 torch: no num_batches_tracked
        for p in ("weight", "bias", "running_mean", "running_var"):
            sd[f"{name}.bn.{p}"] = torch.rand(cout) + 0.5


def upstream_i3d_state_dict(in_channels=3, classes=400):
    sd = {}
    _unit(sd, "Conv3d_1a_7x7", in_channels, 64, (7, 7, 7))
    _unit(sd, "Conv3d_2b_1x1", 64, 64, (1, 1, 1))
    _unit(sd, "Conv3d_2c_3x3", 64, 192, (3, 3, 3))
    for name, (cin, o) in _MIXED.items():
        _unit(sd, f"{name}.b0", cin, o[0], (1, 1, 1))
        _unit(sd, f"{name}.b1a", cin, o[1], (1, 1, 1))
        _unit(sd, f"{name}.b1b", o[1], o[2], (3, 3, 3))
        _unit(sd, f"{name}.b2a", cin, o[3], (1, 1, 1))
        _unit(sd, f"{name}.b2b", o[3], o[4], (3, 3, 3))
        _unit(sd, f"{name}.b3b", cin, o[5], (1, 1, 1))
    _unit(sd, "logits", 1024, classes, (1, 1, 1), bn=False, bias=True)
    return sd


@pytest.mark.parametrize("channels", [3, 2])
def test_i3d_loads_the_upstream_state_dict_unchanged(channels):
    sd = upstream_i3d_state_dict(channels)
    model = I3D(in_channels=channels)
    result = model.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(model.Mixed_4f.b2b.conv3d.weight, sd["Mixed_4f.b2b.conv3d.weight"])
    out = model.eval().features(torch.zeros(1, channels, 16, 16, 16))
    assert out.shape == (1, 1024)


def test_same_padding_is_tf_same():
    assert same_padding(224, 7, 2) == (2, 3)
    assert same_padding(16, 7, 2) == (2, 3)
    assert same_padding(15, 3, 2) == (1, 1)
    assert same_padding(8, 2, 2) == (0, 0)
    assert same_padding(7, 3, 1) == (1, 1)


def test_vggish_loads_torchvggish_names():
    convs = [(0, 1, 64), (3, 64, 128), (6, 128, 256), (8, 256, 256), (11, 256, 512), (13, 512, 512)]
    sd = {}
    for i, cin, cout in convs:
        sd[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3)
        sd[f"features.{i}.bias"] = torch.randn(cout)
    for i, (cin, cout) in zip((0, 2, 4), ((12288, 4096), (4096, 4096), (4096, 128))):
        sd[f"embeddings.{i}.weight"] = torch.randn(cout, cin) * 0.01
        sd[f"embeddings.{i}.bias"] = torch.randn(cout) * 0.01
    m = VGGish()
    r = m.load_state_dict(sd, strict=True)
    assert not r.missing_keys and not r.unexpected_keys
    assert m(torch.zeros(2, 1, 96, 64)).shape == (2, 128)


def test_vggish_pca_postprocess_formula(tmp_path):
    rng = np.random.default_rng(0)
    vec, mu = rng.normal(size=(128, 128)), rng.normal(size=128)
    path = tmp_path / "pca.pth"
    torch.save({"pca_eigen_vectors": vec, "pca_means": mu}, path)  # numpy arrays, as torchvggish's
    m = VGGish()
    m.load_pca(W.load_state_dict(path, allow_numpy=True))
    x = torch.from_numpy(rng.normal(size=(3, 128))).float()
    got = m.postprocess(x).numpy()
    want = np.round((np.clip((vec @ (x.numpy().T - mu[:, None])).T, -2, 2) + 2) * 255 / 4)
    np.testing.assert_allclose(got, want, atol=1.0)  # float32 vs float64 may round one step apart
    assert (np.abs(got - want) > 0).mean() < 0.01
    with pytest.raises(InputError, match="weights_only"):
        W.load_state_dict(path)  # numpy needs the explicit allow-list


def test_log_mel_frames_and_examples():
    t = np.arange(16000) / 16000
    mel = log_mel(np.sin(2 * np.pi * 1000 * t))
    assert mel.shape == (1 + (16000 - 400) // 160, 64)
    band = int(np.argmax(mel.mean(0)))
    # The band whose centre (HTK mel, 125-7500 Hz in 64 bands) is nearest 1 kHz.
    mel_of = lambda f: 1127 * np.log(1 + f / 700)  # noqa: E731
    centres = np.linspace(mel_of(125), mel_of(7500), 66)[1:-1]
    assert abs(band - int(np.argmin(np.abs(centres - mel_of(1000))))) <= 1
    ex = examples_at(mel, [50, 96])
    assert ex.shape == (2, 1, 96, 64)
    np.testing.assert_allclose(ex[1, 0], mel[:96], rtol=1e-6)
    assert np.allclose(ex[0, 0, :46], np.log(0.01))  # before the start: silence


def test_weights_verify_git_blob_and_sha256(tmp_path):
    f = tmp_path / "rgb_imagenet.pt"
    torch.save(upstream_i3d_state_dict(), f)
    blob = W.git_blob_sha1(f)
    if shutil.which("git"):
        assert (
            blob
            == subprocess.run(
                ["git", "hash-object", str(f)], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    pin = W.WeightsPin(
        "i3d-rgb", f.name, "https://example.invalid/rgb_imagenet.pt", git_blob_sha1=blob
    )
    vf = W.verify(f, pin)
    assert vf.pinned and len(vf.sha256) == 64
    bad = W.WeightsPin("i3d-rgb", f.name, "u", git_blob_sha1="0" * 40)
    with pytest.raises(InputError, match="git blob"):
        W.verify(f, bad)
    assert not W.verify(f, bad, allow_unpinned=True).pinned
    with pytest.raises(InputError, match="--unpinned-weights"):
        load_encoder("i3d-rgb", str(f))  # the real pin does not match a random state dict
    enc = load_encoder("i3d-rgb", str(f), allow_unpinned=True)
    assert torch.equal(
        enc.module.Conv3d_1a_7x7.conv3d.weight,
        torch.load(f, weights_only=True)["Conv3d_1a_7x7.conv3d.weight"],
    )
    assert enc.weights["sha256"] == vf.sha256 and enc.weights["pinned"] is False


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_weights_only_refuses_pickled_objects(tmp_path):
    f = tmp_path / "evil.pt"
    torch.save({"x": _Evil()}, f)
    with pytest.raises(InputError, match="weights_only=True"):
        W.load_state_dict(f)


def test_missing_weights_say_where_to_get_them(tmp_path):
    with pytest.raises(InputError, match="rgb_imagenet.pt"):
        load_encoder("i3d-rgb", None, home=tmp_path, download=False)
    with pytest.raises(InputError, match="CUDA|cuda"):
        load_encoder("i3d-rgb", "random", precision="fp16")


def test_random_weights_are_seeded_and_flagged():
    a, b = load_encoder("i3d-flow", "random"), load_encoder("i3d-flow", "random")
    assert a.random and a.weights == {"random": True, "seed": 0}
    assert torch.equal(a.module.Mixed_5c.b0.conv3d.weight, b.module.Mixed_5c.b0.conv3d.weight)
    assert a.module.Conv3d_1a_7x7.conv3d.weight.shape[1] == 2
