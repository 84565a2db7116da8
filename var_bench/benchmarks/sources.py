"""Pinned upstream files: the :class:`SourceFile` type and where a file lives on a mirror.

Each benchmark unit declares its own files (URL parts, size, sha256) in its spec's ``sources``.

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

from var_bench.errors import InputError

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


NO_LICENSE = "no licence file; research use, cite the papers"
