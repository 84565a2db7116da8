"""The fetcher on files pinned by a check other than size + sha256 (``PinnedFile``: the extractor's
weights): a git blob id, a sha256 prefix, a full sha256, with or without a pinned size, fetched to
a chosen path over HTTP (loopback server) and from folder mirrors."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from support.httpserver import Fault, serve_folder

from var_bench.benchmarks.sources import (
    GIT_BLOB,
    SHA256,
    SHA256_PREFIX,
    Check,
    PinnedFile,
    SourceFile,
)
from var_bench.data.fetch import RetryPolicy, fetch_to, location, part_of, partfile, verifies
from var_bench.errors import DownloadError, InputError
from var_bench.fsutil import git_blob_sha1

FAST = RetryPolicy(attempts=5, backoff=0.001, timeout=5.0)
SIZE = 300_000
KEY = "acme-models/model.pt"


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def check_for(kind: str, data: bytes) -> Check:
    sha = hashlib.sha256(data).hexdigest()
    return Check(kind, {GIT_BLOB: blob_id(data), SHA256: sha, SHA256_PREFIX: sha[:8]}[kind])


def make_pinned(
    mirror: Path, kind: str, *, size: int = SIZE, seed: int = 0, pin_size: bool = False
) -> tuple[PinnedFile, bytes]:
    """Random bytes at ``mirror/acme-models/model.pt``, pinned by ``kind`` (no size unless
    asked)."""
    data = random.Random(seed).randbytes(size)
    (mirror / "acme-models").mkdir(parents=True, exist_ok=True)
    (mirror / KEY).write_bytes(data)
    src = PinnedFile(
        KEY,
        "https://example.invalid/model.pt",
        check_for(kind, data),
        len(data) if pin_size else None,
    )
    return src, data


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return tmp_path / "mirror"


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "home" / "weights" / "model.pt"


def leftovers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


KINDS = [GIT_BLOB, SHA256_PREFIX, SHA256]


# --- the check ---------------------------------------------------------------------------------


def test_check_kinds_describe_and_match(tmp_path):
    data = b"weights"
    f = tmp_path / "w.pt"
    f.write_bytes(data)
    assert git_blob_sha1(f) == blob_id(data)
    sha = hashlib.sha256(data).hexdigest()
    assert Check(GIT_BLOB, blob_id(data)).describe() == f"git blob {blob_id(data)}"
    assert Check(SHA256_PREFIX, sha[:8]).describe() == f"sha256 prefix {sha[:8]}"
    assert Check(SHA256, sha).describe() == f"sha256 {sha}"
    for kind in KINDS:
        c = check_for(kind, data)
        assert c.matches(c.actual(f))
    # A sha256 the caller already has is used as given; a git blob id is always read from the file.
    assert not check_for(SHA256, data).matches(Check(SHA256, sha).actual(f, sha256="0" * 64))
    assert Check(GIT_BLOB, blob_id(data)).actual(f, sha256="0" * 64) == blob_id(data)
    assert Check(SHA256_PREFIX, sha[:8]).matches(sha) and not Check(
        SHA256_PREFIX, sha[1:9]
    ).matches(sha)
    for bad in [("md5", "ab"), (SHA256, "ABC"), (SHA256, ""), (GIT_BLOB, "xyz")]:
        with pytest.raises(InputError, match="expected"):
            Check(*bad)
    src = SourceFile("o", "r", "0" * 40, "a/b.txt", 1, sha, "MIT", "d")
    assert src.check == Check(SHA256, sha)
    with pytest.raises(InputError, match="<owner>-<repo>/<file name>"):
        PinnedFile("no-folder.pt", "u", Check(SHA256, sha))


def test_pinned_file_mirror_layout(mirror):
    src, _ = make_pinned(mirror, SHA256)
    assert location(src) == src.url
    assert location(src, "http://m:1/x/") == f"http://m:1/x/{KEY}"
    assert Path(location(src, str(mirror))) == mirror / KEY
    assert Path(location(src, f"file://{mirror}")) == mirror / KEY


@pytest.mark.parametrize("kind", KINDS)
def test_verifies_uses_the_check(mirror, dest, kind):
    src, data = make_pinned(mirror, kind)
    assert not verifies(src, dest)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(data)
    assert verifies(src, dest)
    dest.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert not verifies(src, dest)


# --- HTTP --------------------------------------------------------------------------------------


@pytest.mark.network
@pytest.mark.parametrize("kind", KINDS)
def test_fetch_to_without_a_size_verifies_and_caches(mirror, dest, kind):
    src, data = make_pinned(mirror, kind)
    with serve_folder(mirror) as server:
        assert fetch_to(src, dest, server.url, retry=FAST) == dest
        assert fetch_to(src, dest, server.url, retry=FAST) == dest  # verified: no request
        assert server.hits[KEY] == 1 and server.ranges(KEY) == [None]
    assert dest.read_bytes() == data
    assert leftovers(dest.parent) == [dest]


@pytest.mark.network
@pytest.mark.parametrize("kind", KINDS)
def test_a_file_that_does_not_match_the_pin_never_reaches_the_final_name(mirror, dest, kind):
    src, data = make_pinned(mirror, kind)
    with serve_folder(mirror, {KEY: Fault.corrupt()}) as server:
        with pytest.raises(DownloadError) as err:
            fetch_to(src, dest, server.url, retry=FAST)
        url = server.url_for(KEY)
    bad = data[: SIZE // 2] + bytes([data[SIZE // 2] ^ 0xFF]) + data[SIZE // 2 + 1 :]
    sha = hashlib.sha256(bad).hexdigest()
    expected, got, name = {
        GIT_BLOB: (src.check.value, blob_id(bad), "git blob id"),
        SHA256_PREFIX: (f"a sha256 starting {src.check.value}", sha, "sha256"),
        SHA256: (src.check.value, sha, "sha256"),
    }[kind]
    assert str(err.value) == f"{KEY}: {name} mismatch: expected {expected}, got {got} (from {url})"
    assert leftovers(dest.parent.parent) == []


@pytest.mark.network
def test_dropped_connection_resumes_with_the_announced_size(mirror, dest):
    src, data = make_pinned(mirror, GIT_BLOB)
    with serve_folder(mirror, {KEY: Fault.drop(times=1, fraction=0.5)}) as server:
        fetch_to(src, dest, server.url, retry=FAST)
        ranges = server.ranges(KEY)
    assert ranges[0] is None and ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) > 0
    assert dest.read_bytes() == data


@pytest.mark.network
def test_a_served_file_cut_short_fails_on_the_check(mirror, dest):
    """Without a pinned size a truncated file looks whole to HTTP: the check refuses it."""
    src, data = make_pinned(mirror, SHA256_PREFIX)
    with serve_folder(mirror, {KEY: Fault.truncate()}) as server:
        with pytest.raises(DownloadError, match=r"sha256 mismatch: expected a sha256 starting"):
            fetch_to(src, dest, server.url, retry=FAST)
    assert leftovers(dest.parent.parent) == []


@pytest.mark.network
def test_a_pinned_size_is_still_checked_first(mirror, dest):
    src, data = make_pinned(mirror, GIT_BLOB, pin_size=True)
    with serve_folder(mirror, {KEY: Fault.truncate()}) as server:
        with pytest.raises(DownloadError) as err:
            fetch_to(src, dest, server.url, retry=FAST)
        url = server.url_for(KEY)
    assert str(err.value) == (
        f"{KEY}: expected {SIZE} bytes, got {SIZE // 2} (truncated; Content-Length from {url})"
    )


@pytest.mark.network
def test_interrupted_part_is_resumed(mirror, dest):
    src, data = make_pinned(mirror, GIT_BLOB)
    part = part_of(dest)
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:100_000])  # left by a killed run
    with serve_folder(mirror) as server:
        fetch_to(src, dest, server.url, retry=FAST)
        assert server.ranges(KEY) == ["bytes=100000-"]
    assert dest.read_bytes() == data and not part.exists()


@pytest.mark.network
def test_a_whole_leftover_part_is_verified_after_a_416(mirror, dest):
    """Unknown size, every byte already in .part: the server answers 416 bytes */<size>."""
    src, data = make_pinned(mirror, SHA256)
    part = part_of(dest)
    part.parent.mkdir(parents=True)
    part.write_bytes(data)
    with serve_folder(mirror) as server:
        fetch_to(src, dest, server.url, retry=FAST)
        assert server.ranges(KEY) == [f"bytes={SIZE}-"]
    assert dest.read_bytes() == data and not part.exists()


@pytest.mark.network
def test_a_stale_leftover_part_is_fetched_again_from_zero(mirror, dest):
    src, data = make_pinned(mirror, GIT_BLOB)
    part = part_of(dest)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1000)  # another file's prefix
    with serve_folder(mirror) as server:
        fetch_to(src, dest, server.url, retry=FAST)
        assert server.ranges(KEY) == ["bytes=1000-", None]
    assert dest.read_bytes() == data


@pytest.mark.network
def test_a_file_with_no_pinned_size_is_capped(mirror, dest, monkeypatch):
    """A server cannot fill the disk with a file whose size is not pinned."""
    src, data = make_pinned(mirror, SHA256)
    monkeypatch.setattr(partfile, "UNPINNED_LIMIT", 1000)
    with serve_folder(mirror) as server:
        with pytest.raises(DownloadError) as err:
            fetch_to(src, dest, server.url, retry=FAST)
        assert server.hits[KEY] == 1  # not retried
        url = server.url_for(KEY)
    assert str(err.value) == (
        f"{KEY}: expected at most 1000 bytes (no size is pinned), got {SIZE} "
        f"(Content-Length from {url})"
    )
    with pytest.raises(DownloadError, match=f"expected at most 1000 bytes .*got {SIZE} \\(from "):
        fetch_to(src, dest, str(mirror))
    assert leftovers(dest.parent.parent) == []


# --- folder mirrors ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_folder_mirror_verifies_each_kind(mirror, dest, kind):
    src, data = make_pinned(mirror, kind)
    assert fetch_to(src, dest, str(mirror)) == dest
    assert dest.read_bytes() == data
    (mirror / KEY).write_bytes(data[::-1])
    dest.unlink()
    with pytest.raises(
        DownloadError,
        match=rf"^{KEY}: (git blob id|sha256) mismatch: expected .* got [0-9a-f]+ "
        rf"\(from {mirror / KEY}\)$",
    ):
        fetch_to(src, dest, str(mirror))
    assert leftovers(dest.parent) == []
