"""``var-bench export-h5`` and ``import-h5``: the feature store as one HDF5 file and back."""

from __future__ import annotations

import click

from var_bench.benchmarks import SPLITS, get_benchmark
from var_bench.cli.base import benchmark_choice, cli, home_option


@cli.command("export-h5")
@click.argument("benchmark", type=benchmark_choice(), metavar="BENCHMARK")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option(
    "--split",
    "splits",
    multiple=True,
    type=click.Choice(SPLITS),
    help="Split to export (repeatable; default: all splits of the store).",
)
@click.option(
    "--compression",
    type=click.Choice(["gzip", "lzf"]),
    default=None,
    help="HDF5 filter for the arrays (default: none; features barely compress).",
)
@home_option
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a TTY).")
def export_h5(benchmark, out, splits, compression, home, progress):
    """Write BENCHMARK's built features to the HDF5 file OUT (/<split>/<video_id>/<stream>)."""
    from var_bench.features.hdf5 import export_h5 as run

    path = run(
        benchmark, out, splits=splits or None, home=home, compression=compression, progress=progress
    )
    click.echo(f"wrote {path}")


@cli.command("import-h5")
@click.argument("benchmark", type=benchmark_choice(), metavar="BENCHMARK")
@click.argument("in_path", metavar="IN", type=click.Path(dir_okay=False))
@home_option
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a TTY).")
def import_h5(benchmark, in_path, home, progress):
    """Build BENCHMARK's feature store from an HDF5 file written by export-h5."""
    from var_bench.data.paths import features_dir
    from var_bench.features.hdf5 import import_h5 as run

    m = run(benchmark, in_path, home=home, progress=progress)
    counts = ", ".join(f"{s} {n}" for s, n in m.counts.items())
    click.echo(
        f"{m.benchmark} features ({'+'.join(m.streams)}): {counts}  ->  "
        f"{features_dir(get_benchmark(benchmark), home)}"
    )
