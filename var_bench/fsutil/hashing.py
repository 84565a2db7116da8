"""Checksums of files and id lists (sha256, git blob ids)."""

from __future__ import annotations

import hashlib
import os

#: Bytes hashed per read.
_CHUNK = 1 << 20


def _hex(h, path: str | os.PathLike) -> str:
    """The hex digest of hasher ``h`` after it is fed the file's bytes (1 MiB reads)."""
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Lowercase hex sha256 of a file's bytes."""
    return _hex(hashlib.sha256(), path)


def git_blob_sha1(path: str | os.PathLike) -> str:
    """``sha1(b"blob <size>\\0" + bytes)`` of a file: its git blob id (``git hash-object``)."""
    return _hex(hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode()), path)


def sha256_lines(lines: list[str] | tuple[str, ...]) -> str:
    """sha256 of ``"\\n".join(lines) + "\\n"`` in UTF-8: the bytes ``var-bench ids`` prints."""
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()
