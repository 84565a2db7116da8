"""var_bench.progress: the one policy (bar on a terminal, log lines on a pipe, nothing if quiet)."""

from __future__ import annotations

import io
import logging

import pytest

from var_bench import progress as P


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def not_quiet():
    P.set_quiet(False)
    yield
    P.set_quiet(False)


def test_mode_follows_the_stream_and_quiet():
    assert P.progress_mode(None, Tty()) == "bar"
    assert P.progress_mode(None, io.StringIO()) == "log"
    assert P.progress_mode(True, io.StringIO()) == "bar" and P.progress_mode(False, Tty()) == "off"
    P.set_quiet(True)
    assert P.progress_mode(None, Tty()) == "off" and P.progress_mode(None, io.StringIO()) == "off"
    assert P.progress_mode(True, io.StringIO()) == "bar"  # an explicit request still wins
    assert P.show_bar(None, Tty()) is False


def test_log_mode_writes_a_line_every_tenth_and_at_the_end(caplog):
    with caplog.at_level(logging.INFO, logger="var_bench.progress"):
        items = list(P.Progress(range(25), desc="features", unit="video", progress=None))
    assert items == list(range(25))
    lines = [r.getMessage() for r in caplog.records]
    # every ceil(25 / 10) = 3 items, then the closing line
    assert [m.split(",")[0] for m in lines] == [
        f"features: {n}/25 videos ({100 * n / 25:.0f}%)" for n in (3, 6, 9, 12, 15, 18, 21, 24, 25)
    ]
    assert all(m.endswith(" s") for m in lines)


def test_units_are_plural_in_english(caplog):
    with caplog.at_level(logging.INFO, logger="var_bench.progress"):
        for unit in ("batch", "video", "B"):
            list(P.Progress(range(3), desc="encode", unit=unit, progress=None, log_every=0))
    assert [r.getMessage().split(",")[0] for r in caplog.records] == [
        "encode: 3/3 batches (100%)",
        "encode: 3/3 videos (100%)",
        "encode: 3/3 B (100%)",
    ]


def test_log_every_zero_logs_only_the_end_and_postfix_is_shown(caplog):
    with caplog.at_level(logging.INFO, logger="var_bench.progress"):
        with P.Progress(total=1000, desc="f.bin", unit="B", log_every=0) as bar:
            for _ in range(10):
                bar.update(100)
            bar.set_postfix(loss=0.5)
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("f.bin: 1000/1000 B (100%), ")
    assert caplog.records[0].getMessage().endswith("s, loss 0.5")


def test_a_failed_job_logs_no_closing_line(caplog):
    with caplog.at_level(logging.INFO, logger="var_bench.progress"), pytest.raises(OSError):
        with P.Progress(total=10, desc="f.bin", unit="B", log_every=0):
            raise OSError("disk full")
    assert caplog.records == []


def test_off_and_quiet_log_nothing(caplog):
    with caplog.at_level(logging.INFO, logger="var_bench.progress"):
        list(P.Progress(range(5), desc="x", progress=False))
        P.set_quiet(True)
        list(P.Progress(range(5), desc="x"))
    assert caplog.records == []


def test_bar_mode_draws_on_stderr(capsys):
    with P.Progress(total=4, desc="synth", unit="video", progress=True) as bar:
        bar.update(2)
        bar.reset_to(4)
    err = capsys.readouterr().err
    assert "synth" in err and "4/4" in err


def test_cli_logging_routes_var_bench_info_to_stderr_unless_quiet(capsys):
    from var_bench.cli.base import _logging_restored, configure_logging

    with _logging_restored():
        configure_logging(0, False)
        list(P.Progress(range(2), desc="job", unit="video"))
        logging.getLogger("other.lib").info("not shown without -v")
        logging.getLogger("var_bench.x").warning("careful")
    err = capsys.readouterr().err
    assert "job: 2/2 videos (100%)" in err and "not shown" not in err
    assert "WARNING var_bench.x: careful" in err
    with _logging_restored():
        configure_logging(0, True)
        list(P.Progress(range(2), desc="job", unit="video"))
        logging.getLogger("var_bench.x").info("an info line")
    assert capsys.readouterr().err == ""
    assert not P.is_quiet()  # restored
