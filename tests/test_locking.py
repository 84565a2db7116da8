"""The writer lock and the atomic folder swap (issue 11): a second writer waits, or with
``VAR_BENCH_LOCK_TIMEOUT=0`` refuses in one line (exit 3); a swap never leaves a missing folder."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest

from var_bench.errors import EnvironmentFault, InputError
from var_bench.fsutil import atomic_write_text, make_temp_dir, swap_into_place
from var_bench.locking import exclusive, lock_timeout


def test_a_second_writer_refuses_at_once_with_timeout_zero(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VAR_BENCH_LOCK_TIMEOUT", "0")
    held = threading.Event()
    release = threading.Event()

    def holder():
        with exclusive(tmp_path / "store", "build"):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    try:
        # filelock is per-thread reentrant only within one thread: another thread must wait.
        with pytest.raises(EnvironmentFault, match="another process is writing it") as e:
            with exclusive(tmp_path / "store", "build"):
                pass
        assert e.value.exit_code == 3 and "\n" not in str(e.value)
    finally:
        release.set()
        t.join()


def test_a_second_writer_waits_then_runs(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VAR_BENCH_LOCK_TIMEOUT", "10")
    order = []
    held = threading.Event()

    def holder():
        with exclusive(tmp_path / "store", "build"):
            held.set()
            time.sleep(0.3)  # the second writer is blocked meanwhile; without the lock it would win
            order.append("first")

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(5)  # the holder has the lock before the second writer asks for it
    with exclusive(tmp_path / "store", "build"):
        order.append("second")
    t.join()
    assert order == ["first", "second"]


def test_bad_lock_timeout_is_input_error(monkeypatch) -> None:
    monkeypatch.setenv("VAR_BENCH_LOCK_TIMEOUT", "-1")
    with pytest.raises(InputError):
        lock_timeout()


def test_swap_dirs_exchanges_and_deletes_the_old(tmp_path) -> None:
    final = tmp_path / "store"
    final.mkdir()
    (final / "old").write_text("1")
    new = make_temp_dir(".store.", tmp_path)
    (new / "new").write_text("2")
    swap_into_place(new, final)
    assert sorted(p.name for p in final.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_atomic_writes_honour_the_umask(tmp_path, mask) -> None:
    old = os.umask(mask)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
        d = make_temp_dir(".d.", tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(d.stat().st_mode) == 0o777 & ~mask
