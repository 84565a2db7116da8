"""Options that mean the same thing are spelled the same way on every command."""

from __future__ import annotations

import click

from var_bench.cli import cli


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_benchmark_option_has_the_short_b():
    with_benchmark = {
        name: p.opts for name, c in _commands(cli) for p in c.params if "--benchmark" in p.opts
    }
    assert {"score", "train", "evaluate", "report", "index", "synth"} <= set(with_benchmark)
    assert [n for n, opts in with_benchmark.items() if "-b" not in opts] == []


def test_a_bad_benchmark_argument_is_named_benchmark(capsys):
    import pytest

    from var_bench.cli import main

    with pytest.raises(SystemExit) as done:
        main(["info", "ucf"])
    out = capsys.readouterr().out
    assert done.value.code == 2
    assert "Invalid value for 'BENCHMARK': 'ucf' is not one of 'ucfcrime-ar'" in out
