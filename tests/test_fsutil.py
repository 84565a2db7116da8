"""var_bench.fsutil: the background sync the feature store's shard writer uses."""

import os

import pytest

from var_bench.fsutil import BackgroundSync


def test_background_sync_then_final_fsync(tmp_path):
    path = tmp_path / "f.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        sync = BackgroundSync(fd)
        for i in range(5):
            os.write(fd, bytes([i]) * 4096)
            sync.request()  # at most one runs; the rest are folded into it or the next
        sync.finish()
    finally:
        os.close(fd)
    assert path.read_bytes() == b"".join(bytes([i]) * 4096 for i in range(5))


def test_background_sync_error_is_raised_by_finish(tmp_path):
    r, w = os.pipe()  # fdatasync on a pipe fails with EINVAL
    try:
        sync = BackgroundSync(w)
        sync.request()
        with pytest.raises(OSError):
            sync.finish()
        sync = BackgroundSync(w)
        sync.request()
        sync.cancel()  # a discarded file: the error is dropped
    finally:
        os.close(r)
        os.close(w)


# ------------------------------------------------------------------ DirectFile


def _direct_roundtrip(path, pieces, **kw):
    from var_bench.fsutil import DirectFile

    f = DirectFile(path, **kw)
    for p in pieces:
        assert f.write(p) == len(p)
    assert f.tell() == sum(map(len, pieces))
    f.close()
    return path.read_bytes()


@pytest.mark.parametrize("sizes", [[], [1], [4095], [4096], [5000, 3], [70_000, 1, 200_000],
                                   [1 << 20], [(1 << 20) + 7, 12_345]])
def test_direct_file_writes_every_byte(tmp_path, sizes):
    """Whole staged halves go to disk in the background, the tail through an ordinary write."""
    pieces = [os.urandom(n) for n in sizes]
    # chunk 64 KiB: the 1 MiB pieces cross several halves, so background writes overlap writes
    assert _direct_roundtrip(tmp_path / "f", pieces, chunk=1 << 16) == b"".join(pieces)


def test_direct_file_serves_pyarrow_ipc(tmp_path):
    import numpy as np
    import pyarrow as pa

    from var_bench.fsutil import DirectFile, staging_buffer

    stage = staging_buffer(1 << 17)  # shared by two files, as a shard writer does
    t = pa.table({"x": np.arange(100_000, dtype=np.float32)})
    for name in ("a.arrow", "b.arrow"):
        f = DirectFile(tmp_path / name, stage=stage)
        w = pa.ipc.new_stream(f, t.schema)
        w.write_table(t)
        w.close()
        f.close()
        assert pa.ipc.open_stream(pa.memory_map(str(tmp_path / name))).read_all().equals(t)
    assert not stage.closed  # the caller's buffer stays usable


def test_direct_file_falls_back_when_direct_writes_are_refused(tmp_path, monkeypatch):
    """A file system that refuses O_DIRECT writes (EINVAL) gets ordinary, background-synced ones."""
    import errno

    from var_bench import fsutil

    real = os.write
    refused = []

    def write(fd, data):
        if fsutil.fcntl_flags(fd) & getattr(os, "O_DIRECT", 0):
            refused.append(len(data))
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    f = fsutil.DirectFile(tmp_path / "f", chunk=1 << 16)
    data = os.urandom(300_000)
    f.write(data[:100_000])
    f.checkpoint()
    f.write(data[100_000:])
    f.close()
    assert (tmp_path / "f").read_bytes() == data and not f.direct
    assert refused or not getattr(os, "O_DIRECT", 0)


def test_direct_file_raises_a_background_write_error(tmp_path, monkeypatch):
    import errno

    from var_bench.fsutil import DirectFile

    f = DirectFile(tmp_path / "f", chunk=1 << 16)
    monkeypatch.setattr(os, "write", lambda fd, data: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError, match="No space"):
        f.write(os.urandom(1 << 18))  # the second half waits for the first, which failed
        f.close()
    assert f.closed or f.discard() is None


@pytest.mark.parametrize("end", ["close", "discard"])
def test_direct_file_writes_every_half_with_one_thread_and_ends_it(tmp_path, end):
    import threading

    from var_bench.fsutil import DirectFile

    def writers():
        return [t for t in threading.enumerate() if t.name == "var-bench-write"]

    before = len(writers())
    f = DirectFile(tmp_path / "f", chunk=1 << 16)
    data = os.urandom(20 * (1 << 16) + 12345)  # 20 full halves and a partial one
    seen = set()
    for i in range(0, len(data), 50_000):
        f.write(data[i:i + 50_000])
        seen.update(t.ident for t in writers())
    assert len(seen) == 1  # one writer thread for the file's life, not one per half
    getattr(f, end)()
    assert len(writers()) == before
    if end == "close":
        assert (tmp_path / "f").read_bytes() == data
