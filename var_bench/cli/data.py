"""``var-bench download``, ``ids`` and ``info``."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from var_bench.benchmarks import SPLITS, get_benchmark
from var_bench.cli.base import benchmark_choice, cli, home_option, mirror_option


@cli.command()
@click.argument("benchmarks", nargs=-1, type=benchmark_choice(), metavar="[BENCHMARK]...")
@home_option
@mirror_option
@click.option("--rebuild", is_flag=True, help="Rebuild even if an up-to-date build exists.")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a TTY).")
def download(benchmarks, home, mirror, rebuild, progress):
    """Fetch, verify (size, sha256) and build BENCHMARKS (default: all)."""
    from var_bench.data.prepare import download as run

    for name, m in run(
        benchmarks or None, home=home, mirror=mirror, progress=progress, rebuild=rebuild
    ).items():
        counts = ", ".join(f"{s} {m.counts[s]}" for s in SPLITS)
        click.echo(f"{name} {m.version}: {counts}  ->  {_folder(name, home)}")


def _folder(name: str, home) -> str:
    from var_bench.data.paths import built_dir

    return str(built_dir(get_benchmark(name), home))


@cli.command()
@click.argument("benchmark", type=benchmark_choice(), metavar="BENCHMARK")
@click.option("--split", default="test", show_default=True, type=click.Choice(SPLITS))
@click.option(
    "--gallery",
    is_flag=True,
    help="The columns' ids (the videos) of a benchmark whose queries are not its "
    "videos; without it, the rows' ids.",
)
@home_option
@mirror_option
def ids(benchmark, split, gallery, home, mirror):
    """Print the canonical ids of a split, one per line, in canonical (upstream) order: row i of
    a score matrix is id i (for UCFCrime-AR and XDViolence-AR the videos, whose caption or audio
    is the query; columns are the same videos).

    The printed bytes hash (sha256) to the checksum in the benchmark's splits.json.
    """
    from var_bench.data.prepare import ids as get_ids

    click.echo("\n".join(get_ids(benchmark, split, home=home, mirror=mirror, gallery=gallery)))


@cli.command()
@click.argument("benchmark", type=benchmark_choice(), metavar="BENCHMARK")
@home_option
@mirror_option
@click.option("--json", "as_json", is_flag=True, help="Print the information as JSON.")
def info(benchmark, home, mirror, as_json):
    """Counts per split and class, caption lengths, sources and citation."""
    from var_bench.data.info import benchmark_info

    data = benchmark_info(benchmark, home=home, mirror=mirror)
    if as_json:
        click.echo(json.dumps(asdict(data), indent=1, ensure_ascii=False))
        return
    click.echo(_render_info(data))


def _render_info(i) -> str:
    spec = get_benchmark(i.name)
    tasks = "; ".join(
        f"{t['name']} ({t['type']}: {', '.join(t['groups'])}; main score {t['main_score']})"
        for t in i.tasks
    )
    lines = [
        f"{i.title} (benchmark version {i.version}), tasks: {tasks}",
        f"built in {i.folder}",
        "",
        "videos per split and class:",
    ]
    width = max(len(c) for c in spec.classes) + 2
    lines.append(" " * width + "".join(f"{s:>8}" for s in SPLITS))
    for c in spec.classes:
        lines.append(f"{c:<{width}}" + "".join(f"{i.class_counts[s][c]:>8}" for s in SPLITS))
    lines.append(f"{'anomalous':<{width}}" + "".join(f"{i.anomalous_counts[s]:>8}" for s in SPLITS))
    lines.append(f"{'total':<{width}}" + "".join(f"{i.counts[s]:>8}" for s in SPLITS))
    if i.query_counts:
        lines.append(f"{'queries':<{width}}" + "".join(f"{i.query_counts[s]:>8}" for s in SPLITS))
    lines.append(f"\ntest videos with temporal segments: {i.annotated_test_videos}")
    for col, st in i.caption_lengths.items():
        lines.append(
            f"{col} length ({st.unit}): mean {st.mean:.1f}, median {st.median:.0f}, "
            f"min {st.min}, max {st.max}"
        )
    if i.notes:
        lines += ["", "repaired upstream quirks:"] + [f"  - {n}" for n in i.notes]
    lines += ["", "sources:"] + [
        f"  {s['key']}  sha256 {s['sha256']}  ({s['license']})\n    {s['url']}" for s in i.sources
    ]
    lines += ["", "cite:", i.citation]
    return "\n".join(lines)
