"""Pinned upstream files: the :class:`SourceFile` type, how a pinned file's bytes are checked
(:class:`Check`), and where a file lives on a mirror.

Each benchmark unit declares its own files (URL parts, size, sha256) in its spec's ``sources``.

Every file is pinned to a commit of its GitHub repository, so a real download fetches
``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>`` and checks size and sha256.
A mirror (a folder, or an HTTP server) lays the same files out as ``<owner>-<repo>/<file name>``;
that relative path is also a file's key and its place in the data home's ``raw/`` cache.

Files pinned elsewhere (the extractor's weights) are a :class:`PinnedFile`: a key in the same
mirror layout, a URL, an optional size, and a :class:`Check` (full sha256, a sha256 prefix, or a
git blob id). The fetcher (:mod:`var_bench.data.fetch`) takes either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from var_bench.errors import InputError
from var_bench.fsutil import git_blob_sha1, sha256_file

RAW_GITHUB = "https://raw.githubusercontent.com"

#: Environment variable that names a mirror (a folder or an http(s) URL); ``--mirror`` overrides it.
MIRROR_ENV = "VAR_BENCH_MIRROR"


SHA256, SHA256_PREFIX, GIT_BLOB = "sha256", "sha256-prefix", "git-blob"
CHECK_KINDS = (SHA256, SHA256_PREFIX, GIT_BLOB)


@dataclass(frozen=True)
class Check:
    """What a pinned file's bytes must hash to, as lowercase hex.

    ``kind``: ``sha256`` (the full sha256 equals ``value``), ``sha256-prefix`` (the sha256 starts
    with ``value``: the torch-hub convention of a hash prefix in the file name) or ``git-blob``
    (``sha1(b"blob <size>\\0" + bytes)`` equals ``value``: the id ``git ls-tree`` shows).
    """

    kind: str
    value: str

    def __post_init__(self) -> None:
        if self.kind not in CHECK_KINDS:
            raise InputError(
                f"check: expected a kind among {', '.join(CHECK_KINDS)}, got {self.kind!r}"
            )
        if not self.value or any(c not in "0123456789abcdef" for c in self.value):
            raise InputError(f"check {self.kind}: expected lowercase hex, got {self.value!r}")

    @property
    def name(self) -> str:
        """The hash compared: ``sha256`` or ``git blob id``."""
        return "git blob id" if self.kind == GIT_BLOB else "sha256"

    def describe(self) -> str:
        """``sha256 <hex>``, ``sha256 prefix <hex>`` or ``git blob <hex>``."""
        return {SHA256: "sha256", SHA256_PREFIX: "sha256 prefix", GIT_BLOB: "git blob"}[
            self.kind
        ] + f" {self.value}"

    def expected(self) -> str:
        """What a mismatch message says was expected."""
        if self.kind == SHA256_PREFIX:
            return f"a sha256 starting {self.value}"
        return self.value

    def actual(self, path: str | os.PathLike, sha256: str | None = None) -> str:
        """The value of the file at ``path`` to compare: its git blob id, or its sha256
        (``sha256``, when the caller already has it, is used instead of reading the file)."""
        if self.kind == GIT_BLOB:
            return git_blob_sha1(path)
        return sha256 if sha256 is not None else sha256_file(path)

    def matches(self, actual: str) -> bool:
        """True when ``actual`` (see :meth:`actual`) satisfies the check."""
        if self.kind == SHA256_PREFIX:
            return actual.startswith(self.value)
        return actual == self.value


def mirror_location_of(key: str, mirror: str) -> str:
    """Where the file ``key`` (``<owner>-<repo>/<file name>``) lives under ``mirror`` (a folder
    path, ``file://`` URL or http(s) URL; the key is URL-quoted for HTTP)."""
    if is_http(mirror):
        return f"{mirror.rstrip('/')}/{quote(key)}"
    return os.path.join(mirror_folder(mirror), *PurePosixPath(key).parts)


@dataclass(frozen=True)
class PinnedFile:
    """A file pinned by its URL and a :class:`Check` rather than a commit: ``key``
    (``<owner>-<repo>/<file name>``, its place on a mirror), ``url``, ``check``, and ``size`` in
    bytes when known (None: taken from the server's Content-Length / Content-Range);
    ``max_size``: the most bytes it may have when only its approximate size is known (None: the
    fetcher's cap for files of unknown size)."""

    key: str
    url: str
    check: Check
    size: int | None = None
    max_size: int | None = None

    def __post_init__(self) -> None:
        parts = PurePosixPath(self.key).parts
        if len(parts) != 2 or ".." in parts or self.key.startswith("/"):
            raise InputError(
                f"pinned file key: expected <owner>-<repo>/<file name>, got {self.key!r}"
            )

    @property
    def name(self) -> str:
        return PurePosixPath(self.key).name

    def mirror_location(self, mirror: str) -> str:
        """Where this file lives under ``mirror`` (see :func:`mirror_location_of`)."""
        return mirror_location_of(self.key, mirror)


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

    @property
    def check(self) -> Check:
        """The full sha256 (checked after the size)."""
        return Check(SHA256, self.sha256)

    def mirror_location(self, mirror: str) -> str:
        """Where this file lives under ``mirror`` (a folder path, ``file://`` URL or http(s)
        URL)."""
        return mirror_location_of(self.key, mirror)


def is_http(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def mirror_folder(mirror: str) -> str:
    """The local folder a non-HTTP mirror names (``file://`` URLs are accepted)."""
    return mirror[len("file://") :] if mirror.startswith("file://") else mirror


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
