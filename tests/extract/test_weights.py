"""Fetching the extractor's pinned weights into the data home (``download_weights``, ``var-bench
weights``, ``var-bench extract`` without ``--weights``).

Real weights cannot exist here: the tests save small random state dicts, serve them from a
loopback HTTP server or a folder mirror laid out ``<owner>-<repo>/<file name>``, and pin them
(git blob id, sha256 prefix, full sha256) in :class:`WeightsPin` objects swapped into ``PINS``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import torch
from support.httpserver import Fault, serve_folder

from var_bench.cli import main
from var_bench.data.fetch import RetryPolicy
from var_bench.errors import DownloadError, InputError
from var_bench.extract import weights as W

FAST = RetryPolicy(attempts=5, backoff=0.001, timeout=5.0)
FOLDER = "acme-models"
KINDS = ["git_blob_sha1", "sha256_prefix", "sha256"]


def save_state(path: Path, seed: int = 0, n: int = 300) -> bytes:
    """A small random state dict (``torch.save``, ~360 kB: several 64 KiB chunks) at ``path``."""
    g = torch.Generator().manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"layer.weight": torch.randn(n, n, generator=g), "layer.bias": torch.zeros(n)}, path)
    return path.read_bytes()


def pin_for(key: str, filename: str, data: bytes, kind: str, folder: str = FOLDER) -> W.WeightsPin:
    """A pin of ``data`` checked by ``kind`` (a WeightsPin field name)."""
    sha = hashlib.sha256(data).hexdigest()
    value = {
        "git_blob_sha1": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
        "sha256_prefix": sha[:8],
        "sha256": sha,
    }[kind]
    return W.WeightsPin(
        key, filename, f"https://example.invalid/{filename}", mirror_folder=folder, **{kind: value}
    )


@pytest.fixture
def mirror(tmp_path) -> Path:
    return tmp_path / "mirror"


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def leftovers(folder: Path) -> list[Path]:
    return (
        sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock"))
        if folder.exists()
        else []
    )


def run_cli(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return info.value.code, out, err


# --- the real pins (no network) ----------------------------------------------------------------


def test_real_pins_have_a_mirror_key_a_url_and_one_check():
    kinds = {}
    for key, pin in W.PINS.items():
        assert pin.key == key
        assert re.fullmatch(
            r"[A-Za-z0-9_.]+-[A-Za-z0-9_.-]+/" + re.escape(pin.filename), pin.mirror_key
        )
        assert pin.source.key == pin.mirror_key and pin.source.size is None
        assert pin.source.max_size == W.SIZE_CAPS[pin.key] < 1 << 30  # W6: a cap per file
        url = urlsplit(pin.url)
        assert url.scheme == "https" and url.path.endswith("/" + pin.filename), pin.url
        if url.netloc == "github.com":  # the mirror folder is the GitHub <owner>-<repo>
            owner, repo = url.path.split("/")[1:3]
            assert pin.mirror_folder == f"{owner}-{repo}"
        kinds[key] = pin.check.kind
        assert re.fullmatch(r"[0-9a-f]+", pin.check.value)
    assert kinds == {
        "i3d-rgb": "git-blob",
        "i3d-flow": "git-blob",
        "vggish": "sha256-prefix",
        "vggish-pca": "sha256-prefix",
        "raft": "sha256",
        "clip-vit-b16": "sha256",
    }
    assert W.I3D_COMMIT in W.PINS["i3d-rgb"].url and W.I3D_COMMIT in W.PINS["i3d-flow"].url
    for key in ("vggish", "vggish-pca", "raft"):  # torch-hub names carry the sha256 prefix
        pin = W.PINS[key]
        assert pin.filename.rsplit("-", 1)[1].split(".")[0] == pin.check.value[:8]
    clip = W.PINS["clip-vit-b16"]
    assert f"/{clip.sha256}/" in clip.url
    assert {p.mirror_key for p in W.PINS.values()} == {
        "piergiaj-pytorch-i3d/rgb_imagenet.pt",
        "piergiaj-pytorch-i3d/flow_imagenet.pt",
        "harritaylor-torchvggish/vggish-10086976.pth",
        "harritaylor-torchvggish/vggish_pca_params-970ea276.pth",
        "pytorch-vision/raft_large_C_T_SKHT_V2-ff5fadd5.pth",
        "openai-CLIP/ViT-B-16.pt",
    }


def test_a_pin_has_exactly_one_check():
    with pytest.raises(InputError, match="exactly one"):
        W.WeightsPin("x", "x.pt", "u", sha256="ab", sha256_prefix="ab")
    with pytest.raises(InputError, match="exactly one"):
        W.WeightsPin("x", "x.pt", "u")
    with pytest.raises(InputError, match="expected one of"):
        W.download_weights("no-such-model")


# --- download_weights --------------------------------------------------------------------------


@pytest.mark.network
@pytest.mark.parametrize("kind", KINDS)
def test_download_then_the_cached_file_is_used_with_no_request(mirror, home, kind, caplog):
    data = save_state(mirror / FOLDER / "m.pt")
    pin = pin_for("m", "m.pt", data, kind)
    with serve_folder(mirror) as server:
        with caplog.at_level("INFO", logger="var_bench.extract.weights"):
            path = W.download_weights(pin, home=home, mirror=server.url, retry=FAST)
        assert server.hits[pin.mirror_key] == 1
        assert W.download_weights(pin, home=home, mirror=server.url, retry=FAST) == path
        assert W.resolve(pin, None, home, download=True, mirror=server.url) == path
        assert server.total_hits() == 1
    assert path == home / "weights" / "m.pt" and path.read_bytes() == data
    assert leftovers(home) == [path]
    assert any(
        f"fetching m.pt from {server.url}/{FOLDER}/m.pt" in r.getMessage() for r in caplog.records
    )
    assert W.verify(path, pin).pinned
    assert torch.equal(W.load_state_dict(path)["layer.bias"], torch.zeros(300))


@pytest.mark.network
@pytest.mark.parametrize("kind", KINDS)
def test_a_served_file_that_does_not_match_is_refused(mirror, home, kind):
    data = save_state(mirror / FOLDER / "m.pt")
    pin = pin_for("m", "m.pt", data, kind)
    with serve_folder(mirror, {pin.mirror_key: Fault.corrupt()}) as server:
        with pytest.raises(DownloadError) as err:
            W.download_weights(pin, home=home, mirror=server.url, retry=FAST)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{pin.mirror_key}: ")
    assert re.search(
        r"mismatch: expected .*" + pin.check.value + r".*, got [0-9a-f]{40,64} \(from http", msg
    )
    assert leftovers(home) == []  # nothing at the final name, no .part


@pytest.mark.network
def test_an_interrupted_part_is_resumed(mirror, home):
    data = save_state(mirror / FOLDER / "m.pt")
    pin = pin_for("m", "m.pt", data, "git_blob_sha1")
    part = home / "weights" / ".m.pt.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:123_456])  # a killed earlier download
    with serve_folder(mirror) as server:
        W.download_weights(pin, home=home, mirror=server.url, retry=FAST)
        assert server.ranges(pin.mirror_key) == ["bytes=123456-"]
    assert (home / "weights" / "m.pt").read_bytes() == data and not part.exists()


@pytest.mark.network
def test_a_dropped_connection_is_resumed(mirror, home):
    data = save_state(mirror / FOLDER / "m.pt")
    pin = pin_for("m", "m.pt", data, "sha256_prefix")
    with serve_folder(mirror, {pin.mirror_key: Fault.drop(times=1)}) as server:
        W.download_weights(pin, home=home, mirror=server.url, retry=FAST)
        ranges = server.ranges(pin.mirror_key)
    assert ranges[0] is None and ranges[1].startswith("bytes=")
    assert (home / "weights" / "m.pt").read_bytes() == data


def test_a_symlinked_file_in_the_data_home_counts(mirror, home, tmp_path):
    data = save_state(tmp_path / "elsewhere" / "m.pt")
    pin = pin_for("m", "m.pt", data, "sha256")
    (home / "weights").mkdir(parents=True)
    (home / "weights" / "m.pt").symlink_to(tmp_path / "elsewhere" / "m.pt")
    mirror.mkdir()  # empty: fetching anything from it would fail
    assert [s.state for s in W.weights_status(home, keys=[pin])] == ["verified"]
    assert W.download_weights(pin, home=home, mirror=str(mirror)) == home / "weights" / "m.pt"
    assert (home / "weights" / "m.pt").is_symlink()  # used as is: not replaced, nothing fetched
    (home / "weights" / "m.pt").unlink()
    (home / "weights" / "m.pt").symlink_to(tmp_path / "nowhere.pt")  # dangling: no file
    assert [s.state for s in W.weights_status(home, keys=[pin])] == ["missing"]
    (home / "weights" / "m.pt").unlink()
    (home / "weights" / "m.pt").mkdir()  # something, but not the file
    assert [s.state for s in W.weights_status(home, keys=[pin])] == ["mismatch"]


def test_folder_mirror_from_the_environment(mirror, home, monkeypatch):
    data = save_state(mirror / FOLDER / "m.pt")
    pin = pin_for("m", "m.pt", data, "sha256")
    monkeypatch.setenv("VAR_BENCH_MIRROR", str(mirror))
    assert W.download_weights(pin, home=home).read_bytes() == data
    monkeypatch.setenv("VAR_BENCH_MIRROR", str(mirror / "nowhere"))
    with pytest.raises(InputError, match="mirror: expected"):
        W.download_weights(pin, home=home)


def test_without_download_a_missing_file_names_its_url(home):
    pin = W.PINS["i3d-rgb"]
    with pytest.raises(InputError) as err:
        W.resolve(pin, None, home, download=False)
    assert str(err.value) == (
        f"weights: expected rgb_imagenet.pt at {home / 'weights' / 'rgb_imagenet.pt'} "
        f"(download it from {pin.url}, or run 'var-bench weights fetch i3d-rgb') "
        f"or --weights PATH, found nothing"
    )


# --- var-bench weights -------------------------------------------------------------------------


@pytest.fixture
def test_pins(mirror, monkeypatch) -> dict[str, W.WeightsPin]:
    """Three pins (one per check kind) of files in ``mirror``, in place of the real PINS."""
    pins = {}
    for i, kind in enumerate(KINDS):
        name = f"w{i}.pt"
        pins[f"model-{i}"] = pin_for(
            f"model-{i}", name, save_state(mirror / FOLDER / name, seed=i), kind
        )
    monkeypatch.setattr(W, "PINS", pins)
    return pins


def test_weights_list_shows_each_pin_and_its_state(test_pins, mirror, home, capsys):
    (home / "weights").mkdir(parents=True)
    (home / "weights" / "w0.pt").write_bytes((mirror / FOLDER / "w0.pt").read_bytes())
    (home / "weights" / "w1.pt").write_bytes(b"not the pinned file")
    code, out, _ = run_cli(capsys, "weights", "list", "--home", home)
    assert code == 0
    lines = out.splitlines()
    p0, p1, p2 = test_pins.values()
    assert lines[0] == f"model-0       verified  w0.pt  ({p0.describe()})"
    assert lines[1].strip() == p0.url
    assert lines[2] == f"model-1       mismatch  w1.pt  ({p1.describe()})"
    assert lines[4] == f"model-2       missing   w2.pt  ({p2.describe()})"
    assert lines[-2] == f"in {home / 'weights'}"
    prefix_only = [k for k, p in test_pins.items() if p.sha256_prefix]
    assert lines[-1].startswith(f"note: {', '.join(prefix_only)}: only a sha256 prefix is known")
    code, out, _ = run_cli(capsys, "weights", "list", "--home", home, "--json")
    rows = json.loads(out)
    assert [(r["model"], r["state"], r["mirror_key"]) for r in rows] == [
        ("model-0", "verified", f"{FOLDER}/w0.pt"),
        ("model-1", "mismatch", f"{FOLDER}/w1.pt"),
        ("model-2", "missing", f"{FOLDER}/w2.pt"),
    ]
    assert rows[2]["check"] == p2.describe() and rows[2]["url"] == p2.url
    assert [r["full_digest"] for r in rows] == [p.sha256_prefix is None for p in (p0, p1, p2)]


def test_every_pin_is_a_full_digest_except_where_only_a_prefix_is_published():
    """RAFT and CLIP: the full sha256; I3D: the git blob id; VGGish: torchvggish publishes only
    the sha256 prefix in its file names (docs/security.md says so, and so does weights list)."""
    assert {k for k, p in W.PINS.items() if not p.full_digest} == {"vggish", "vggish-pca"}
    for key in ("raft", "clip-vit-b16"):
        assert re.fullmatch(r"[0-9a-f]{64}", W.PINS[key].sha256)


@pytest.mark.network
def test_weights_fetch_over_http_then_from_the_cache(test_pins, mirror, home, capsys):
    with serve_folder(mirror) as server:
        code, out, err = run_cli(
            capsys, "weights", "fetch", "model-0", "model-2", "--home", home, "--mirror", server.url
        )
        assert code == 0, out + err
        assert out.splitlines() == [
            f"model-0: w0.pt verified ({test_pins['model-0'].describe()})  ->  "
            f"{home / 'weights' / 'w0.pt'}",
            f"model-2: w2.pt verified ({test_pins['model-2'].describe()})  ->  "
            f"{home / 'weights' / 'w2.pt'}",
        ]
        assert "fetching w0.pt" in err and "fetching w2.pt" in err
        code, out, err = run_cli(capsys, "weights", "fetch", "--home", home, "--mirror", server.url)
        assert code == 0 and len(out.splitlines()) == 3
        assert "fetching w1.pt" in err and "fetching w0.pt" not in err
        assert server.total_hits() == 3  # one request per file, ever
    code, out, _ = run_cli(capsys, "weights", "fetch", "nope", "--home", home)
    assert code == 2 and "expected one of model-0, model-1, model-2, got 'nope'" in out


@pytest.mark.network
def test_weights_fetch_refuses_a_mismatch_in_one_line(test_pins, mirror, home, capsys):
    pin = test_pins["model-1"]
    with serve_folder(mirror, {pin.mirror_key: Fault.corrupt()}) as server:
        code, out, err = run_cli(
            capsys, "weights", "fetch", "model-1", "--home", home, "--mirror", server.url
        )
    assert code == DownloadError.exit_code
    line = out.strip()
    assert "\n" not in line and "Traceback" not in out + err
    assert line.startswith(
        f"var-bench: error: {pin.mirror_key}: sha256 mismatch: expected a sha256 "
        f"starting {pin.sha256_prefix}, got "
    )
    assert leftovers(home) == []


# --- var-bench extract without --weights -------------------------------------------------------


def test_extract_no_download_fails_naming_the_url(ucf_videos, tmp_path, capsys):
    root, _ = ucf_videos
    code, out, err = run_cli(
        capsys,
        "extract",
        "ucfcrime-ar",
        "--videos",
        root,
        "--out",
        tmp_path / "o",
        "--model",
        "i3d-rgb",
        "--no-download",
    )
    assert code == 2 and "Traceback" not in out + err
    assert (
        "expected rgb_imagenet.pt at " in out
        and f"(download it from {W.PINS['i3d-rgb'].url}," in out
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.network
def test_extract_refuses_a_download_that_does_not_match(
    ucf_videos, tmp_path, mirror, monkeypatch, capsys
):
    root, _ = ucf_videos
    data = save_state(mirror / "piergiaj-pytorch-i3d" / "rgb_imagenet.pt")
    pin = pin_for("i3d-rgb", "rgb_imagenet.pt", data, "git_blob_sha1", "piergiaj-pytorch-i3d")
    monkeypatch.setitem(W.PINS, "i3d-rgb", pin)
    with serve_folder(mirror, {pin.mirror_key: Fault.corrupt()}) as server:
        code, out, err = run_cli(
            capsys,
            "extract",
            "ucfcrime-ar",
            "--videos",
            root,
            "--out",
            tmp_path / "o",
            "--model",
            "i3d-rgb",
            "--mirror",
            server.url,
        )
    assert code == DownloadError.exit_code and "Traceback" not in out + err
    assert f"{pin.mirror_key}: git blob id mismatch: expected {pin.git_blob_sha1}, got " in out
    home = tmp_path / "home"  # built_home's $VAR_BENCH_HOME
    assert leftovers(home / "weights") == []  # no rgb_imagenet.pt, no .part
    assert not (tmp_path / "o").exists()


@pytest.mark.network
def test_extract_fetches_missing_weights_and_uses_them(
    ucf_videos, tmp_path, mirror, monkeypatch, caplog
):
    from var_bench.extract import extract

    from .conftest import UCF_SMALL
    from .test_models import upstream_i3d_state_dict

    root, counts = ucf_videos
    upstream = mirror / "piergiaj-pytorch-i3d" / "rgb_imagenet.pt"
    upstream.parent.mkdir(parents=True)
    torch.save(upstream_i3d_state_dict(), upstream)
    pin = pin_for(
        "i3d-rgb", "rgb_imagenet.pt", upstream.read_bytes(), "git_blob_sha1", "piergiaj-pytorch-i3d"
    )
    monkeypatch.setitem(W.PINS, "i3d-rgb", pin)
    some = sorted(counts)[:2]
    home = tmp_path / "home"
    with serve_folder(mirror) as server:
        with caplog.at_level("INFO", logger="var_bench.extract.weights"):
            res = extract(
                "ucfcrime-ar",
                root,
                tmp_path / "o",
                "i3d-rgb",
                recipe=UCF_SMALL,
                ids=some,
                mirror=server.url,
            )
        again = extract(
            "ucfcrime-ar",
            root,
            tmp_path / "o2",
            "i3d-rgb",
            recipe=UCF_SMALL,
            ids=some,
            mirror=server.url,
        )
        assert server.total_hits() == 1  # the second run found the verified file
    got = home / "weights" / "rgb_imagenet.pt"
    assert got.read_bytes() == upstream.read_bytes()
    w = res.identity["weights"]
    assert w["pinned"] is True and w["random"] is False and res.identity["random_weights"] is False
    assert (
        w["sha256"] == hashlib.sha256(got.read_bytes()).hexdigest() and w["pin"] == pin.describe()
    )
    assert again.identity["weights"] == w and len(res.done) == 2
    assert any(
        "weights i3d-rgb: fetching rgb_imagenet.pt" in r.getMessage() for r in caplog.records
    )


class _Evil:
    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_a_pickle_with_code_is_refused_without_torchs_advice_to_trust_it(tmp_path):
    """W10: the refusal names what was refused, and never quotes torch's hint to re-run with
    weights_only=False."""
    torch.save({"a": _Evil()}, tmp_path / "evil.pt")
    with pytest.raises(InputError, match="unsupported GLOBAL .*getcwd") as info:
        W.load_state_dict(tmp_path / "evil.pt")
    assert "set to `False`" not in str(info.value) and "Re-running" not in str(info.value)


@pytest.mark.parametrize(
    "served", [False, pytest.param(True, marks=pytest.mark.network)], ids=["folder", "http"]
)
def test_w6_a_file_over_its_size_cap_is_refused_before_its_body(mirror, home, served):
    """W6: a weights file is fetched under its own cap (its approximate size), not the 4 GiB
    one for files of unknown size: a larger file is refused from its announced size, before
    its bytes are written, and nothing is left."""
    import dataclasses

    data = save_state(mirror / FOLDER / "m.pt")
    pin = dataclasses.replace(pin_for("m", "m.pt", data, "sha256"), max_bytes=len(data) - 1)
    with pytest.raises(DownloadError) as err:
        if served:
            with serve_folder(mirror) as server:
                W.download_weights(pin, home=home, mirror=server.url, retry=FAST)
        else:
            W.download_weights(pin, home=home, mirror=str(mirror), retry=FAST)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{pin.mirror_key}: expected at most {len(data) - 1}")
    assert "its cap from its known approximate size" in msg and f"got {len(data)}" in msg
    assert leftovers(home) == []
    pin = dataclasses.replace(pin, max_bytes=len(data))
    assert W.download_weights(pin, home=home, mirror=str(mirror), retry=FAST).read_bytes() == data
