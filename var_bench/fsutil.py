"""Filesystem helpers: nothing the toolkit writes is ever left half-written.

Every file is written to a temporary name in the destination folder, flushed and fsynced, then
renamed over the destination with :func:`os.replace` (atomic on POSIX and Windows). Every folder
(a built dataset, a feature store) is written complete beside its final place and swapped in by
:func:`swap_into_place`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator

_CHUNK = 1 << 20


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """A fresh temporary file name beside ``path`` (for writers that want a name, e.g. h5py);
    on success it is renamed onto ``path``, on any error deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync and rename it to ``path``, else
    delete it."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def swap_into_place(new: str | os.PathLike, final: str | os.PathLike) -> None:
    """Rename the complete folder ``new`` to ``final``. An existing ``final`` is first renamed
    aside (into a fresh hidden folder beside it, so two swaps never collide), then deleted: a
    reader sees the old folder or the new one, never a mix. ``new`` must be on ``final``'s
    filesystem (write it beside ``final``)."""
    new, final = Path(new), Path(final)
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
        os.replace(final, old / final.name)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_writer(path, "w") as f:
        f.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path, "wb") as f:
        f.write(data)


def sha256_file(path: str | os.PathLike) -> str:
    """Lowercase hex sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_lines(lines: list[str] | tuple[str, ...]) -> str:
    """sha256 of ``"\\n".join(lines) + "\\n"`` in UTF-8: the bytes ``var-bench ids`` prints."""
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()
