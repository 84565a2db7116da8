"""``var-bench audit`` and ``var-bench verify-videos``: what a score leaks, which videos a run
skips."""

from __future__ import annotations

import json

import click

from var_bench.cli.base import benchmark_choice, cli, home_option, mirror_option


@cli.command()
@click.argument("benchmark", type=benchmark_choice())
@click.option(
    "--features",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    metavar="STORE",
    help="A feature store folder: add near-duplicate videos across splits in feature space.",
)
@click.option("--stream", default=None, help="Stream compared with --features (default: first).")
@click.option(
    "--threshold",
    type=click.FloatRange(-1.0, 1.0),
    default=None,
    help="Cosine similarity of a near-duplicate video pair (default 0.98).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@home_option
@mirror_option
def audit(benchmark, features, stream, threshold, as_json, home, mirror):
    """Split-integrity report of BENCHMARK: test videos whose source (film, upload) has training
    clips, time overlaps, same-source groups in the test gallery, duplicate captions and, with
    --features, near-duplicate videos across splits (docs/integrity.md)."""
    from var_bench.integrity import NEAR_VIDEO_COSINE, audit, render_audit

    report = audit(
        benchmark,
        features=features,
        stream=stream,
        threshold=NEAR_VIDEO_COSINE if threshold is None else threshold,
        home=home,
        mirror=mirror,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=1, allow_nan=False))
    else:
        click.echo(render_audit(report), nl=False)
