"""Pinned upstream files: the one place their URLs, sizes and sha256 digests live.

Every file is pinned to a commit of its GitHub repository, so a real download fetches
``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>`` and checks size and sha256.
A mirror (a folder, or an HTTP server) lays the same files out as ``<owner>-<repo>/<file name>``;
that relative path is also a file's key and its place in the data home's ``raw/`` cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from .errors import InputError

RAW_GITHUB = "https://raw.githubusercontent.com"

#: Environment variable that names a mirror (a folder or an http(s) URL); ``--mirror`` overrides it.
MIRROR_ENV = "VAR_BENCH_MIRROR"


@dataclass(frozen=True)
class SourceFile:
    """One upstream file, pinned to a commit; ``size`` in bytes, ``sha256`` as lowercase hex."""

    owner: str
    repo: str
    commit: str
    path: str
    size: int
    sha256: str
    license: str
    description: str

    @property
    def name(self) -> str:
        """The file name (the last component of ``path``)."""
        return PurePosixPath(self.path).name

    @property
    def key(self) -> str:
        """``<owner>-<repo>/<file name>``: the mirror layout and the cache layout."""
        return f"{self.owner}-{self.repo}/{self.name}"

    @property
    def url(self) -> str:
        """The pinned upstream URL (the path is URL-quoted: one upstream path has a space)."""
        return f"{RAW_GITHUB}/{self.owner}/{self.repo}/{self.commit}/{quote(self.path)}"

    @property
    def repository(self) -> str:
        return f"https://github.com/{self.owner}/{self.repo}"

    def mirror_location(self, mirror: str) -> str:
        """Where this file lives under ``mirror`` (a folder path, ``file://`` URL or http(s) URL)."""
        if is_http(mirror):
            return f"{mirror.rstrip('/')}/{quote(self.key)}"
        return os.path.join(mirror_folder(mirror), self.owner + "-" + self.repo, self.name)


def is_http(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def mirror_folder(mirror: str) -> str:
    """The local folder a non-HTTP mirror names (``file://`` URLs are accepted)."""
    return mirror[len("file://"):] if mirror.startswith("file://") else mirror


def resolve_mirror(mirror: str | None) -> str | None:
    """``mirror`` if given, else ``$VAR_BENCH_MIRROR``, else None (fetch from upstream).

    A folder mirror must exist; an error names what was expected and what arrived.
    """
    mirror = mirror or os.environ.get(MIRROR_ENV) or None
    if mirror is None or is_http(mirror):
        return mirror
    if not os.path.isdir(mirror_folder(mirror)):
        raise InputError(
            f"mirror: expected an http(s) URL or a folder laid out <owner>-<repo>/<file>, "
            f"got {mirror!r}, which is neither"
        )
    return mirror


_VAR = ("Roc-Ng", "VAR", "a724ee1f248a38383a29a1c256a1f3672cb15466")
_XDVIODET = ("Roc-Ng", "XDVioDet", "f846d8cfc454943ec165bd2489b71e7dc0a1064d")
_XDV = ("Roc-Ng", "XD-Violence", "3d4db78b15db767d31b1799be08b33a7bead9219")
_SULTANI = ("WaqasSultani", "AnomalyDetectionCVPR2018", "8aa957cdaa7eac821e07115fe63920c3b07da59d")
_URDMU = ("henrryzh1", "UR-DMU", "40cfdf5f8bebbc3b59373935f9d6ca00e2f32bbc")

_NO_LICENSE = "no licence file; research use, cite the papers"

SOURCES: tuple[SourceFile, ...] = (
    SourceFile(*_VAR, "ucf_crime_train.xlsx", 142895,
               "c502ae84404af24c5737fbf6ece366d0880ef8623fc9b2826ba86de9883eb0cc", _NO_LICENSE,
               "UCFCrime-AR captions, train (1610 rows; Video Name, Chinese Text, English Text)"),
    SourceFile(*_VAR, "ucf_crime_test.xlsx", 42880,
               "86638212e509b8ba0e9d5e9c81af5b3d5b6f427bd33a9c0b5ba36f202e998a85", _NO_LICENSE,
               "UCFCrime-AR captions, test (290 rows)"),
    SourceFile(*_SULTANI, "Anomaly_Train.txt", 70394,
               "ea91e03de7581bfa6b139e663ebb7511ab1651c33427f85741d3f497a2027744", _NO_LICENSE,
               "official UCF-Crime anomaly-detection train split (1610 Class/Name.mp4)"),
    SourceFile(*_SULTANI, "Temporal_Anomaly_Annotation.txt", 15574,
               "3b9542413f2ed9e94f73bf0488c151b3d7d595a8d2ad30f524e9243a2ae2a17c", _NO_LICENSE,
               "official UCF-Crime test temporal annotation (290 lines, frames)"),
    SourceFile(*_URDMU, "list/UCF_Annotation.txt", 21149,
               "bdf45085ca9d13904b00c60e6cb2ba903f5836f854626fd4350b3d748e58d189", "MIT",
               "UCF-Crime test annotation with per-video frame counts"),
    SourceFile(*_XDVIODET, "list/audio.list", 389711,
               "8cf666783b12f9a5a679a91f3c0a6a28f8b65a8f919172ba9e2892ca988db1d2", _NO_LICENSE,
               "XD-Violence VGGish train list (3954 videos; canonical train order)"),
    SourceFile(*_XDVIODET, "list/audio_test.list", 79193,
               "42efb26f799c7528bd26cc579ce32ddf7ec1a18d3c0c19ff67f825d01f2dc761", _NO_LICENSE,
               "XD-Violence VGGish test list (800 videos; canonical test order)"),
    SourceFile(*_XDV, "images/annotations.txt", 33061,
               "27b583ba06fe2e096d7e3d281845365c3b24de7e30797ae5c1ec771667e04c2f", _NO_LICENSE,
               "official XD-Violence test temporal annotations (violent videos, frames at 24 fps)"),
)

_BY_KEY = {s.key: s for s in SOURCES}


def source(key: str) -> SourceFile:
    """The pinned file with this ``<owner>-<repo>/<file name>`` key."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise InputError(f"unknown source file: expected one of {sorted(_BY_KEY)}, got {key!r}") from None
