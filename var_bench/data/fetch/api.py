"""Fetch pinned files into the data home or a chosen path, verified, never half-written.

What is fetched (:class:`Pinned`): a benchmark's :class:`~var_bench.benchmarks.sources.SourceFile`
(into the ``raw/`` cache with :func:`fetch`, :func:`fetch_all`) or any other pinned file, such as
the extractor's weights (a :class:`~var_bench.benchmarks.sources.PinnedFile`, to a chosen path
with :func:`fetch_to`), from its pinned URL, an HTTP mirror or a folder mirror (:func:`location`).
A cached file that verifies (:func:`verifies`) is used with no network access; bytes go to a
``.part`` file (:mod:`.partfile`) over HTTP (:mod:`.http`) or from the folder, and only verified
bytes are renamed onto the final name. How and why, step by step: docs/download.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path

import requests

from var_bench.benchmarks.sources import is_http
from var_bench.data.fetch.http import (
    Pinned,
    RetryPolicy,
    check_message,
    fetch_http,
    open_session,
    size_message,
)
from var_bench.data.fetch.partfile import CHUNK, PartFile, part_of
from var_bench.errors import DownloadError, environment_fault
from var_bench.progress import Progress

log = logging.getLogger(__name__)

#: The retry policy of every fetch that names none (a frozen dataclass: shared safely).
DEFAULT_RETRY = RetryPolicy()


def cached_path(src: Pinned, raw_dir: Path) -> Path:
    """Where the verified file lives: ``raw_dir / "<owner>-<repo>/<file name>"``."""
    return Path(raw_dir) / src.key


def partial_path(src: Pinned, raw_dir: Path) -> Path:
    """The temporary name a download writes to: ``.<file name>.part`` beside the final name."""
    return part_of(cached_path(src, raw_dir))


def verifies(src: Pinned, path: Path) -> bool:
    """True when ``path`` is a regular file with ``src``'s pinned size (if pinned) and check.

    The size is checked first (a stat), so a wrong-sized file is never hashed.
    """
    path = Path(path)
    try:
        st = path.lstat()  # a symlink in the cache is never trusted (nor followed)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or (src.size is not None and st.st_size != src.size):
        return False
    return src.check.matches(src.check.actual(path))


def is_cached(src: Pinned, raw_dir: Path) -> bool:
    """True when the cached file is a regular file with the pinned size and sha256 (see
    :func:`verifies`)."""
    return verifies(src, cached_path(src, raw_dir))


def location(src: Pinned, mirror: str | None = None) -> str:
    """Where :func:`fetch` reads ``src``: its pinned URL, its URL on an HTTP mirror, or a path."""
    if mirror is None:
        return src.url
    return src.mirror_location(mirror)


def fetch(
    src: Pinned,
    raw_dir: Path,
    mirror: str | None = None,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    progress: bool | None = None,
    session: requests.Session | None = None,
) -> Path:
    """Make ``cached_path(src, raw_dir)`` hold the verified file; return that path
    (:func:`fetch_to` with the cache's path: the same options, guarantees and errors)."""
    return fetch_to(
        src, cached_path(src, raw_dir), mirror, retry=retry, progress=progress, session=session
    )


def fetch_to(
    src: Pinned,
    dest: Path,
    mirror: str | None = None,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    progress: bool | None = None,
    session: requests.Session | None = None,
) -> Path:
    """Make ``dest`` hold ``src``'s verified file (writing ``.<name>.part`` beside it); return
    ``dest``. A ``dest`` that already verifies is used with no network access.

    ``mirror``: None (pinned upstream URL), an http(s) URL, or a folder / ``file://`` URL, already
    resolved (see :func:`var_bench.benchmarks.sources.resolve_mirror`). ``progress``: None shows
    a byte bar when stderr is a terminal; True/False force it. ``session``: reuse one ``requests``
    session across files (one is made per call otherwise).

    Raises :class:`DownloadError` (one line: the file's key, what was expected, what arrived);
    the ``.part`` file is removed then, and the final name never holds unverified bytes.
    """
    dest = Path(dest)
    if verifies(src, dest):
        log.debug("%s: cached at %s", src.key, dest)
        return dest
    origin = location(src, mirror)
    deadline = time.monotonic() + retry.seconds()
    part = PartFile(part_of(dest), src.size, getattr(src, "max_size", None))  # PinnedFile only
    try:
        if dest.exists() or dest.is_symlink():
            log.warning("%s: cached file %s does not verify; fetching it again", src.key, dest)
            dest.unlink()
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _progress_bar(src, progress) as bar:
            part.bar = bar
            if is_http(origin):
                with open_session(session) as s:
                    fetch_http(src, origin, part, retry, s, deadline)
            else:
                _copy_local(src, origin, part)
        part.close()
        os.replace(part.path, dest)
    except BaseException as e:
        with contextlib.suppress(OSError):
            part.discard()
        with contextlib.suppress(OSError):  # the <owner>-<repo> folder, if this left it empty
            dest.parent.rmdir()
        if isinstance(e, OSError):  # the disk, not the network: requests' errors never get here
            raise environment_fault(e, f"{src.key}: could not write the download cache") from e
        raise
    log.debug(
        "%s: verified (%d bytes, %s) from %s", src.key, part.size, src.check.describe(), origin
    )
    return dest


def fetch_all(
    srcs: Iterable[Pinned],
    raw_dir: Path,
    mirror: str | None = None,
    *,
    keep_going: bool = False,
    **kw,
) -> list[Path]:
    """:func:`fetch` each file in order (one shared session); return their cached paths.

    Files already verified are not fetched again, so when every file is cached there is no
    network access at all. On a failure the error is raised at once (``keep_going=False``, the
    default: a re-run continues where this one stopped, since verified files stay cached), or
    after every file has been tried (``keep_going=True``: the first error, plus how many others
    failed). Either way verified files stay and the failing file leaves nothing behind.
    ``kw`` is passed to :func:`fetch` (``retry``, ``progress``, ``session``).
    """
    srcs = list(srcs)
    paths: list[Path] = []
    failed: list[tuple[Pinned, DownloadError]] = []
    with open_session(kw.pop("session", None)) as s:
        for src in srcs:
            try:
                paths.append(fetch(src, raw_dir, mirror, session=s, **kw))
            except DownloadError as e:
                if not keep_going or e.unreachable:  # the other files cannot be reached either
                    raise
                failed.append((src, e))
    if failed:
        first = failed[0][1]
        if len(failed) == 1:
            raise first
        others = ", ".join(src.key for src, _ in failed[1:])
        raise DownloadError(f"{first} (and {len(failed) - 1} more failed: {others})") from first
    return paths


def _copy_local(src: Pinned, path: str, part: PartFile) -> None:
    """Copy ``src`` from a folder mirror into ``part`` and verify it."""
    if not os.path.isfile(path):
        raise DownloadError(
            f"{src.key}: expected the file {path} in the folder mirror "
            f"(laid out <owner>-<repo>/<file name>), but there is no such file"
        )
    actual = os.path.getsize(path)
    if (
        src.size is not None and actual != src.size
    ):  # before copying: a wrong file is not worth reading
        raise DownloadError(size_message(src.key, src.size, actual, f"from {path}"))
    part.restart()
    part.learn_total(actual, src.key, f"from {path}")
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            part.write(chunk)
    if part.size != actual:  # the file changed while we read it
        raise DownloadError(size_message(src.key, actual, part.size, f"from {path}"))
    got = part.actual(src.check)
    if not src.check.matches(got):
        raise DownloadError(check_message(src, got, path))


def _progress_bar(src: Pinned, progress: bool | None) -> Progress:
    """A byte bar for ``src`` (:mod:`var_bench.progress`: a bar on a terminal, one line per file
    on a pipe)."""
    return Progress(
        total=src.size,
        unit="B",
        desc=src.key,
        progress=progress,
        log_every=0,
        unit_scale=True,
        unit_divisor=1024,
    )
