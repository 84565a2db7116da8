"""``var-bench leaderboard`` and ``var-bench export``."""

from __future__ import annotations

import click

from var_bench.leaderboard.adapters import PLATFORMS
from var_bench.leaderboard import FORMATS
from var_bench.cli.base import benchmark_choice, cli


@cli.command()
@click.argument("benchmark", type=benchmark_choice())
@click.option("--results", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Folder of result records (*.json from 'var-bench score --json') to rank.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="Markdown, a self-contained HTML page with a recall@K plot, or JSON.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Write here (atomically) instead of printing.")
def leaderboard(benchmark, results, fmt, output):
    """The published table of BENCHMARK merged with verified result records, ranked by SumR."""
    from var_bench.leaderboard import write_leaderboard

    text = write_leaderboard(benchmark, results, fmt, output)
    if output is None:
        click.echo(text, nl=False)


@cli.command()
@click.argument("record", type=click.Path(dir_okay=False))
@click.option("--to", "platform", type=click.Choice(PLATFORMS), required=True,
              help="CodaLab scores.txt, Codabench scores.json or EvalAI result JSON.")
@click.option("--output", type=click.Path(dir_okay=False), required=True, metavar="PATH",
              help="File to write (atomically).")
def export(record, platform, output):
    """Write a result RECORD in a challenge platform's score format."""
    from var_bench.leaderboard.adapters import export_record

    export_record(record, platform, output)
