"""``var-bench report``: a self-contained page showing where a model fails."""

from __future__ import annotations

import click

from var_bench.cli.base import benchmark_choice, cli, home_option, task_option, wrote


@cli.command()
@click.argument("submission", type=click.Path(dir_okay=False))
@click.option(
    "--benchmark",
    "-b",
    type=benchmark_choice(),
    required=True,
    help="Benchmark the submission or record was scored on.",
)
@task_option
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write here (atomically) instead of printing.",
)
@click.option(
    "--compare",
    "other",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="OTHER",
    help="A second submission or record: paired comparison and the queries where the "
    "two differ most.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md"]),
    default="html",
    show_default=True,
    help="The HTML page (plots inline) or a Markdown text version.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Write the data behind the page as JSON instead."
)
@click.option(
    "--results",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Result records to place the model among on the leaderboard.",
)
@home_option
def report(submission, benchmark, task, output, other, fmt, as_json, results, home):
    """Report SUBMISSION (a score matrix file or a result record .json) on BENCHMARK.

    Metrics with intervals and the nearest leaderboard rows with their tier; recall@K curves,
    the rank histogram, R@10 per class; the hardest queries with the top-5 retrieved items
    (captions and classes from the built dataset; a record alone has no scores to show them).
    """
    from var_bench.report import write_report

    text = write_report(
        submission,
        benchmark,
        output,
        "json" if as_json else fmt,
        task=task,
        compare=other,
        home=home,
        results_dir=results,
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        wrote(output)
