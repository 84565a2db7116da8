"""One writer per artefact of a data home: an exclusive OS file lock (``filelock``, ``fcntl.flock``
on POSIX) held while a store, a build or the download cache is staged and swapped into place.

A second writer of the same artefact waits, logging one warning line naming the lock file, up to
``$VAR_BENCH_LOCK_TIMEOUT`` seconds (default :data:`DEFAULT_TIMEOUT`; 0 = refuse at once), then
fails with one :class:`~var_bench.errors.EnvironmentFault` line (exit 3). The lock is released by
the OS when its holder dies (``kill -9`` included), so a stale lock never blocks a later run: no
hand-made marker file decides anything, and the lock file itself may stay.

Readers take no lock (a shared data home may be read-only for them): writers only ever install
complete folders with :func:`var_bench.fsutil.swap_into_place`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from var_bench.errors import EnvironmentFault, InputError, environment_fault

log = logging.getLogger(__name__)

LOCK_TIMEOUT_ENV = "VAR_BENCH_LOCK_TIMEOUT"
#: Seconds a second writer waits for the first one by default (a feature build can take minutes).
DEFAULT_TIMEOUT = 3600.0
#: Seconds between the first, non-blocking try and the logged wait.
_POLL = 0.1


def lock_timeout() -> float:
    """``$VAR_BENCH_LOCK_TIMEOUT`` in seconds (default :data:`DEFAULT_TIMEOUT`)."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise InputError(f"{LOCK_TIMEOUT_ENV}: expected seconds >= 0, got {raw!r}")
    return value


def lock_path(artefact: str | os.PathLike) -> Path:
    """The lock file of ``artefact`` (a file or folder path): ``.<name>.lock`` beside it."""
    artefact = Path(artefact)
    return artefact.with_name(f".{artefact.name}.lock")


@contextlib.contextmanager
def exclusive(
    artefact: str | os.PathLike, what: str, timeout: float | None = None
) -> Iterator[Path]:
    """Hold the exclusive lock of ``artefact`` for the ``with`` block; ``what`` names the work in
    messages (e.g. ``"feature build of ucfcrime-ar"``). ``timeout``: seconds to wait (default
    :func:`lock_timeout`)."""
    from filelock import FileLock, Timeout

    path = lock_path(artefact)
    wait = lock_timeout() if timeout is None else float(timeout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path))  # default mode: 0666 minus the umask
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait <= 0:
                raise EnvironmentFault(
                    f"{what}: another process is writing it (lock {path} is "
                    f"held); try again when it has finished"
                ) from None
            log.warning(
                "%s: another process is writing it; waiting up to %.0f s for lock %s",
                what,
                wait,
                path,
            )
            try:
                lock.acquire(timeout=wait, poll_interval=_POLL)
            except Timeout:
                raise EnvironmentFault(
                    f"{what}: another process held lock {path} for more than "
                    f"{wait:.0f} s ({LOCK_TIMEOUT_ENV}); try again later"
                ) from None
    except OSError as e:
        raise environment_fault(e, f"{what}: could not take lock {path}") from None
    try:
        yield path
    finally:
        lock.release()
