"""Tests of var_bench.download: cache, mirrors, retries, resume, verification, cleanup.

Unit tests fetch small files the tests write themselves, served by the fault-injecting loopback
server in ``tests/support/httpserver.py``; the integration tests at the end fetch the real pinned
sources from ``../shared/data`` the same way (skipped when absent).
"""

from __future__ import annotations

import hashlib
import logging
import random
import socket
from pathlib import Path

import pytest
from support.httpserver import Fault, serve_folder

from var_bench.benchmarks import all_sources
from var_bench.benchmarks.sources import SourceFile
from var_bench.data.fetch import (
    RetryPolicy,
    cached_path,
    fetch,
    fetch_all,
    is_cached,
    location,
    partial_path,
)
from var_bench.errors import DownloadError, InputError

SOURCES = all_sources()

FAST = RetryPolicy(attempts=5, backoff=0.001, timeout=5.0)
SIZE = 300_000  # several 64 KiB chunks, so a half-sent body leaves a usable prefix


def make_source(
    mirror: Path,
    name: str = "file.bin",
    *,
    size: int = SIZE,
    seed: int = 0,
    owner: str = "acme",
    repo: str = "data",
) -> tuple[SourceFile, bytes]:
    """Write random bytes at ``mirror/<owner>-<repo>/<name>`` and pin them in a SourceFile."""
    data = random.Random(seed).randbytes(size)
    folder = mirror / f"{owner}-{repo}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    src = SourceFile(
        owner,
        repo,
        "0" * 40,
        f"lists/{name}",
        len(data),
        hashlib.sha256(data).hexdigest(),
        "MIT",
        "test file",
    )
    return src, data


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return tmp_path / "mirror"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return tmp_path / "home" / "raw"


def leftovers(raw: Path) -> list[Path]:
    """Every file under ``raw`` (hidden ``.part`` files included)."""
    return sorted(p for p in raw.rglob("*") if p.is_file()) if raw.exists() else []


def dead_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- pure pieces -------------------------------------------------------------------------------


def test_retry_delay_doubles_and_is_capped():
    policy = RetryPolicy(backoff=0.5, max_backoff=8.0)
    assert [policy.delay(i) for i in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay(0, retry_after=3) == 3
    assert policy.delay(0, retry_after=600) == 8.0


@pytest.mark.parametrize(
    "kw",
    [
        {"attempts": 0},
        {"attempts": 1.5},
        {"backoff": -1},
        {"timeout": 0},
        {"max_backoff": float("nan")},
    ],
)
def test_retry_policy_rejects_bad_values(kw):
    with pytest.raises(InputError, match="expected"):
        RetryPolicy(**kw)


def test_the_deadline_is_configurable(monkeypatch):
    """D14 (issue 11): the per-file deadline is read from the environment and checked."""
    monkeypatch.setenv("VAR_BENCH_DOWNLOAD_DEADLINE", "12.5")
    assert RetryPolicy().seconds() == 12.5
    monkeypatch.setenv("VAR_BENCH_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(InputError):
        RetryPolicy().seconds()
    with pytest.raises(InputError):
        RetryPolicy(deadline=float("nan"))


def test_cache_layout_is_the_mirror_layout(mirror, raw):
    src, _ = make_source(mirror)
    assert cached_path(src, raw) == raw / "acme-data" / "file.bin"
    assert partial_path(src, raw) == raw / "acme-data" / ".file.bin.part"
    assert location(src) == src.url
    assert location(src, "http://m:1/x/") == "http://m:1/x/acme-data/file.bin"
    assert Path(location(src, str(mirror))) == mirror / "acme-data" / "file.bin"


def test_is_cached_needs_right_size_and_sha256(mirror, raw):
    src, data = make_source(mirror)
    dest = cached_path(src, raw)
    assert not is_cached(src, raw)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(data[:-1])
    assert not is_cached(src, raw)
    dest.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # right size, wrong content
    assert not is_cached(src, raw)
    dest.write_bytes(data)
    assert is_cached(src, raw)


# --- HTTP: success and cache -------------------------------------------------------------------


def test_fetch_over_http_verifies_and_installs(mirror, raw):
    src, data = make_source(mirror)
    with serve_folder(mirror) as server:
        path = fetch(src, raw, server.url, retry=FAST)
        assert server.hits[src.key] == 1
        assert server.ranges(src.key) == [None]
    assert path == cached_path(src, raw)
    assert path.read_bytes() == data
    assert leftovers(raw) == [path]


def test_cache_hit_does_no_network(mirror, raw):
    src, _ = make_source(mirror)
    with serve_folder(mirror) as server:
        fetch(src, raw, server.url, retry=FAST)
        fetch(src, raw, server.url, retry=FAST)
        fetch_all([src], raw, server.url, retry=FAST)
        assert server.total_hits() == 1
    # Nothing listens there: a network attempt would fail.
    assert fetch_all([src], raw, dead_url(), retry=FAST) == [cached_path(src, raw)]


def test_cached_file_that_does_not_verify_is_fetched_again(mirror, raw):
    src, data = make_source(mirror)
    dest = cached_path(src, raw)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"stale")
    with serve_folder(mirror) as server:
        fetch(src, raw, server.url, retry=FAST)
        assert server.hits[src.key] == 1
    assert dest.read_bytes() == data


def test_http_mirror_quotes_file_names(mirror, raw):
    src, data = make_source(mirror, "name with space.txt", size=1000)
    with serve_folder(mirror) as server:
        fetch(src, raw, server.url + "/", retry=FAST)
        assert server.hits == {src.key: 1}
    assert cached_path(src, raw).read_bytes() == data


@pytest.mark.parametrize("what", ["part", "cached"])
@pytest.mark.parametrize("via", ["folder", "http"])
def test_a_planted_symlink_in_the_cache_is_never_followed(mirror, raw, tmp_path, what, via):
    """D23 (issue 11): a symlink planted at the cached or partial file's path is replaced, and
    the file it points to is left alone."""
    src, data = make_source(mirror)
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    link = partial_path(src, raw) if what == "part" else cached_path(src, raw)
    link.parent.mkdir(parents=True)
    link.symlink_to(precious)
    if via == "http":
        with serve_folder(mirror) as server:
            fetch(src, raw, server.url, retry=FAST)
    else:
        fetch(src, raw, str(mirror))
    assert precious.read_text() == "precious"
    dest = cached_path(src, raw)
    assert not dest.is_symlink() and dest.read_bytes() == data


# --- local folder mirrors ----------------------------------------------------------------------


@pytest.mark.parametrize("as_url", [False, True], ids=["folder", "file-url"])
def test_folder_mirror(mirror, raw, as_url):
    src, data = make_source(mirror)
    path = fetch(src, raw, f"file://{mirror}" if as_url else str(mirror))
    assert path.read_bytes() == data
    assert leftovers(raw) == [path]


def test_folder_mirror_missing_file_names_the_expected_path(mirror, raw):
    src, _ = make_source(mirror)
    (mirror / src.key).unlink()
    with pytest.raises(DownloadError) as err:
        fetch(src, raw, str(mirror))
    msg = str(err.value)
    assert msg.startswith(f"{src.key}: expected the file {mirror / src.key} ")
    assert "\n" not in msg
    assert leftovers(raw) == []


def test_truncated_file_in_folder_mirror(mirror, raw):
    src, data = make_source(mirror)
    (mirror / src.key).write_bytes(data[:1000])
    with pytest.raises(DownloadError) as err:
        fetch(src, raw, str(mirror))
    assert str(err.value) == (
        f"{src.key}: expected {SIZE} bytes, got 1000 (truncated; from {mirror / src.key})"
    )
    assert leftovers(raw) == []


def test_corrupt_file_in_folder_mirror(mirror, raw):
    src, data = make_source(mirror)
    bad = data[:-1] + b"\x00" if data[-1] else data[:-1] + b"\x01"
    (mirror / src.key).write_bytes(bad)
    with pytest.raises(DownloadError, match=f"got {hashlib.sha256(bad).hexdigest()}"):
        fetch(src, raw, str(mirror))
    assert leftovers(raw) == []


# --- retries -----------------------------------------------------------------------------------


def test_500_twice_then_success(mirror, raw, caplog):
    src, data = make_source(mirror)
    with serve_folder(mirror, {src.key: Fault.error(500, times=2)}) as server:
        with caplog.at_level(logging.WARNING, logger="var_bench.data.fetch"):
            fetch(src, raw, server.url, retry=FAST)
        assert server.hits[src.key] == 3
    retries = [r for r in caplog.records if "HTTP 500" in r.getMessage()]
    assert len(retries) == 2
    assert cached_path(src, raw).read_bytes() == data


def test_429_is_retried(mirror, raw):
    src, _ = make_source(mirror)
    with serve_folder(mirror, {src.key: Fault.error(429, times=1)}) as server:
        fetch(src, raw, server.url, retry=FAST)
        assert server.hits[src.key] == 2


def test_persistent_500_gives_up_after_attempts(mirror, raw):
    src, _ = make_source(mirror)
    retry = RetryPolicy(attempts=3, backoff=0.001)
    with serve_folder(mirror, {src.key: Fault.error(500)}) as server:
        with pytest.raises(DownloadError) as err:
            fetch(src, raw, server.url, retry=retry)
        assert server.hits[src.key] == 3
        url = server.url_for(src.key)
    assert str(err.value) == (
        f"{src.key}: could not download from {url}: got HTTP 500 Internal "
        f"Server Error (gave up after 3 attempts)"
    )
    assert leftovers(raw) == []


def test_404_fails_at_once_and_leaves_nothing(mirror, raw):
    src, data = make_source(mirror)
    part = partial_path(src, raw)
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:1000])  # a leftover from an earlier run goes too
    with serve_folder(mirror, {src.key: Fault.error(404)}) as server:
        with pytest.raises(DownloadError) as err:
            fetch(src, raw, server.url, retry=FAST)
        assert server.hits[src.key] == 1
        url = server.url_for(src.key)
    assert str(err.value) == f"{src.key}: expected HTTP 200 from {url}, got 404 Not Found"
    assert leftovers(raw) == []


def test_connection_refused_is_retried_then_reported(mirror, raw):
    src, _ = make_source(mirror)
    with pytest.raises(DownloadError) as err:
        fetch(src, raw, dead_url(), retry=RetryPolicy(attempts=2, backoff=0.001))
    msg = str(err.value)
    assert msg.startswith(f"{src.key}: could not download from http://127.0.0.1:")
    assert "refused" in msg.lower() and msg.endswith("(gave up after 2 attempts)")
    assert leftovers(raw) == []


def _no_dns(monkeypatch):
    """Every name lookup fails as it does offline (no real network is touched)."""
    calls = []

    def getaddrinfo(host, *a, **kw):
        calls.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_unresolvable_host_fails_at_once_and_names_mirror(mirror, raw, monkeypatch, caplog):
    src, _ = make_source(mirror)
    calls = _no_dns(monkeypatch)
    with caplog.at_level(logging.WARNING), pytest.raises(DownloadError) as err:
        # backoff 30 s: a retry would make this test take minutes
        fetch(src, raw, "http://files.example.invalid/mirror", retry=RetryPolicy(backoff=30.0))
    msg = str(err.value)
    assert err.value.unreachable
    assert msg.startswith(f"{src.key}: could not download from http://files.example.invalid/")
    assert "host name does not resolve ([Errno -2] Name or service not known)" in msg
    assert "--mirror" in msg and "$VAR_BENCH_MIRROR" in msg
    assert calls == ["files.example.invalid"]  # one lookup: no retry
    assert "retry" not in caplog.text
    assert leftovers(raw) == []


def test_fetch_all_stops_at_an_unreachable_network_even_with_keep_going(mirror, raw, monkeypatch):
    a, _ = make_source(mirror, "a.bin")
    b, _ = make_source(mirror, "b.bin", seed=1)
    calls = _no_dns(monkeypatch)
    with pytest.raises(DownloadError) as err:
        fetch_all([a, b], raw, "http://files.example.invalid", keep_going=True)
    assert len(calls) == 1 and str(err.value).startswith(a.key)


def test_unreachable_reason_reads_the_wrapped_cause():
    import errno

    from var_bench.data.fetch import unreachable_reason

    inner = OSError(errno.ENETUNREACH, "Network is unreachable")
    outer = ConnectionError("wrapped")
    outer.__cause__ = inner
    assert unreachable_reason(outer).startswith("no route to the host ([Errno")
    assert unreachable_reason(ConnectionRefusedError(errno.ECONNREFUSED, "refused")) is None


def test_refused_tls_fails_at_once(mirror, raw):
    src, _ = make_source(mirror)
    with serve_folder(mirror) as server:  # plain HTTP: the TLS handshake is refused
        url = server.url.replace("http://", "https://")
        with pytest.raises(DownloadError) as err:
            fetch(src, raw, url, retry=RetryPolicy(attempts=5, backoff=30.0))
        assert sum(server.hits.values()) == 0
    msg = str(err.value)
    assert msg.startswith(f"{src.key}: could not download from https://127.0.0.1:")
    assert "TLS refused" in msg and "gave up" not in msg
    assert leftovers(raw) == []


def test_read_timeout_is_retried(mirror, raw):
    src, data = make_source(mirror)
    retry = RetryPolicy(attempts=3, backoff=0.001, timeout=0.3)
    with serve_folder(mirror, {src.key: Fault.stall(seconds=10, times=1)}) as server:
        fetch(src, raw, server.url, retry=retry)
        assert server.hits[src.key] == 2
    assert cached_path(src, raw).read_bytes() == data


@pytest.mark.network
def test_a_trickling_server_hits_the_deadline(mirror, raw):
    """D14 (issue 11): a server that trickles bytes hits the per-file deadline, leaving nothing."""
    src, _ = make_source(mirror, size=5_000)
    with serve_folder(mirror, {src.key: Fault.trickle(0.05)}) as server:
        with pytest.raises(DownloadError, match="did not finish within the download deadline"):
            fetch(src, raw, server.url, retry=RetryPolicy(attempts=2, backoff=0.001, deadline=1.0))
    assert leftovers(raw) == []


# --- resume ------------------------------------------------------------------------------------


def test_dropped_connection_resumes_with_range(mirror, raw):
    src, data = make_source(mirror)
    with serve_folder(mirror, {src.key: Fault.drop(times=1)}) as server:
        fetch(src, raw, server.url, retry=FAST)
        ranges = server.ranges(src.key)
    assert len(ranges) == 2 and ranges[0] is None
    have = int(ranges[1].removeprefix("bytes=").removesuffix("-"))
    assert 0 < have < SIZE
    assert cached_path(src, raw).read_bytes() == data
    assert leftovers(raw) == [cached_path(src, raw)]


def test_server_ignoring_range_restarts_cleanly(mirror, raw):
    src, data = make_source(mirror)
    faults = {src.key: [Fault.drop(times=1), Fault.ignore_range()]}
    with serve_folder(mirror, faults) as server:
        fetch(src, raw, server.url, retry=FAST)
        ranges = server.ranges(src.key)
    assert len(ranges) == 2 and ranges[1] is not None  # asked to resume, got the whole file
    assert cached_path(src, raw).read_bytes() == data


def test_leftover_part_from_killed_run_is_resumed(mirror, raw):
    src, data = make_source(mirror)
    part = partial_path(src, raw)
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:100_000])
    with serve_folder(mirror) as server:
        fetch(src, raw, server.url, retry=FAST)
        assert server.ranges(src.key) == ["bytes=100000-"]
    assert cached_path(src, raw).read_bytes() == data
    assert not part.exists()


def test_stale_leftover_part_is_refetched_from_zero(mirror, raw):
    src, data = make_source(mirror)
    part = partial_path(src, raw)
    part.parent.mkdir(parents=True)
    part.write_bytes(bytes(100_000))  # not a prefix of the file: the resumed file cannot verify
    with serve_folder(mirror) as server:
        fetch(src, raw, server.url, retry=FAST)
        assert server.ranges(src.key) == ["bytes=100000-", None]
    assert cached_path(src, raw).read_bytes() == data


def test_connection_dropped_every_time_is_a_truncation_error(mirror, raw):
    src, _ = make_source(mirror)
    with serve_folder(mirror, {src.key: Fault.drop(times=None)}) as server:
        with pytest.raises(DownloadError) as err:
            fetch(src, raw, server.url, retry=RetryPolicy(attempts=3, backoff=0.001))
        assert server.hits[src.key] == 3
        url = server.url_for(src.key)
    msg = str(err.value)
    assert msg.startswith(f"{src.key}: expected {SIZE} bytes, got ")
    assert "(truncated; connection dropped" in msg
    assert msg.endswith(f"gave up after 3 attempts from {url})")
    assert leftovers(raw) == []


@pytest.mark.network
@pytest.mark.parametrize("size", [42_880, 1_000, 65_535])
def test_files_under_one_chunk_resume_after_drops(mirror, raw, size):
    """D10 (issue 11): a file smaller than one read chunk still keeps and resumes the bytes it
    received before a dropped connection."""
    src, data = make_source(mirror, size=size)
    with serve_folder(mirror, {src.key: Fault.drop(times=3, fraction=0.4)}) as server:
        fetch(src, raw, server.url, retry=FAST)
        ranges = server.ranges(src.key)
    assert cached_path(src, raw).read_bytes() == data
    assert any(r is not None for r in ranges)  # received bytes were kept and resumed


# --- verification ------------------------------------------------------------------------------


def test_hf_hub_3643_corrupt_content_never_reaches_final_name(mirror, raw):
    """huggingface_hub #3643 reported success for content whose sha256 did not match."""
    src, data = make_source(mirror)
    mid = len(data) // 2
    corrupted = (
        data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
    )  # what Fault.corrupt serves
    with serve_folder(mirror, {src.key: Fault.corrupt()}) as server:
        with pytest.raises(DownloadError) as err:
            fetch(src, raw, server.url, retry=FAST)
        assert server.hits[src.key] == 1  # content errors are not retried
        url = server.url_for(src.key)
    assert str(err.value) == (
        f"{src.key}: sha256 mismatch: expected {src.sha256}, "
        f"got {hashlib.sha256(corrupted).hexdigest()} (from {url})"
    )
    assert not cached_path(src, raw).exists()
    assert not partial_path(src, raw).exists()
    assert leftovers(raw) == []


def test_truncated_file_over_http(mirror, raw):
    src, _ = make_source(mirror)
    with serve_folder(mirror, {src.key: Fault.truncate()}) as server:
        with pytest.raises(DownloadError) as err:
            fetch(src, raw, server.url, retry=FAST)
        url = server.url_for(src.key)
    assert str(err.value) == (
        f"{src.key}: expected {SIZE} bytes, got {SIZE // 2} (truncated; Content-Length from {url})"
    )
    assert leftovers(raw) == []


# --- fetch_all ---------------------------------------------------------------------------------


def test_fetch_all_keeps_verified_files_when_a_later_file_fails(mirror, raw):
    good, data = make_source(mirror, "good.bin")
    bad, _ = make_source(mirror, "bad.bin", seed=1)
    later, _ = make_source(mirror, "later.bin", seed=2)
    with serve_folder(mirror, {bad.key: Fault.corrupt()}) as server:
        with pytest.raises(DownloadError, match=f"^{bad.key}: sha256 mismatch"):
            fetch_all([good, bad, later], raw, server.url, retry=FAST)
        assert server.hits[later.key] == 0  # stopped at the first failure
    assert leftovers(raw) == [cached_path(good, raw)]
    assert is_cached(good, raw)


def test_fetch_all_keep_going_tries_every_file(mirror, raw):
    bad1, _ = make_source(mirror, "bad1.bin", seed=1)
    good, _ = make_source(mirror, "good.bin")
    bad2, _ = make_source(mirror, "bad2.bin", seed=2)
    faults = {bad1.key: Fault.error(404), bad2.key: Fault.corrupt()}
    with serve_folder(mirror, faults) as server:
        with pytest.raises(DownloadError) as err:
            fetch_all([bad1, good, bad2], raw, server.url, retry=FAST, keep_going=True)
    msg = str(err.value)
    assert msg.startswith(f"{bad1.key}: expected HTTP 200")
    assert msg.endswith(f"(and 1 more failed: {bad2.key})")
    assert leftovers(raw) == [cached_path(good, raw)]


# --- output ------------------------------------------------------------------------------------


def test_progress_bar_only_when_asked(mirror, raw, capsys):
    src, _ = make_source(mirror)
    fetch(src, raw, str(mirror))  # stderr is captured, not a terminal: no bar (log lines at most)
    out, err = capsys.readouterr()
    assert out == "" and "\r" not in err and "%|" not in err
    fetch(src, tmp := raw.parent / "raw2", str(mirror), progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert src.key in err and "B" in err
    assert is_cached(src, tmp)


# --- integration: the real pinned sources, served from ../shared/data on 127.0.0.1 -------------

BIG = max(SOURCES, key=lambda s: s.size)


@pytest.mark.network
@pytest.mark.shared_data
def test_real_sources_over_loopback(shared_data, raw):
    with serve_folder(shared_data) as server:
        paths = fetch_all(SOURCES, raw, server.url, retry=FAST)
        assert server.hits == {s.key: 1 for s in SOURCES}
        fetch_all(SOURCES, raw, server.url, retry=FAST)
        assert server.total_hits() == len(SOURCES)  # the second run did no network work
    assert paths == [cached_path(s, raw) for s in SOURCES]
    assert all(is_cached(s, raw) for s in SOURCES)
    assert leftovers(raw) == sorted(paths)


@pytest.mark.shared_data
def test_real_sources_from_folder_mirror(shared_data, raw):
    fetch_all(SOURCES, raw, str(shared_data))
    assert all(is_cached(s, raw) for s in SOURCES)


@pytest.mark.network
@pytest.mark.shared_data
def test_real_source_corrupted(shared_data, raw):
    with serve_folder(shared_data, {BIG.key: Fault.corrupt()}) as server:
        with pytest.raises(DownloadError) as err:
            fetch(BIG, raw, server.url, retry=FAST)
    msg = str(err.value)
    assert msg.startswith(f"{BIG.key}: sha256 mismatch: expected {BIG.sha256}, got ")
    assert BIG.sha256 not in msg.split("got ")[1]
    assert leftovers(raw) == []


@pytest.mark.network
@pytest.mark.shared_data
def test_real_source_connection_dropped_half_way(shared_data, raw):
    with serve_folder(shared_data, {BIG.key: Fault.drop(times=1)}) as server:
        fetch(BIG, raw, server.url, retry=FAST)
        ranges = server.ranges(BIG.key)
    assert ranges[0] is None and ranges[1].startswith("bytes=") and len(ranges) == 2
    assert is_cached(BIG, raw)


@pytest.mark.network
@pytest.mark.shared_data
def test_real_source_500_twice(shared_data, raw):
    with serve_folder(shared_data, {BIG.key: Fault.error(500, times=2)}) as server:
        fetch(BIG, raw, server.url, retry=FAST)
        assert server.hits[BIG.key] == 3
    assert is_cached(BIG, raw)


# --- the loopback server other tests rely on ---------------------------------------------------


def test_loopback_server_speaks_ranges_and_head(mirror):
    import requests

    src, data = make_source(mirror, size=1000)
    with serve_folder(mirror) as server, requests.Session() as s:
        url = server.url_for(src.key)
        assert s.get(url, headers={"Range": "bytes=10-19"}).content == data[10:20]
        tail = s.get(url, headers={"Range": "bytes=-5"})
        assert (tail.status_code, tail.headers["Content-Range"]) == (206, "bytes 995-999/1000")
        assert s.get(url, headers={"Range": "bytes=1000-"}).status_code == 416
        head = s.head(url)
        assert (head.status_code, head.headers["Content-Length"]) == (200, "1000")
        assert head.content == b""
        assert s.get(f"{server.url}/%2E%2E/mirror/{src.key}").status_code == 404  # no escaping root
        assert s.get(server.url_for("acme-data/missing")).status_code == 404
        assert server.hits[src.key] == 4 and server.hits[f"../mirror/{src.key}"] == 1
        server.reset()
        assert server.total_hits() == 0
