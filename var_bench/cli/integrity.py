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


@cli.command()
@click.option(
    "--benchmark",
    "-b",
    "benchmarks",
    type=benchmark_choice(),
    multiple=True,
    help="Benchmark(s) whose test videos are counted (default: every registered one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the registry with counts as JSON.")
@home_option
@mirror_option
def contamination(benchmarks, as_json, home, mirror):
    """The contamination registry: derived datasets over the benchmarks' videos, where their
    annotations are and, for pinned files, how many test videos each file holds (computed from
    the file, fetched and verified first)."""
    from var_bench.benchmarks import BENCHMARKS
    from var_bench.data.contamination import entry_overlaps, registry_entries

    names = list(benchmarks) or list(BENCHMARKS)
    rows = []
    for e in registry_entries():
        counts = {}
        for b in names:
            found = entry_overlaps(e, b, home=home, mirror=mirror)
            if found is not None:
                counts[b] = found
        rows.append(
            {
                "name": e.name,
                "title": e.title,
                "collections": list(e.collections),
                "annotations": "pinned" if e.pinned else "unknown",
                "where": e.where,
                "license": e.license,
                "training": list(e.training),
                "test_videos": counts or None,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    for r in rows:
        click.echo(f"{r['name']}: {r['title']}")
        where = f"{r['annotations']} ({r['where']})"
        click.echo(f"  videos: {', '.join(r['collections'])}; annotations: {where}")
        for b, per_role in (r["test_videos"] or {}).items():
            held = ", ".join(f"{role} {n}" for role, n in per_role.items())
            click.echo(
                f"  {b} test videos in its files: {held} (training: {'+'.join(r['training'])})"
            )


@cli.command("verify-videos")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "--benchmark", "-b", type=benchmark_choice(), required=True, help="Whose videos to check."
)
@click.option(
    "--split",
    "splits",
    type=click.Choice(["train", "val", "test"]),
    multiple=True,
    help="Split(s) to check (repeatable; default: all).",
)
@click.option(
    "--frames",
    type=click.IntRange(1, 10_000),
    default=8,
    show_default=True,
    help="Leading frames that must decode.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one object per video as JSON.")
@home_option
@mirror_option
def verify_videos(folder, benchmark, splits, frames, as_json, home, mirror):
    """Open every video of BENCHMARK under FOLDER, decode its header, its first frames and its
    last second, and list the missing, unreadable and truncated ones (extraction and zero-shot
    runs skip them with --allow-missing)."""
    from var_bench.extract.verify import benchmark_ids, render_checks
    from var_bench.extract.verify import verify_videos as run

    ids = benchmark_ids(benchmark, splits or ("train", "val", "test"), home=home, mirror=mirror)
    checks = run(folder, ids, frames=frames)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in checks], indent=1))
    else:
        click.echo(render_checks(checks, folder), nl=False)
