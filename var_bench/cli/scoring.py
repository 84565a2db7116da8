"""``var-bench score`` and ``var-bench compare``: parse arguments, call the library, print
tables."""

from __future__ import annotations

import json
from collections.abc import Iterable

import click

from var_bench.cli.base import (
    benchmark_choice,
    cli,
    home_option,
    mirror_option,
    replicates_options,
    task_option,
    wrote,
)
from var_bench.errors import InputError
from var_bench.scoring.record import DISCLOSURE_KEYS, OPTIONAL_DISCLOSURE_KEYS
from var_bench.scoring.stats.compare import METHODS


@cli.command()
@click.argument("submission", type=click.Path(dir_okay=False))
@click.option(
    "--benchmark",
    "-b",
    type=benchmark_choice(),
    default=None,
    help="Benchmark (default: inferred from the matrix size).",
)
@task_option
@click.option(
    "--ties",
    default=None,
    metavar="RULE",
    help="Tie rule (retrieval: expected, the official one and the default, optimistic "
    "or pessimistic); the others are reported as bounds.",
)
@click.option(
    "--direction",
    default=None,
    metavar="DIR",
    help="Score one direction only (t2v, v2t, a2v, v2a); SumR then covers it alone.",
)
@click.option("--split", default="test", show_default=True, help="Split the matrix ranks.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the result record (JSON) here, atomically.",
)
@click.option("--by-class", is_flag=True, help="Add the per-class and anomalous/normal breakdown.")
@click.option("--ci", is_flag=True, help="Add 95% bootstrap confidence intervals.")
@replicates_options("for --ci")
@click.option("--name", default=None, help="Entry name stored in the record.")
@click.option(
    "--disclose",
    multiple=True,
    metavar="KEY=VALUE",
    help=f"Disclosure field (repeatable): {', '.join(DISCLOSURE_KEYS + OPTIONAL_DISCLOSURE_KEYS)}. "
    "training_data=NAME names a registered benchmark or a contamination-registry dataset: the "
    "record is flagged when it holds test videos (docs/integrity.md).",
)
@home_option
@mirror_option
def score(
    submission,
    benchmark,
    task,
    ties,
    direction,
    split,
    json_path,
    by_class,
    ci,
    replicates,
    seed,
    name,
    disclose,
    home,
    mirror,
):
    """Score SUBMISSION on a benchmark task: its metrics per group and its main score (retrieval:
    a .npy, .npz, .pt/.pth or .h5 matrix; R@1, R@5, R@10, MdR, MnR per direction, SumR)."""
    from var_bench.scoring.render import render_record
    from var_bench.scoring.score import score as run

    record = run(
        submission,
        benchmark,
        task=task,
        ties=ties,
        direction=direction,
        split=split,
        by_class=by_class,
        ci=ci,
        replicates=replicates,
        seed=seed,
        name=name,
        disclosure=_parse_disclosure(disclose),
        home=home,
        mirror=mirror,
    )
    if json_path:
        record.save(json_path)
    click.echo(render_record(record))
    if json_path:
        wrote(json_path, what="result record")


@cli.command()
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option(
    "--benchmark",
    "-b",
    type=benchmark_choice(),
    default=None,
    help="Benchmark (default: inferred; records carry theirs).",
)
@task_option
@click.option(
    "--ties",
    default=None,
    metavar="RULE",
    help="Tie rule the per-query counts are read under (default: the official one).",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="permutation",
    show_default=True,
    help="Paired permutation (sign-flip) test or paired bootstrap.",
)
@replicates_options("of the paired test and its intervals")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the comparison (JSON) here, atomically.",
)
@click.option(
    "--slice",
    "slice_name",
    default=None,
    metavar="NAME",
    help="Compare on a slice of the queries the records carry (source_unseen, source_seen; "
    "docs/integrity.md).",
)
@home_option
@mirror_option
def compare(
    a, b, benchmark, task, ties, method, replicates, seed, json_path, slice_name, home, mirror
):
    """Compare A and B (submissions or result-record JSON files) with a paired test per metric."""
    from var_bench.fsutil import atomic_write_text
    from var_bench.scoring.render import render_comparison
    from var_bench.scoring.score import compare as run

    result = run(
        a,
        b,
        benchmark,
        task=task,
        ties=ties,
        method=method,
        replicates=replicates,
        seed=seed,
        home=home,
        mirror=mirror,
        slice=slice_name,
    )
    if json_path:
        atomic_write_text(json_path, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n")
    if slice_name:
        click.echo(f"slice: {slice_name} (the records' queries of that slice only)")
    click.echo(render_comparison(result, a, b))
    if json_path:
        wrote(json_path, what="comparison")


def _parse_disclosure(items: Iterable[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--disclose: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out
