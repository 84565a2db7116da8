"""The HTTP transport of a download: retries, Range resume, response headers and error text.

One ``requests`` session; HTTP 5xx and 429, connection errors, timeouts and bodies that stop
early are retried per :class:`RetryPolicy`; a request made while the ``.part`` holds bytes asks
for the rest with ``Range``. Errors that retrying cannot fix (a host name that does not resolve,
an unreachable network, a refused TLS handshake) fail at the first attempt. See docs/download.md.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol

import requests

from var_bench._version import __version__
from var_bench.benchmarks.sources import Check
from var_bench.data.fetch.partfile import CHUNK, PartFile, check_unpinned
from var_bench.errors import DownloadError, InputError

log = logging.getLogger(__name__)

_USER_AGENT = f"var-bench/{__version__}"
#: HTTP statuses worth retrying besides every 5xx.
RETRY_STATUSES = frozenset({429})
DEADLINE_ENV = "VAR_BENCH_DOWNLOAD_DEADLINE"
#: Seconds one file may take in all (every attempt and wait), by default.
DEFAULT_DEADLINE = 3600.0


def _default_deadline() -> float:
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"{DEADLINE_ENV}: expected seconds > 0, got {raw!r}") from None


class Pinned(Protocol):
    """What the fetcher can fetch: a :class:`~var_bench.benchmarks.sources.SourceFile` or a
    :class:`~var_bench.benchmarks.sources.PinnedFile` (declared here, in the lowest module that
    handles one).

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


@dataclass(frozen=True)
class RetryPolicy:
    """How hard :func:`~var_bench.data.fetch.api.fetch` tries over HTTP.

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
        wanted = self.backoff * 2.0**retry if retry_after is None else retry_after
        return max(0.0, min(wanted, self.max_backoff))


class _Retryable(Exception):
    """A failure worth another request: what happened, and the server's Retry-After if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def fetch_http(
    src: Pinned,
    url: str,
    part: PartFile,
    retry: RetryPolicy,
    session: requests.Session,
    deadline: float,
) -> None:
    """Fill ``part`` with ``src``'s verified bytes from ``url``, retrying per ``retry``, by
    ``deadline`` (a :func:`time.monotonic` time)."""
    part.resume()
    last: _Retryable | None = None
    for attempt in range(1, retry.attempts + 1):
        if last is not None:
            wait = retry.delay(attempt - 2, last.retry_after)
            log.warning(
                "%s: %s; retry %d of %d in %.2g s",
                src.key,
                last.reason,
                attempt - 1,
                retry.attempts - 1,
                wait,
            )
            time.sleep(max(0.0, min(wait, deadline - time.monotonic())))
            _check_deadline(src.key, part, deadline)
        if not part.complete():
            try:
                _request(src, url, part, retry, session, deadline)
            except _Retryable as e:
                last = e
                continue
        if part.total is not None and part.size > part.total:
            raise DownloadError(size_message(src.key, part.total, part.size, f"from {url}"))
        actual = part.actual(src.check)
        if src.check.matches(actual):
            return
        if part.spliced and attempt < retry.attempts:
            # A resumed prefix may be stale (another version, another run): one clean try.
            last = _Retryable(f"{src.check.name} mismatch after resuming (got {actual})")
            part.restart()
            continue
        raise DownloadError(check_message(src, actual, url))
    assert last is not None
    tries = f"{retry.attempts} attempt{'s' if retry.attempts > 1 else ''}"
    if part.total is not None and 0 < part.size < part.total:
        raise DownloadError(
            size_message(
                src.key, part.total, part.size, f"{last.reason}; gave up after {tries} from {url}"
            )
        )
    raise DownloadError(
        f"{src.key}: could not download from {url}: {last.reason} (gave up after {tries})"
    )


def _check_deadline(key: str, part: PartFile, deadline: float) -> None:
    if time.monotonic() > deadline:
        raise DownloadError(
            f"{key}: did not finish within the download deadline "
            f"({DEADLINE_ENV}); got {part.size} bytes so far"
        )


def _request(
    src: Pinned,
    url: str,
    part: PartFile,
    retry: RetryPolicy,
    session: requests.Session,
    deadline: float,
) -> None:
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
                    raise DownloadError(
                        size_message(src.key, src.size, total, f"Content-Range from {url}")
                    )
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
                    raise DownloadError(
                        size_message(src.key, src.size, length, f"Content-Length from {url}")
                    )
                part.learn_total(length, src.key, f"Content-Length from {url}")
            else:
                raise DownloadError(f"{src.key}: expected HTTP 200 from {url}, got {_status(resp)}")
            for chunk in _body(resp):
                part.write(chunk)
                _check_deadline(src.key, part, deadline)
                if part.total is not None and part.size > part.total:
                    raise DownloadError(
                        size_message(src.key, part.total, part.size, f"stopped reading; from {url}")
                    )
                if part.total is None:
                    check_unpinned(src.key, part.size, f"stopped reading; from {url}", part.limit)
    except (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        *_URLLIB3_ERRORS,
    ) as e:
        if isinstance(e, requests.exceptions.SSLError):  # retrying will not fix a certificate
            raise DownloadError(
                f"{src.key}: could not download from {url}: TLS refused ({_describe_tls(e)})"
            ) from e
        why = unreachable_reason(e)
        if why is not None:  # no route, no name: the next four tries would fail the same way
            err = DownloadError(
                f"{src.key}: could not download from {url}: {why}; the network "
                f"looks unreachable: offline, use --mirror DIR_OR_URL (or "
                f"$VAR_BENCH_MIRROR), e.g. --mirror ../shared/data"
            )
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
    :data:`~.partfile.CHUNK`), so a connection that drops mid-chunk loses none of the bytes
    received (``iter_content`` would discard an incomplete chunk). Content-Encoding is not
    decoded: the request asks for identity, and the file's bytes are what is hashed."""
    raw = resp.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # pragma: no cover - urllib3 < 2
        yield from resp.iter_content(CHUNK)
        return
    while True:
        chunk = read1(CHUNK, decode_content=False)
        if not chunk:
            return
        yield chunk


@contextlib.contextmanager
def open_session(given: requests.Session | None) -> Iterator[requests.Session]:
    """The given session (left open), or a new one closed on exit."""
    if given is not None:
        yield given
        return
    with requests.Session() as own:
        own.headers["User-Agent"] = _USER_AGENT
        yield own


# ------------------------------------------------------------------ response headers


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


def _unsatisfied_total(resp: requests.Response) -> int | None:
    """The file's size from a 416's ``Content-Range: bytes */<total>`` (None if absent)."""
    m = _UNSATISFIED_RANGE.match(resp.headers.get("Content-Range", "").strip())
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------ error text


def size_message(key: str, expected: int, actual: int, detail: str) -> str:
    """``<key>: expected <n> bytes, got <m> (truncated; <detail>)`` (or ``too long``)."""
    what = "truncated" if actual < expected else "too long"
    return f"{key}: expected {expected} bytes, got {actual} ({what}; {detail})"


def check_message(src: Pinned, actual: str, origin: str) -> str:
    """``<key>: sha256 mismatch: expected <hex>, got <hex> (from <origin>)`` (or the git blob id,
    or ``a sha256 starting <prefix>``)."""
    return (
        f"{src.key}: {src.check.name} mismatch: expected {src.check.expected()}, got {actual} "
        f"(from {origin})"
    )


def _describe(e: BaseException, have: int | None = None, size: int | None = None) -> str:
    """A short, one-line reason for a ``requests`` error (its own text is a nested repr)."""
    text = str(e)
    if isinstance(e, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    import urllib3.exceptions as u

    of = "" if size is None else f" of {size}"
    if (
        isinstance(e, (requests.exceptions.ChunkedEncodingError, u.ProtocolError))
        and have is not None
    ):
        return f"connection dropped after {have}{of} bytes"
    if isinstance(e, requests.Timeout) or "timed out" in text.lower():
        return "read timed out" if have is None else f"read timed out after {have}{of} bytes"
    m = _ERRNO.search(text)
    return m.group(0).strip() if m else type(e).__name__


_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")
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
