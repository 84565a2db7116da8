"""``var-bench build``: raw I3D / VGGish feature folders -> the feature store."""

from __future__ import annotations

import click

from var_bench.benchmarks import SPLITS
from var_bench.cli.base import benchmark_choice, cli, home_option


def _layouts() -> click.Choice:
    from var_bench.features.layouts import VIDEO_LAYOUT_CHOICES

    return click.Choice(VIDEO_LAYOUT_CHOICES)


def _crops() -> click.Choice:
    from var_bench.features.align import CROP_MODES

    return click.Choice(CROP_MODES)


def _dtypes() -> click.Choice:
    from var_bench.features.manifest import DTYPES

    return click.Choice(DTYPES)


_DIR = click.Path(exists=True, file_okay=False)


@cli.command()
@click.argument("benchmark", type=benchmark_choice())
@click.option("--features", "features", required=True, type=_DIR,
              help="Raw RGB feature folder (its Flow folders and VGGish files are used too).")
@click.option("--flow", type=_DIR, default=None, help="Raw Flow feature folder.")
@click.option("--audio", type=_DIR, default=None, help="Raw VGGish folder (XDViolence-AR).")
@click.option("--layout", type=_layouts(), default="auto", show_default=True,
              help="Raw video layout; auto detects it from the file names.")
@click.option("--crops", type=_crops(), default="mean", show_default=True,
              help="mean over crops, crop 0 (center), or all crops [T, C, D].")
@click.option("--dtype", type=_dtypes(), default="float32", show_default=True)
@click.option("--allow-missing", is_flag=True,
              help="Build even when videos have no features (listed in the manifest and card).")
@click.option("--snippet-frames", type=click.IntRange(min=1), default=None,
              help="Frames per snippet for the snippet labels (default: 16, or the synthetic tree's).")
@home_option
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
def build(benchmark, features, flow, audio, layout, crops, dtype, allow_missing, snippet_frames,
          home, progress):
    """Convert raw feature folders of BENCHMARK into the feature store (resumable)."""
    from var_bench.benchmarks import get_benchmark
    from var_bench.features import build_features
    from var_bench.data.paths import features_dir

    m = build_features(benchmark, features, flow=flow, audio=audio, layout=layout, crops=crops,
                       dtype=dtype, allow_missing=allow_missing, home=home,
                       snippet_frames=snippet_frames, progress=progress)
    click.echo(f"{m.benchmark} {m.version} features"
               + (" (SYNTHETIC)" if m.synthetic else ""))
    for s in m.streams:
        click.echo(f"  {s}: layout {m.layout[s]}, D = {m.dims[s]}")
    click.echo(f"  crops {m.crops_mode} (C = {m.num_crops}), dtype {m.dtype}, "
               f"snippet frames {m.snippet_frames}")
    click.echo("  rows: " + ", ".join(f"{s} {m.counts[s]}" for s in SPLITS))
    click.echo("  missing: " + ", ".join(f"{s} {len(m.missing[s])}" for s in SPLITS)
               + "; trimmed: " + ", ".join(f"{s} {m.trimmed[s]}" for s in SPLITS))
    click.echo(f"  -> {features_dir(get_benchmark(m.benchmark), home)}")
