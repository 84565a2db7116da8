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
