"""The ``.part`` file a download writes to: resumable, sha256-hashed as bytes arrive, never
followed.

Bytes go to ``.<file name>.part`` beside the final name; a leftover ``.part`` (a killed earlier
run, a dropped connection) is resumed by re-hashing the bytes it holds. Anything at that name
that is not a regular file (a planted symlink, a FIFO) is deleted, never followed, and the file
is opened with ``O_NOFOLLOW``. See docs/download.md.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path
from typing import IO

from var_bench.benchmarks.sources import Check
from var_bench.errors import DownloadError
from var_bench.progress import Progress

log = logging.getLogger(__name__)

#: Bytes per read/write: small enough for a smooth bar, large enough to be cheap.
CHUNK = 1 << 16
#: Bytes a file with no pinned size may have at most (the extractor's weights are < 400 MB).
UNPINNED_LIMIT = 4 << 30


def part_of(dest: Path) -> Path:
    """The temporary name a download to ``dest`` writes to: ``.<file name>.part`` beside it."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.part")


def check_unpinned(key: str, size: int, detail: str, limit: int | None = None) -> None:
    """Refuse a file with no pinned size that is (or claims to be) over ``limit``: its own cap
    (from its approximate size), else :data:`UNPINNED_LIMIT`."""
    cap = UNPINNED_LIMIT if limit is None else limit
    if size > cap:
        why = "no size is pinned" if limit is None else "its cap from its known approximate size"
        raise DownloadError(f"{key}: expected at most {cap} bytes ({why}), got {size} ({detail})")


class PartFile:
    """The ``.part`` file being written, with a running sha256 and size of its bytes.

    ``total``: the size the file must have: the pinned one, else the one the last response
    announced (None until then). ``ended``: a response's body ended cleanly at that size (or,
    with no size announced, at its end): the bytes are complete as far as the server knows.
    ``spliced``: its bytes came from more than one response or run (a resumed prefix may be
    stale). ``bar``: the byte progress bar to move, if any.
    """

    def __init__(self, path: Path, size: int | None = None, limit: int | None = None) -> None:
        self.path = path
        self.pinned_size = size
        self.limit = limit  # the cap when no size is pinned (None: UNPINNED_LIMIT)
        self.total = size
        self.ended = False
        self.bar: Progress | None = None
        self.size = 0
        self.spliced = False
        self._sha = hashlib.sha256()
        self._file: IO[bytes] | None = None

    def complete(self) -> bool:
        """True when no more bytes are needed before verifying."""
        if self.total is not None:
            return self.size >= self.total
        return self.ended

    def learn_total(self, total: int | None, key: str, origin: str) -> None:
        """The size a response announced (used only when no size is pinned; refused above
        :data:`UNPINNED_LIMIT`)."""
        if self.pinned_size is None:
            if total is not None:
                check_unpinned(key, total, origin, self.limit)
            self.total = total
            if self.bar is not None and total is not None:
                self.bar.set_total(total)

    def resume(self) -> None:
        """Open for appending, hashing bytes already there (a leftover longer than the file may
        be, the pinned size or :data:`UNPINNED_LIMIT`, is discarded). Does nothing when open."""
        if self._file is not None:
            return
        have = self._regular_size()
        limit = (
            self.pinned_size
            if self.pinned_size is not None
            else (UNPINNED_LIMIT if self.limit is None else self.limit)
        )
        if have == 0 or have > limit:
            return self.restart()
        self._sha = hashlib.sha256()
        self._file = self._open(os.O_RDWR | os.O_APPEND)
        self._file.seek(0)
        for chunk in iter(lambda: self._file.read(1 << 20), b""):
            self._sha.update(chunk)
        self.size, self.spliced = have, True
        self._bar_reset(have)
        log.info("%s: resuming from byte %d", self.path.name, have)

    def restart(self) -> None:
        """Start over from zero bytes."""
        self._close_file()
        self._regular_size()
        self._file = self._open(os.O_WRONLY | os.O_TRUNC)
        self._sha, self.size, self.spliced = hashlib.sha256(), 0, False
        self.total, self.ended = self.pinned_size, False
        self._bar_reset(0)

    def _regular_size(self) -> int:
        """Size of a regular ``.part``; anything else there (a planted symlink, a FIFO) is
        deleted, never followed."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return 0
        if not stat.S_ISREG(st.st_mode):
            log.warning("%s: not a regular file; deleted, not followed", self.path)
            self.path.unlink()
            return 0
        return st.st_size

    def _open(self, flags: int) -> IO[bytes]:
        # O_NOFOLLOW: a symlink planted between the check and the open fails instead of being
        # written through; the mode follows the umask like any file the user creates.
        fd = os.open(self.path, flags | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        return os.fdopen(fd, "r+b" if flags & os.O_RDWR else "wb")

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self._sha.update(chunk)
        self.size += len(chunk)
        if self.bar is not None:
            self.bar.update(len(chunk))

    def actual(self, check: Check) -> str:
        """The bytes' value for ``check``: the running sha256, or the git blob id of the
        flushed file (its header needs the final size)."""
        if self._file is not None:
            self._file.flush()
        return check.actual(self.path, self._sha.hexdigest())

    def close(self) -> None:
        """Flush and fsync, so the bytes renamed onto the final name are on disk."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
        self._close_file()

    def discard(self) -> None:
        """Close and delete the file (nothing half-written stays behind)."""
        self._close_file()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _bar_reset(self, n: int) -> None:
        if self.bar is not None:
            self.bar.reset_to(n)
