"""``var-bench leaderboard`` and ``var-bench export``."""

from __future__ import annotations

import click

from var_bench.cli.base import benchmark_choice, cli, home_option, task_option, wrote
from var_bench.leaderboard import FORMATS, ORDERS
from var_bench.leaderboard.adapters import PLATFORMS


@cli.command()
@click.argument("benchmark", type=benchmark_choice(), metavar="BENCHMARK")
@click.option(
    "--results",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Folder of result records (*.json from 'var-bench score --json') to rank.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="Markdown, a self-contained HTML page with a recall@K plot, or JSON.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write here (atomically) instead of printing.",
)
@task_option
@click.option(
    "--order",
    type=click.Choice([*ORDERS, "sumr"]),
    default="score",
    show_default=True,
    help="Rows by the task's main score (SumR for retrieval; 'sumr' is an older name "
    "for it), or by tier (rows the data cannot tell apart share one) then score.",
)
@click.option(
    "--track",
    default=None,
    metavar="FEATURES",
    help="Only rows on this feature set: a name ('I3D RGB+Flow') or a features "
    "digest prefix ('#54927e8d': one feature store's rows); the board lists them.",
)
@home_option
def leaderboard(benchmark, results, task, fmt, output, order, track, home):
    """The published table of BENCHMARK merged with result records, ranked by the task's main
    score (SumR for retrieval), in tiers.

    Records are verified against their per-query ranks: metrics, intervals and per-class tables
    are recomputed from them; disclosures are shown as declared.
    """
    from var_bench.leaderboard import write_leaderboard
    from var_bench.leaderboard.metadata import local_class_tables

    text = write_leaderboard(
        benchmark,
        results,
        fmt,
        output,
        task=task,
        order=order,
        track=track,
        metadata=local_class_tables(benchmark, task, home) if results else None,
        home=home,
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        wrote(output)


@cli.command()
@click.argument("record", type=click.Path(dir_okay=False))
@click.option(
    "--to",
    "platform",
    type=click.Choice(PLATFORMS),
    required=True,
    help="CodaLab scores.txt, Codabench scores.json, EvalAI result JSON, an Every Eval Ever "
    "record (eee) or a Hugging Face model card's model-index block (hf-model-index).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    required=True,
    metavar="PATH",
    help="File to write (atomically).",
)
def export(record, platform, output):
    """Write a result RECORD (verified first) in a challenge platform's score format, as an Every
    Eval Ever record or as a Hugging Face model-index block."""
    from var_bench.leaderboard.adapters import export_record

    export_record(record, platform, output)
    wrote(output, what=platform)


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--benchmark",
    "-b",
    type=benchmark_choice(),
    required=True,
    help="The benchmark whose results the record holds.",
)
@click.option(
    "--results",
    type=click.Path(file_okay=False),
    default="results",
    show_default=True,
    metavar="DIR",
    help="The leaderboard's results folder; the record is stored there as NAME.eee.json.",
)
def import_command(file, benchmark, results):
    """Add an Every Eval Ever record FILE to the leaderboard as a declared, unverified row."""
    from var_bench.benchmarks import get_benchmark
    from var_bench.leaderboard.adapters.eee import import_eee

    entry, path = import_eee(file, benchmark, results)
    main = get_benchmark(benchmark).task().main_score
    click.echo(
        f"{entry.method}: {benchmark} {main} {entry.score:.1f}, declared "
        "(unverified: no per-query ranks back it)"
    )
    wrote(path, what=f"var-bench leaderboard {benchmark} --results {results}")
