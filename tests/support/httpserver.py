"""A fault-injecting HTTP server on 127.0.0.1 that serves a mirror-layout folder, for tests.

Usage::

    from support.httpserver import Fault, serve_folder

    faults = {"Roc-Ng-VAR/ucf_crime_test.xlsx": [Fault.error(500, times=2)]}
    with serve_folder(shared_data, faults=faults) as server:
        fetch(src, raw, mirror=server.url)
        assert server.hits["Roc-Ng-VAR/ucf_crime_test.xlsx"] == 3
        assert server.ranges("Roc-Ng-VAR/ucf_crime_test.xlsx") == [None, None, None]

The folder is laid out ``<owner>-<repo>/<file name>`` (like ``../shared/data``); a request for
``/<owner>-<repo>/<file name>`` (URL-quoted) serves that file. Paths in ``hits``, ``requests`` and
``faults`` are the unquoted relative path without a leading slash, i.e. a ``SourceFile.key``.

What the server does right, so that faults are the only thing a test sees go wrong:
HTTP/1.1 with keep-alive and a ``Content-Length`` on every answer; a single ``Range: bytes=a-b``,
``bytes=a-`` or ``bytes=-n`` is answered ``206`` with ``Content-Range`` (``416`` when it starts past
the end); ``GET`` and ``HEAD``; ``..`` and absolute paths are refused with ``404``.

Faults (see :class:`Fault`) apply per file, to that file's first ``times`` requests (``None``:
every request), in the order given; each request is answered by the first fault that still has
requests left, else normally. Every request, faulty or not, is counted in ``hits`` and recorded
in ``requests`` (with its ``Range`` header) before it is answered.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

__all__ = ["Fault", "FolderServer", "Request", "serve_folder"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

# Kinds of fault; the constructors on Fault are the public way to make one.
_ERROR, _DROP, _CORRUPT, _TRUNCATE, _IGNORE_RANGE, _STALL, _TRICKLE = (
    "error",
    "drop",
    "corrupt",
    "truncate",
    "ignore_range",
    "stall",
    "trickle",
)


@dataclass(frozen=True)
class Fault:
    """One way to misbehave for a file's first ``times`` requests (``None``: all of them).

    Build one with a constructor: :meth:`error`, :meth:`drop`, :meth:`corrupt`,
    :meth:`truncate`, :meth:`ignore_range`, :meth:`stall`.
    """

    kind: str
    times: int | None = None
    status: int = 500
    fraction: float = 0.5
    seconds: float = 0.0

    @classmethod
    def error(cls, status: int, times: int | None = None) -> Fault:
        """Answer ``status`` (e.g. 500, 503, 429, 404) with a short text body."""
        return cls(_ERROR, times, status=status)

    @classmethod
    def drop(cls, times: int | None = 1, fraction: float = 0.5) -> Fault:
        """Announce the full ``Content-Length``, send ``fraction`` of the body, close the socket."""
        return cls(_DROP, times, fraction=fraction)

    @classmethod
    def corrupt(cls, times: int | None = None) -> Fault:
        """Serve the right number of bytes with one byte (the middle one) flipped."""
        return cls(_CORRUPT, times)

    @classmethod
    def truncate(cls, times: int | None = None, fraction: float = 0.5) -> Fault:
        """Serve only the first ``fraction`` of the file, as if that were the whole file."""
        return cls(_TRUNCATE, times, fraction=fraction)

    @classmethod
    def ignore_range(cls, times: int | None = None) -> Fault:
        """Answer ``200`` with the whole file even when the request asks for a ``Range``."""
        return cls(_IGNORE_RANGE, times)

    @classmethod
    def stall(cls, seconds: float, times: int | None = 1) -> Fault:
        """Send the headers, then nothing for ``seconds`` (or until the server stops); close."""
        return cls(_STALL, times, seconds=seconds)

    @classmethod
    def trickle(cls, seconds: float, times: int | None = None) -> Fault:
        """Send the body one byte every ``seconds`` (a server that never quite times out)."""
        return cls(_TRICKLE, times, seconds=seconds)


@dataclass(frozen=True)
class Request:
    """One request the server received: method, relative path, and its ``Range`` header."""

    method: str
    path: str
    range: str | None


class FolderServer:
    """A running server; use :func:`serve_folder` to start and stop one.

    ``url`` is the base URL (a mirror URL); ``hits[path]`` counts requests per relative path;
    ``requests`` lists them in arrival order.
    """

    def __init__(self, root: Path, faults: Mapping[str, Fault | Sequence[Fault]] | None = None):
        self.root = Path(root).resolve()
        self.hits: Counter[str] = Counter()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: dict[str, list[list]] = {}  # path -> [[fault, requests left or None], ...]
        for path, fs in (faults or {}).items():
            for f in [fs] if isinstance(fs, Fault) else fs:
                self.add_fault(path, f)
        handler = type("_Handler", (_Handler,), {"owner": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            name="folder-server",
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43123``: pass it as the mirror."""
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        """The URL of one relative path (quoted the way a client must quote it)."""
        return f"{self.url}/{quote(path)}"

    def add_fault(self, path: str, fault: Fault) -> None:
        """Add a fault for ``path`` (after those already there); usable while running."""
        with self._lock:
            self._faults.setdefault(path, []).append([fault, fault.times])

    def ranges(self, path: str) -> list[str | None]:
        """The ``Range`` header of each request for ``path``, in order (None: no Range)."""
        with self._lock:
            return [r.range for r in self.requests if r.path == path]

    def total_hits(self) -> int:
        """Requests received for any path."""
        with self._lock:
            return sum(self.hits.values())

    def reset(self) -> None:
        """Forget counted requests (faults keep their remaining counts)."""
        with self._lock:
            self.hits.clear()
            self.requests.clear()

    def start(self) -> FolderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes stalled handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    # Called by the handler thread.
    def _record(self, method: str, path: str, range_header: str | None) -> Fault | None:
        """Count the request and consume the fault that answers it, if any."""
        with self._lock:
            self.hits[path] += 1
            self.requests.append(Request(method, path, range_header))
            for entry in self._faults.get(path, []):
                fault, left = entry
                if left is None:
                    return fault
                if left > 0:
                    entry[1] = left - 1
                    return fault
            return None


@contextlib.contextmanager
def serve_folder(
    root: str | Path,
    faults: Mapping[str, Fault | Sequence[Fault]] | None = None,
) -> Iterator[FolderServer]:
    """Serve ``root`` on 127.0.0.1 (an ephemeral port) for the duration of the ``with`` block."""
    server = FolderServer(Path(root), faults).start()
    try:
        yield server
    finally:
        server.stop()


class _Handler(BaseHTTPRequestHandler):
    owner: FolderServer
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers; every answer has a length

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - keep test output quiet
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        range_header = self.headers.get("Range")
        fault = self.owner._record(self.command, rel, range_header)
        file = self._resolve(rel)
        if fault is not None and fault.kind == _ERROR:
            return self._status(fault.status, head)
        if file is None:
            return self._status(404, head)
        data = file.read_bytes()
        kind = fault.kind if fault is not None else None
        if kind == _CORRUPT and data:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
        elif kind == _TRUNCATE:
            data = data[: int(len(data) * fault.fraction)]

        status, body, extra = 200, data, {}
        if range_header is not None and kind != _IGNORE_RANGE:
            span = _parse_range(range_header, len(data))
            if span == "unsatisfiable":
                return self._status(416, head, {"Content-Range": f"bytes */{len(data)}"})
            if span is not None:
                start, end = span
                status, body = 206, data[start : end + 1]
                extra = {"Content-Range": f"bytes {start}-{end}/{len(data)}"}

        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in extra.items():
            self.send_header(k, v)
        if kind in (_DROP, _STALL):
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        if kind == _DROP:
            self.wfile.write(body[: int(len(body) * fault.fraction)])
            return self._hang_up()
        if kind == _TRICKLE:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                if self.owner._stopping.wait(fault.seconds):
                    break
            return self._hang_up()
        if kind == _STALL:
            self.wfile.flush()
            self.owner._stopping.wait(fault.seconds)
            return self._hang_up()
        self.wfile.write(body)

    def _hang_up(self) -> None:
        """Close the connection now, mid-body: the client sees a short read."""
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _resolve(self, rel: str) -> Path | None:
        parts = PurePosixPath(rel).parts
        if not parts or ".." in parts or rel.startswith("/"):
            return None
        file = self.owner.root.joinpath(*parts)
        return file if file.is_file() else None

    def _status(self, code: int, head: bool, headers: Mapping[str, str] | None = None) -> None:
        body = f"{code} {HTTPStatus(code).phrase}\n".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """``(first, last)`` byte of a single ``bytes=`` range, ``"unsatisfiable"``, or None to ignore.

    Like common servers, a header this server does not understand (several ranges, other units)
    is ignored and the whole file is served with 200.
    """
    m = _RANGE.match(header.strip())
    if m is None or (m.group(1) == "" and m.group(2) == ""):
        return None
    if m.group(1) == "":  # suffix range: the last n bytes
        n = int(m.group(2))
        if n == 0:
            return "unsatisfiable"
        return max(size - n, 0), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, min(end, size - 1)
