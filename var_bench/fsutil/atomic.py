"""Atomic, umask-honouring writes: nothing the toolkit writes is ever left half-written.

Every file is written to a temporary name in the destination folder, flushed and fsynced, then
renamed over the destination with :func:`os.replace` (atomic on POSIX and Windows).

Temporary files and folders (``mkstemp`` 0600, ``mkdtemp`` 0700) get the modes an ordinary
``open``/``mkdir`` would give under the process umask (0666 / 0777 masked) before they are renamed
into place, so a data home shared through a group (umask 002) stays readable by the group.
Folders are swapped into place with :func:`swap_into_place`: on Linux one
``renameat2(RENAME_EXCHANGE)``, so a reader sees the old folder or the new one, never none.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read by setting and restoring it, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def honour_umask(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Give ``path`` the mode ``open``/``mkdir`` would have: 0666 (files) or 0777 (folders)
    minus the umask. For files made by ``mkstemp``/``mkdtemp``, which are always private."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def make_temp_dir(prefix: str, dir: str | os.PathLike, suffix: str = "") -> Path:
    """``tempfile.mkdtemp`` whose folder honours the umask (see :func:`honour_umask`)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dir))
    honour_umask(tmp, folder=True)
    return tmp


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two existing paths (Linux renameat2); False where unsupported."""
    if not os.uname().sysname == "Linux":  # pragma: no cover - other systems
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):  # pragma: no cover - old libc
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # pragma: no cover - old kernel / fs
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(new: str | os.PathLike, final: str | os.PathLike) -> None:
    """Put the complete folder ``new`` at ``final``, replacing any previous ``final``.

    With an existing ``final`` the two are exchanged in one system call where the OS allows it
    (readers never see a missing or half-installed folder), else ``final`` is renamed aside
    first. The previous folder is deleted afterwards. The caller holds the artefact's lock.
    """
    new, final = Path(new), Path(final)
    if not final.exists():
        os.replace(new, final)
        return
    if _exchange(new, final):
        shutil.rmtree(new, ignore_errors=True)  # now holds the previous folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
    os.replace(final, old / final.name)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def remove_debris(folder: str | os.PathLike, prefix: str, suffix: str = "") -> list[Path]:
    """Delete leftovers of killed runs in ``folder``: entries named ``prefix*suffix`` (temporary
    files and folders of atomic writes; lock files are kept). Call only while holding the
    artefact's lock."""
    gone = []
    folder = Path(folder)
    if not folder.is_dir():
        return gone
    for p in folder.iterdir():
        if p.name.startswith(prefix) and p.name.endswith(suffix) and not p.name.endswith(".lock"):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
            gone.append(p)
    return gone


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp", tag: str = "") -> Iterator[Path]:
    """A fresh temporary file name ``.<name>.<tag><random><suffix>`` beside ``path`` (for
    writers that want a name, e.g. h5py); on success it is renamed onto ``path``, on any error
    deleted. ``tag``: a fixed part that lets a cleaner recognise its own leftovers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{tag}", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        honour_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike, mode: str = "wb", *, durable: bool = True
) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync and rename it to ``path``, else
    delete it. ``durable=False`` skips the fsync: a reader still sees the old file or the new one,
    but after a power cut the file may be empty (for files that are only a hint, like a
    resume journal that is thrown away when it does not parse)."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str, *, durable: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (``durable``: see :func:`atomic_writer`)."""
    with atomic_writer(path, "w", durable=durable) as f:
        f.write(text)
