"""Filesystem helpers: nothing the toolkit writes is ever left half-written.

Every file is written to a temporary name in the destination folder, flushed and fsynced, then
renamed over the destination with :func:`os.replace` (atomic on POSIX and Windows).

Temporary files and folders (``mkstemp`` 0600, ``mkdtemp`` 0700) get the modes an ordinary
``open``/``mkdir`` would give under the process umask (0666 / 0777 masked) before they are renamed
into place, so a data home shared through a group (umask 002) stays readable by the group.
Folders are swapped into place with :func:`swap_into_place`: on Linux one ``renameat2(RENAME_EXCHANGE)``,
so a reader sees the old folder or the new one, never none.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import mmap
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path
from typing import IO, Iterator

import numpy as np

_CHUNK = 1 << 20
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


def make_temp_dir(prefix: str, dir: str | os.PathLike, suffix: str = "") -> "Path":
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
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """A fresh temporary file name beside ``path`` (for writers that want a name, e.g. h5py);
    on success it is renamed onto ``path``, on any error deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
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
def atomic_writer(path: str | os.PathLike, mode: str = "wb", *, durable: bool = True) -> Iterator[IO]:
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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path, "wb") as f:
        f.write(data)


class BackgroundSync:
    """Write an open file's pages to disk in a background thread while the caller keeps writing.

    :meth:`request` starts one ``os.fdatasync(fd)`` unless one is still running (that one, or the
    next request, covers the newer bytes); :meth:`finish` waits for it and runs the final
    ``os.fsync(fd)``, which then has only the last writes left. The disk writes while the CPU
    reads the next inputs, instead of all at the end. Call :meth:`finish` (or :meth:`cancel`)
    before closing ``fd``. An error of a background sync is raised by :meth:`finish`.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._thread: threading.Thread | None = None
        self._error: OSError | None = None

    def _run(self) -> None:
        try:
            os.fdatasync(self.fd)
        except OSError as e:  # raised by finish(), in the caller's thread
            self._error = e

    def request(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="var-bench-sync", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Wait for a running background sync, dropping its error (the file is being discarded)."""
        if self._thread is not None:
            self._thread.join()
        self._thread = self._error = None

    def finish(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        os.fsync(self.fd)


def staging_buffer(nbytes: int = 16 << 20) -> mmap.mmap:
    """A page-aligned anonymous buffer of ``nbytes`` (rounded up to whole pages) for
    :class:`DirectFile` (which fills one half while the other is written)."""
    buf = mmap.mmap(-1, max(mmap.PAGESIZE, -(-nbytes // mmap.PAGESIZE) * mmap.PAGESIZE))
    if hasattr(mmap, "MADV_HUGEPAGE"):  # fewer page faults filling it the first time
        with contextlib.suppress(OSError):
            buf.madvise(mmap.MADV_HUGEPAGE)
    return buf


def fcntl_flags(fd: int) -> int:
    """The status flags of an open file (``fcntl(F_GETFL)``: O_APPEND, O_DIRECT, ...)."""
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_GETFL)


class DirectFile:
    """A new file written front to back, bypassing the page cache where the system allows.

    Bytes are gathered in one half of a page-aligned staging buffer; a full half is written with
    ``O_DIRECT`` (Linux) by a background thread while the caller fills the other half, so the
    caller never waits on the disk unless the disk is the slower of the two. The disk reads the
    staging buffer itself: writing needs no page-cache pages (on a VM whose free memory goes back
    to the host, fresh page-cache pages cost more than the disk write: measured 0.6 s for 200 MB
    buffered, 0.09 s direct) and :meth:`close` has no dirty pages left to flush. The last partial
    block is written through the page cache (a direct write covers whole blocks). Where ``O_DIRECT`` is refused
    (tmpfs, other systems, an unaligned short write) it falls back to ordinary writes, synced in
    the background per :meth:`checkpoint` (:class:`BackgroundSync`).

    ``write`` accepts any buffer (pyarrow's IPC writer writes into it); :meth:`close` fsyncs and
    raises any error of a background write; :meth:`discard` closes without syncing. ``stage``:
    a buffer from :func:`staging_buffer` to use instead of a new one, so a writer of many files
    touches its pages once; it stays open after :meth:`close`.
    """

    ALIGN = 4096  # the largest logical block size of common disks: aligned for all of them

    def __init__(self, path: str | os.PathLike, chunk: int = 8 << 20, stage: mmap.mmap | None = None) -> None:
        self.path = Path(path)
        self._own_stage = stage is None
        if stage is None:
            stage = staging_buffer(2 * chunk)
        half = len(stage) // 2 // self.ALIGN * self.ALIGN
        if not half:
            raise ValueError(f"staging buffer: expected at least {2 * self.ALIGN} bytes, got {len(stage)}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        direct = getattr(os, "O_DIRECT", 0)
        self.direct = bool(direct)
        try:
            self.fd = os.open(path, flags | direct, 0o666)
        except OSError as e:
            if not direct or e.errno != errno.EINVAL:
                raise
            self.fd, self.direct = os.open(path, flags, 0o666), False
        self._stage, self._chunk = stage, half
        self._halves = [memoryview(stage)[:half], memoryview(stage)[half:2 * half]]
        self._arrays = [np.frombuffer(h, np.uint8) for h in self._halves]
        self._cur = 0  # the half being filled
        self._fill = 0
        self._size = 0
        # One writer thread for the file's life, fed a half at a time: a thread started per
        # half made the caller wait for each start (measured 2 ms each with the reader threads
        # holding the GIL: 50 ms of a 2 GB build).
        self._writer: threading.Thread | None = None
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = threading.Event()
        self._idle.set()
        self._error: BaseException | None = None
        self._sync = BackgroundSync(self.fd)
        self.closed = False

    # the file-object surface pyarrow's writers use
    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def write(self, data) -> int:
        src = memoryview(data).cast("B")
        n, pos = len(src), 0
        while pos < n:
            k = min(n - pos, self._chunk - self._fill)
            if k >= 1 << 16:  # numpy copies without holding the GIL (other threads keep running)
                np.copyto(self._arrays[self._cur][self._fill:self._fill + k],
                          np.frombuffer(src[pos:pos + k], np.uint8))
            else:
                self._halves[self._cur][self._fill:self._fill + k] = src[pos:pos + k]
            self._fill += k
            pos += k
            if self._fill == self._chunk:
                self._wait()
                if self._writer is None:
                    self._writer = threading.Thread(target=self._background, name="var-bench-write",
                                                    daemon=True)
                    self._writer.start()
                self._idle.clear()
                self._todo.put(self._halves[self._cur])
                self._cur, self._fill = 1 - self._cur, 0
        self._size += n
        return n

    def checkpoint(self) -> None:
        """A good moment to let the disk catch up (after a record batch): in the buffered
        fallback, start a background ``fdatasync``; with ``O_DIRECT`` the bytes are on their way."""
        if not self.direct:
            self._sync.request()

    def _background(self) -> None:
        """The writer thread: write each half it is given, until it is given None."""
        while (view := self._todo.get()) is not None:
            try:
                if self._error is None:  # after an error, the rest is not written
                    self._drain(view)
            except BaseException as e:  # raised in the caller's thread by _wait
                self._error = e.with_traceback(None)  # (its frames would pin the staging buffer)
            finally:
                del view
                self._idle.set()

    def _wait(self) -> None:
        """Wait for the background write; raise its error."""
        self._idle.wait()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _stop(self) -> None:
        """End the writer thread (after the write it is doing)."""
        if self._writer is not None:
            self._todo.put(None)
            self._writer.join()
            self._writer = None

    def _drain(self, view: memoryview) -> None:
        """Write ``view`` at the end of the file."""
        done, nbytes = 0, len(view)
        while done < nbytes:
            try:
                done += os.write(self.fd, view[done:])
            except OSError as e:
                if not (self.direct and e.errno == errno.EINVAL):
                    raise
                self._buffered()  # the file system refuses this direct write: write normally
                continue
            if self.direct and done % self.ALIGN:
                self._buffered()  # a short direct write leaves the rest unaligned

    def _buffered(self) -> None:
        import fcntl

        fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl_flags(self.fd) & ~os.O_DIRECT)
        self.direct = False

    def close(self) -> None:
        """Write what is staged, fsync and close (raises what the disk raised)."""
        if self.closed:
            return
        try:
            self._wait()
            if self._fill:
                half = self._halves[self._cur]
                whole = self._fill // self.ALIGN * self.ALIGN if self.direct else 0
                if whole:
                    self._drain(half[:whole])
                if whole < self._fill:  # the last partial block: an ordinary write
                    if self.direct:
                        self._buffered()
                    self._drain(half[whole:self._fill])
                self._fill = 0
            self._sync.finish()
        except BaseException:
            self.discard()
            raise
        self._release()

    def discard(self) -> None:
        """Close without syncing (the caller deletes the file)."""
        if not self.closed:
            self._stop()
            self._error = None
            self._sync.cancel()
            self._release()

    def _release(self) -> None:
        self._stop()
        self.closed = True
        os.close(self.fd)
        del self._arrays
        for h in self._halves:
            h.release()
        if self._own_stage:
            with contextlib.suppress(BufferError):  # a view still held elsewhere: the GC unmaps it
                self._stage.close()

    def __enter__(self) -> "DirectFile":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.discard()


def sha256_file(path: str | os.PathLike) -> str:
    """Lowercase hex sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_sha1(path: str | os.PathLike) -> str:
    """``sha1(b"blob <size>\\0" + bytes)`` of a file: its git blob id (``git hash-object``)."""
    h = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_lines(lines: list[str] | tuple[str, ...]) -> str:
    """sha256 of ``"\\n".join(lines) + "\\n"`` in UTF-8: the bytes ``var-bench ids`` prints."""
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()
