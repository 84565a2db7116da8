"""Fetch pinned upstream files into the data home, verified, never half-written.

What is fetched (:class:`Pinned`): a benchmark's :class:`~var_bench.benchmarks.sources.SourceFile`
(size and full sha256 pinned; into the ``raw/`` cache with :func:`fetch`), or any other pinned
file, such as the extractor's weights (a :class:`~var_bench.benchmarks.sources.PinnedFile`: a
:class:`~var_bench.benchmarks.sources.Check` of full sha256, sha256 prefix or git blob id, size
optional; to a chosen path with :func:`fetch_to`). Both share everything below.

Where a file comes from (:func:`location`): the pinned upstream URL (``mirror`` None), an HTTP
mirror (``<mirror>/<owner>-<repo>/<file name>``, URL-quoted), or a local folder mirror (a path or
``file://`` URL laid out the same way). Resolve ``--mirror`` / ``$VAR_BENCH_MIRROR`` with
:func:`var_bench.benchmarks.sources.resolve_mirror` first; :func:`fetch` takes the resolved value.

How a file is fetched (:func:`fetch`):

1. Cache: ``raw/<owner>-<repo>/<file name>`` (:func:`fetch`; :func:`fetch_to`: the given path)
   with the pinned size and check is used as is, with no network access. A cached file that does
   not verify is deleted and fetched again.
2. Bytes go to ``.<file name>.part`` beside the final name, sha256-hashed as they arrive (a git
   blob id, which needs the size first, is computed from the finished ``.part``).
3. HTTP (one ``requests`` session): HTTP 5xx and 429, connection errors, timeouts and bodies that
   stop early are retried, up to ``RetryPolicy.attempts`` requests in all, sleeping
   ``RetryPolicy.delay(i)`` seconds before retry ``i`` (0-based): ``backoff * 2**i``, capped at
   ``max_backoff`` (a numeric ``Retry-After`` is honoured up to the same cap). Any other status
   fails at once. A request made while ``.part`` holds ``have`` bytes asks for
   ``Range: bytes=<have>-``: a ``206`` is appended, a ``200`` restarts the file from zero. A
   ``.part`` left by a killed earlier run is resumed the same way. Without a pinned size, the
   size a response announces (``Content-Length``, the total of ``Content-Range``) is the one
   expected, and a ``416`` whose ``Content-Range: bytes */<total>`` equals the bytes held means
   the leftover ``.part`` was already whole.
4. Verify size, then the check (sha256, sha256 prefix or git blob id), then :func:`os.replace`
   the ``.part`` onto the final name. A file that does not verify never reaches the final name
   (the lesson of huggingface_hub #3643). When
   a resumed file does not verify, it is fetched once more from zero before giving up, since the
   kept prefix may be stale.
5. On any failure, the ``.part`` is deleted (nothing half-written stays behind) and a
   :class:`~var_bench.errors.DownloadError` with one line naming the file, the expected and the
   actual value is raised. Files verified earlier stay in the cache.

Hostile caches and servers: the cache never follows a symlink (a cached file or ``.part`` that
is not a regular file is deleted, and ``.part`` is opened with ``O_NOFOLLOW``); bytes are written
as they arrive (``read1``), so a dropped connection keeps every received byte for the Range resume
whatever the file's size; a file with no pinned size may not exceed :data:`UNPINNED_LIMIT` bytes
(announced or received), so a server cannot fill the disk; ``RetryPolicy.deadline`` (default :data:`DEFAULT_DEADLINE` seconds, or
``$VAR_BENCH_DOWNLOAD_DEADLINE``) bounds one file's whole download against a server that
trickles bytes. Concurrent downloads into one home are serialised by the caller
(:func:`var_bench.data.prepare.download` holds the home's download lock).

Progress (:mod:`var_bench.progress`): a byte bar on stderr when it is a terminal, one INFO log line
per file otherwise (``progress`` True/False forces the bar on or off). Retries are logged
(``logging``, warning level); nothing is printed.

Errors that retrying cannot fix fail at the first attempt: a host name that does not resolve, an
unreachable network (both :attr:`DownloadError.unreachable`, whose message names ``--mirror``),
and a refused TLS handshake or certificate.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import socket
import stat
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO, Iterable, Iterator, Protocol

import requests

from var_bench._version import __version__
from var_bench.errors import DownloadError, InputError, environment_fault
from var_bench.progress import Progress
from var_bench.benchmarks.sources import Check, is_http

log = logging.getLogger(__name__)

_CHUNK = 1 << 16  # bytes per read/write: small enough for a smooth bar, large enough to be cheap
_USER_AGENT = f"var-bench/{__version__}"
#: HTTP statuses worth retrying besides every 5xx.
RETRY_STATUSES = frozenset({429})
DEADLINE_ENV = "VAR_BENCH_DOWNLOAD_DEADLINE"
#: Seconds one file may take in all (every attempt and wait), by default.
DEFAULT_DEADLINE = 3600.0
#: Bytes a file with no pinned size may have at most (the extractor's weights are < 400 MB).
UNPINNED_LIMIT = 4 << 30


def _default_deadline() -> float:
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"{DEADLINE_ENV}: expected seconds > 0, got {raw!r}") from None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard :func:`fetch` tries over HTTP.

    ``attempts``: requests per file in all (1 = no retry). ``backoff``: seconds slept before the
    first retry, doubled for each further retry and capped at ``max_backoff`` seconds.
    ``timeout``: seconds allowed to connect, and between two reads of the body. ``deadline``:
    seconds one file may take in all (None: ``$VAR_BENCH_DOWNLOAD_DEADLINE``, else
    :data:`DEFAULT_DEADLINE`).
    """

    attempts: int = 5
    backoff: float = 0.5
    timeout: float = 30.0
    max_backoff: float = 8.0
    deadline: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.attempts, int) and self.attempts >= 1):
            raise InputError(f"retry attempts: expected an integer >= 1, got {self.attempts!r}")
        for name in ("backoff", "max_backoff"):
            value = getattr(self, name)
            if not value >= 0:  # also refuses NaN
                raise InputError(f"retry {name}: expected seconds >= 0, got {value!r}")
        if not self.timeout > 0:
            raise InputError(f"retry timeout: expected seconds > 0, got {self.timeout!r}")
        if self.deadline is not None and not (self.deadline > 0 and self.deadline != float("inf")):
            raise InputError(f"download deadline: expected seconds > 0, got {self.deadline!r}")

    def seconds(self) -> float:
        """The per-file deadline in seconds."""
        value = self.deadline if self.deadline is not None else _default_deadline()
        if not (value > 0 and value != float("inf")):
            raise InputError(f"download deadline: expected seconds > 0, got {value!r}")
        return value

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number ``retry`` (0-based).

        ``min(backoff * 2**retry, max_backoff)``; a server's ``Retry-After`` (seconds) replaces
        the exponential value but is capped the same way.
        """
        wanted = self.backoff * 2.0 ** retry if retry_after is None else retry_after
        return max(0.0, min(wanted, self.max_backoff))


class Pinned(Protocol):
    """What the fetcher can fetch: a :class:`SourceFile` or a
    :class:`~var_bench.benchmarks.sources.PinnedFile`.

    ``key``: ``<owner>-<repo>/<file name>`` (the mirror layout; names the file in messages);
    ``url``: the pinned upstream URL; ``size``: bytes, or None when not pinned; ``check``: what
    the finished bytes must hash to; ``mirror_location(mirror)``: where the file lives on a mirror.
    """

    @property
    def key(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def size(self) -> int | None: ...

    @property
    def check(self) -> Check: ...

    def mirror_location(self, mirror: str) -> str: ...


def cached_path(src: Pinned, raw_dir: Path) -> Path:
    """Where the verified file lives: ``raw_dir / "<owner>-<repo>/<file name>"``."""
    return Path(raw_dir) / src.key


def part_of(dest: Path) -> Path:
    """The temporary name a download to ``dest`` writes to: ``.<file name>.part`` beside it."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.part")


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


def fetch(src: Pinned, raw_dir: Path, mirror: str | None = None, *,
          retry: RetryPolicy = RetryPolicy(), progress: bool | None = None,
          session: requests.Session | None = None) -> Path:
    """Make ``cached_path(src, raw_dir)`` hold the verified file; return that path
    (:func:`fetch_to` with the cache's path: the same options, guarantees and errors)."""
    return fetch_to(src, cached_path(src, raw_dir), mirror, retry=retry, progress=progress,
                    session=session)


def fetch_to(src: Pinned, dest: Path, mirror: str | None = None, *,
             retry: RetryPolicy = RetryPolicy(), progress: bool | None = None,
             session: requests.Session | None = None) -> Path:
    """Make ``dest`` hold ``src``'s verified file (writing ``.<name>.part`` beside it); return
    ``dest``. A ``dest`` that already verifies is used with no network access.

    ``mirror``: None (pinned upstream URL), an http(s) URL, or a folder / ``file://`` URL, already
    resolved (see :func:`var_bench.benchmarks.sources.resolve_mirror`). ``progress``: None shows a byte bar
    when stderr is a terminal; True/False force it. ``session``: reuse one ``requests`` session
    across files (one is made per call otherwise).

    Raises :class:`DownloadError` (one line: the file's key, what was expected, what arrived);
    the ``.part`` file is removed then, and the final name never holds unverified bytes.
    """
    dest = Path(dest)
    if verifies(src, dest):
        log.debug("%s: cached at %s", src.key, dest)
        return dest
    origin = location(src, mirror)
    part = _PartFile(part_of(dest), time.monotonic() + retry.seconds(), src.size)
    try:
        if dest.exists() or dest.is_symlink():
            log.warning("%s: cached file %s does not verify; fetching it again", src.key, dest)
            dest.unlink()
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _progress_bar(src, progress) as bar:
            part.bar = bar
            if is_http(origin):
                with _session(session) as s:
                    _fetch_http(src, origin, part, retry, s)
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
    log.debug("%s: verified (%d bytes, %s) from %s", src.key, part.size, src.check.describe(),
              origin)
    return dest


def fetch_all(srcs: Iterable[Pinned], raw_dir: Path, mirror: str | None = None, *,
              keep_going: bool = False, **kw) -> list[Path]:
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
    with _session(kw.pop("session", None)) as s:
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


class _PartFile:
    """The ``.part`` file being written, with a running sha256 and size of its bytes.

    ``total``: the size the file must have: the pinned one, else the one the last response
    announced (None until then). ``ended``: a response's body ended cleanly at that size (or,
    with no size announced, at its end): the bytes are complete as far as the server knows.
    """

    def __init__(self, path: Path, deadline: float = float("inf"), size: int | None = None) -> None:
        self.path = path
        self.deadline = deadline  # time.monotonic() by which the file must be complete
        self.pinned_size = size
        self.total = size
        self.ended = False
        self.bar: Progress | None = None
        self.size = 0
        self.spliced = False  # True when its bytes came from more than one response or run
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
                _check_unpinned(key, total, origin)
            self.total = total
            if self.bar is not None and total is not None:
                self.bar.set_total(total)

    def resume(self, limit: int | None) -> None:
        """Open for appending, hashing bytes already there (a leftover longer than ``limit``, when
        given, is discarded). Does nothing when already open."""
        if self._file is not None:
            return
        have = self._regular_size()
        if have == 0 or (limit is not None and have > limit):
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

    def check_deadline(self, src_key: str) -> None:
        if time.monotonic() > self.deadline:
            raise DownloadError(f"{src_key}: did not finish within the download deadline "
                                f"({DEADLINE_ENV}); got {self.size} bytes so far")

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self._sha.update(chunk)
        self.size += len(chunk)
        if self.bar is not None:
            self.bar.update(len(chunk))

    def hexdigest(self) -> str:
        return self._sha.hexdigest()

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


class _Retryable(Exception):
    """A failure worth another request: what happened, and the server's Retry-After if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _fetch_http(src: Pinned, url: str, part: _PartFile, retry: RetryPolicy,
                session: requests.Session) -> None:
    """Fill ``part`` with ``src``'s verified bytes from ``url``, retrying per ``retry``."""
    part.resume(src.size if src.size is not None else UNPINNED_LIMIT)
    last: _Retryable | None = None
    for attempt in range(1, retry.attempts + 1):
        if last is not None:
            wait = retry.delay(attempt - 2, last.retry_after)
            log.warning("%s: %s; retry %d of %d in %.2g s", src.key, last.reason,
                        attempt - 1, retry.attempts - 1, wait)
            time.sleep(max(0.0, min(wait, part.deadline - time.monotonic())))
            part.check_deadline(src.key)
        if not part.complete():
            try:
                _request(src, url, part, retry, session)
            except _Retryable as e:
                last = e
                continue
        if part.total is not None and part.size > part.total:
            raise DownloadError(_size_message(src.key, part.total, part.size, f"from {url}"))
        actual = part.actual(src.check)
        if src.check.matches(actual):
            return
        if part.spliced and attempt < retry.attempts:
            # A resumed prefix may be stale (another version, another run): one clean try.
            last = _Retryable(f"{src.check.name} mismatch after resuming (got {actual})")
            part.restart()
            continue
        raise DownloadError(_check_message(src, actual, url))
    assert last is not None
    tries = f"{retry.attempts} attempt{'s' if retry.attempts > 1 else ''}"
    if part.total is not None and 0 < part.size < part.total:
        raise DownloadError(_size_message(
            src.key, part.total, part.size, f"{last.reason}; gave up after {tries} from {url}"))
    raise DownloadError(f"{src.key}: could not download from {url}: {last.reason} "
                        f"(gave up after {tries})")


def _request(src: Pinned, url: str, part: _PartFile, retry: RetryPolicy,
             session: requests.Session) -> None:
    """One GET: append (206) or restart (200) ``part``; raise :class:`_Retryable` if worth it."""
    offset = part.size
    # identity: byte offsets and Content-Length must mean the file's own bytes.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with session.get(url, headers=headers, stream=True, timeout=retry.timeout) as resp:
            code = resp.status_code
            if code >= 500 or code in RETRY_STATUSES:
                raise _Retryable(f"got HTTP {_status(resp)}", _retry_after(resp))
            if code == 416 and offset:
                if src.size is None and _unsatisfied_total(resp) == offset:
                    part.learn_total(offset, src.key, url)  # the leftover .part held every byte
                    part.ended = True
                    return
                part.restart()
                raise _Retryable(f"server refused Range bytes={offset}- (HTTP 416)")
            if code == 206 and offset:
                start, total = _content_range(resp)
                if total is not None and src.size is not None and total != src.size:
                    raise DownloadError(_size_message(src.key, src.size, total,
                                                      f"Content-Range from {url}"))
                if start != offset:
                    part.restart()
                    raise _Retryable(f"asked for bytes {offset}- and got bytes {start}-")
                part.spliced = True
                part.learn_total(total, src.key, f"Content-Range from {url}")
            elif code == 200:
                if offset:
                    log.info("%s: server ignored Range; restarting from zero", src.key)
                part.restart()
                length = _content_length(resp)
                if length is not None and src.size is not None and length != src.size:
                    raise DownloadError(_size_message(src.key, src.size, length,
                                                      f"Content-Length from {url}"))
                part.learn_total(length, src.key, f"Content-Length from {url}")
            else:
                raise DownloadError(f"{src.key}: expected HTTP 200 from {url}, got {_status(resp)}")
            for chunk in _body(resp):
                part.write(chunk)
                part.check_deadline(src.key)
                if part.total is not None and part.size > part.total:
                    raise DownloadError(_size_message(src.key, part.total, part.size,
                                                      f"stopped reading; from {url}"))
                if part.total is None:
                    _check_unpinned(src.key, part.size, f"stopped reading; from {url}")
    except (requests.ConnectionError, requests.Timeout,
            requests.exceptions.ChunkedEncodingError, *_URLLIB3_ERRORS) as e:
        if isinstance(e, requests.exceptions.SSLError):  # retrying will not fix a certificate
            raise DownloadError(f"{src.key}: could not download from {url}: TLS refused "
                                f"({_describe_tls(e)})") from e
        why = unreachable_reason(e)
        if why is not None:  # no route, no name: the next four tries would fail the same way
            err = DownloadError(f"{src.key}: could not download from {url}: {why}; the network "
                                f"looks unreachable: offline, use --mirror DIR_OR_URL (or "
                                f"$VAR_BENCH_MIRROR), e.g. --mirror ../shared/data")
            err.unreachable = True
            raise err from e
        raise _Retryable(_describe(e, part.size, part.total)) from e
    except requests.RequestException as e:  # a bad URL, too many redirects: retrying won't help
        raise DownloadError(f"{src.key}: could not download from {url}: {_describe(e)}") from e
    if part.total is not None and part.size < part.total:
        raise _Retryable(f"connection closed after {part.size} of {part.total} bytes")
    part.ended = True


def _urllib3_errors() -> tuple[type, ...]:
    import urllib3.exceptions as u

    return (u.ProtocolError, u.ReadTimeoutError, u.DecodeError, u.SSLError)


_URLLIB3_ERRORS = _urllib3_errors()


def _body(resp: requests.Response) -> Iterator[bytes]:
    """The body's bytes as they arrive: ``read1`` returns what one socket read got (up to
    :data:`_CHUNK`), so a connection that drops mid-chunk loses none of the bytes received
    (``iter_content`` would discard an incomplete chunk). Content-Encoding is not decoded: the
    request asks for identity, and the file's bytes are what is hashed."""
    raw = resp.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # pragma: no cover - urllib3 < 2
        yield from resp.iter_content(_CHUNK)
        return
    while True:
        chunk = read1(_CHUNK, decode_content=False)
        if not chunk:
            return
        yield chunk


def _copy_local(src: Pinned, path: str, part: _PartFile) -> None:
    """Copy ``src`` from a folder mirror into ``part`` and verify it."""
    if not os.path.isfile(path):
        raise DownloadError(f"{src.key}: expected the file {path} in the folder mirror "
                            f"(laid out <owner>-<repo>/<file name>), but there is no such file")
    actual = os.path.getsize(path)
    if src.size is not None and actual != src.size:  # before copying: a wrong file is not worth reading
        raise DownloadError(_size_message(src.key, src.size, actual, f"from {path}"))
    part.restart()
    part.learn_total(actual, src.key, f"from {path}")
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            part.write(chunk)
    if part.size != actual:  # the file changed while we read it
        raise DownloadError(_size_message(src.key, actual, part.size, f"from {path}"))
    got = part.actual(src.check)
    if not src.check.matches(got):
        raise DownloadError(_check_message(src, got, path))


def _check_unpinned(key: str, size: int, detail: str) -> None:
    """Refuse a file with no pinned size that is (or claims to be) over :data:`UNPINNED_LIMIT`."""
    if size > UNPINNED_LIMIT:
        raise DownloadError(f"{key}: expected at most {UNPINNED_LIMIT} bytes (no size is pinned), "
                            f"got {size} ({detail})")


def _size_message(key: str, expected: int, actual: int, detail: str) -> str:
    what = "truncated" if actual < expected else "too long"
    return f"{key}: expected {expected} bytes, got {actual} ({what}; {detail})"


def _check_message(src: Pinned, actual: str, origin: str) -> str:
    """``<key>: sha256 mismatch: expected <hex>, got <hex> (from <origin>)`` (or the git blob id,
    or ``a sha256 starting <prefix>``)."""
    return (f"{src.key}: {src.check.name} mismatch: expected {src.check.expected()}, got {actual} "
            f"(from {origin})")


def _status(resp: requests.Response) -> str:
    """``404 Not Found``: the code and its reason phrase."""
    reason = resp.reason
    if not reason:
        try:
            reason = HTTPStatus(resp.status_code).phrase
        except ValueError:
            reason = ""
    return f"{resp.status_code} {reason}".strip()


def _retry_after(resp: requests.Response) -> float | None:
    """A numeric ``Retry-After`` header in seconds (the HTTP-date form is ignored)."""
    value = resp.headers.get("Retry-After", "").strip()
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _content_length(resp: requests.Response) -> int | None:
    """The body's length in file bytes, or None when unknown (or the body is encoded)."""
    if resp.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    try:
        return int(resp.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")
_UNSATISFIED_RANGE = re.compile(r"^bytes\s+\*/(\d+)$")


def _content_range(resp: requests.Response) -> tuple[int | None, int | None]:
    """``(first byte, total size)`` from ``Content-Range: bytes a-b/total`` (None if absent)."""
    m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", "").strip())
    if m is None:
        return None, None
    return int(m.group(1)), (None if m.group(3) == "*" else int(m.group(3)))


_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")


def _unsatisfied_total(resp: requests.Response) -> int | None:
    """The file's size from a 416's ``Content-Range: bytes */<total>`` (None if absent)."""
    m = _UNSATISFIED_RANGE.match(resp.headers.get("Content-Range", "").strip())
    return int(m.group(1)) if m else None


def _describe(e: BaseException, have: int | None = None, size: int | None = None) -> str:
    """A short, one-line reason for a ``requests`` error (its own text is a nested repr)."""
    text = str(e)
    if isinstance(e, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    import urllib3.exceptions as u

    of = "" if size is None else f" of {size}"
    if isinstance(e, (requests.exceptions.ChunkedEncodingError, u.ProtocolError)) and have is not None:
        return f"connection dropped after {have}{of} bytes"
    if isinstance(e, requests.Timeout) or "timed out" in text.lower():
        return "read timed out" if have is None else f"read timed out after {have}{of} bytes"
    m = _ERRNO.search(text)
    return m.group(0).strip() if m else type(e).__name__


#: ``socket.gaierror`` codes of a name that does not resolve (EAI_NONAME, EAI_AGAIN, EAI_NODATA,
#: EAI_FAIL): offline, or a wrong host; a retry seconds later resolves no better.
_DNS_ERRNOS = frozenset({-2, -3, -4, -5})
#: ``OSError`` codes of a network with no route to the host.
_UNREACHABLE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN})


def unreachable_reason(e: BaseException) -> str | None:
    """Why ``e`` (a ``requests`` connection error) means the host cannot be reached at all, or
    None when retrying may help (a refused or reset connection, a timeout).

    Walks the exception chain (``requests`` wraps urllib3's ``MaxRetryError``, which wraps
    ``NewConnectionError`` / ``NameResolutionError``, which wrap the ``socket.gaierror``).
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [e]
    while todo:
        x = todo.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, socket.gaierror):
            return f"host name does not resolve ([Errno {x.errno}] {x.strerror})"
        if isinstance(x, OSError) and x.errno in _UNREACHABLE_ERRNOS:
            return f"no route to the host ([Errno {x.errno}] {x.strerror or os.strerror(x.errno)})"
        if type(x).__name__ == "NameResolutionError":  # urllib3 2: the gaierror is in its text
            m = _ERRNO.search(str(x))
            return f"host name does not resolve ({m.group(0).strip() if m else x})"
        todo += [x.__cause__, x.__context__, getattr(x, "reason", None)]
        todo += [a for a in getattr(x, "args", ()) if isinstance(a, BaseException)]
    return None


def _describe_tls(e: BaseException) -> str:
    """The innermost SSL reason (``certificate verify failed``, ``wrong version number``)."""
    m = re.search(r"\[SSL[^\]]*\] ([^(')\]]+)", str(e))
    return m.group(1).strip() if m else _describe(e)


@contextlib.contextmanager
def _session(session: requests.Session | None) -> Iterator[requests.Session]:
    """The given session (left open), or a new one closed on exit."""
    if session is not None:
        yield session
        return
    with requests.Session() as own:
        own.headers["User-Agent"] = _USER_AGENT
        yield own


def _progress_bar(src: Pinned, progress: bool | None) -> Progress:
    """A byte bar for ``src`` (:mod:`var_bench.progress`: a bar on a terminal, one line per file
    on a pipe)."""
    return Progress(total=src.size, unit="B", desc=src.key, progress=progress, log_every=0,
                    unit_scale=True, unit_divisor=1024)
