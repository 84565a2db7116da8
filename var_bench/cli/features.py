"""``var-bench build``: raw feature folders -> the feature store; ``var-bench fingerprint``."""

from __future__ import annotations

import click

from var_bench.benchmarks import SPLITS
from var_bench.cli.base import benchmark_choice, cli, home_option, starting, wrote


def _split(option: str, v: str, default_key: str | None) -> tuple[str, str]:
    """``NAME=VALUE`` -> (name, value); ``VALUE`` alone is ``default_key``'s when allowed."""
    from var_bench.errors import InputError

    name, eq, value = v.partition("=")
    if not eq:
        if default_key is None:
            raise InputError(f"{option}: expected NAME=PATH, got {v!r}")
        name, value = default_key, v
    return name.strip(), value.strip()


def _pairs(option: str, values) -> dict[str, str]:
    """``NAME=VALUE`` options -> dict, one value per name."""
    from var_bench.errors import InputError

    out: dict[str, str] = {}
    for v in values:
        name, value = _split(option, v, None)
        if name in out:
            raise InputError(f"{option}: expected one value per stream, got two for {name}")
        out[name] = value
    return out


def _lists(values) -> dict[str, list[str]]:
    """``[STREAM=]FILE`` options -> stream -> list files (repeatable per stream; rgb by default)."""
    out: dict[str, list[str]] = {}
    for v in values:
        name, value = _split("--list", v, "rgb")
        out.setdefault(name, []).append(value)
    return out


def _dtypes() -> click.Choice:
    from var_bench.features.manifest import DTYPES

    return click.Choice(DTYPES)


_DIR = click.Path(exists=True, file_okay=False)


@cli.command()
@click.argument("benchmark", type=benchmark_choice(), metavar="BENCHMARK")
@click.option(
    "--features",
    "features",
    default=None,
    type=_DIR,
    help="Raw feature folder (its Flow folders and VGGish files are used too); its "
    "files feed the detected layout's stream (rgb, clip, text_emb, ...).",
)
@click.option("--flow", type=_DIR, default=None, help="Raw Flow feature folder.")
@click.option("--audio", type=_DIR, default=None, help="Raw VGGish folder (XDViolence-AR).")
@click.option(
    "--stream",
    "streams",
    multiple=True,
    metavar="NAME=DIR",
    help="Another stream's folder, e.g. clip=/data/UCFClipFeatures (repeatable).",
)
@click.option(
    "--layout",
    default="auto",
    show_default=True,
    help="Raw layout name (see docs/features.md, or one of --layout-file); auto "
    "detects it from the file names and the feature size.",
)
@click.option(
    "--layout-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML file of user layouts (file template, crops, dim, stream).",
)
@click.option(
    "--list",
    "lists",
    multiple=True,
    metavar="[STREAM=]FILE",
    help="A .list / VadCLIP .csv naming the videos to take (paths re-rooted under "
    "the stream's folder); STREAM defaults to rgb (the --features folder); "
    "repeat it for a stream's train and test lists (their union is taken).",
)
@click.option(
    "--crops",
    default="mean",
    show_default=True,
    help="Crop policy: mean | center | all | k (crop index), or per split, e.g. train=mean,test=5.",
)
@click.option("--dtype", type=_dtypes(), default="float32", show_default=True)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="Build even when videos have no features (listed in the manifest and card).",
)
@click.option(
    "--snippet-frames",
    type=click.IntRange(min=1),
    default=None,
    help="Frames per snippet for the snippet labels (default: 16, or the synthetic tree's).",
)
@home_option
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
def build(
    benchmark,
    features,
    flow,
    audio,
    streams,
    layout,
    layout_file,
    lists,
    crops,
    dtype,
    allow_missing,
    snippet_frames,
    home,
    progress,
):
    """Convert raw feature folders of BENCHMARK into the feature store (resumable)."""
    from var_bench.benchmarks import get_benchmark
    from var_bench.data.paths import features_dir
    from var_bench.features import build_features

    starting(
        f"building the {benchmark} feature store from {features} into "
        f"{features_dir(get_benchmark(benchmark), home)} (rerun to resume)"
    )
    m = build_features(
        benchmark,
        features,
        flow=flow,
        audio=audio,
        layout=layout,
        crops=crops,
        dtype=dtype,
        allow_missing=allow_missing,
        home=home,
        snippet_frames=snippet_frames,
        progress=progress,
        streams=_pairs("--stream", streams),
        layout_file=layout_file,
        lists=_lists(lists),
    )
    click.echo(f"{m.benchmark} {m.version} features" + (" (SYNTHETIC)" if m.synthetic else ""))
    for s in m.streams:
        click.echo(
            f"  {s}: layout {m.layout[s]}, D = {m.dims[s]}; "
            + (f"matches the {m.matches[s]}" if m.matches.get(s) else "matches no known release")
        )
    click.echo(
        f"  crops {m.crops_mode} (C = {m.num_crops}), dtype {m.dtype}, "
        f"snippet frames {m.snippet_frames}"
    )
    click.echo("  rows: " + ", ".join(f"{s} {m.counts[s]}" for s in SPLITS))
    click.echo(
        "  missing: "
        + ", ".join(f"{s} {len(m.missing[s])}" for s in SPLITS)
        + "; trimmed: "
        + ", ".join(f"{s} {m.trimmed[s]}" for s in SPLITS)
    )
    click.echo(f"  features digest {m.features_digest}")
    wrote(features_dir(get_benchmark(m.benchmark), home), what="feature store")


@cli.command()
@click.argument("target", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--benchmark",
    "-b",
    "benchmark",
    type=benchmark_choice(),
    default=None,
    help="The benchmark whose layouts a raw folder is read with (not needed for a store).",
)
@click.option("--flow", type=_DIR, default=None)
@click.option("--audio", type=_DIR, default=None)
@click.option("--stream", "streams", multiple=True, metavar="NAME=DIR")
@click.option("--layout", default="auto", show_default=True)
@click.option("--layout-file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option(
    "--list",
    "lists",
    multiple=True,
    metavar="[STREAM=]FILE",
    help="A list file of a stream's videos (repeatable, as for build).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the fingerprint as JSON (with file lines)."
)
@home_option
def fingerprint(target, benchmark, flow, audio, streams, layout, layout_file, lists, as_json, home):
    """Print the fingerprint of a feature store or of a raw feature folder TARGET."""
    import json

    from var_bench.features.fingerprint import fingerprint_target

    fp, lines = fingerprint_target(
        target,
        benchmark,
        flow=flow,
        audio=audio,
        streams=_pairs("--stream", streams),
        layout=layout,
        layout_file=layout_file,
        lists=_lists(lists),
        home=home,
    )
    if as_json:
        click.echo(json.dumps(fp.to_dict(), indent=1))
        return
    click.echo(f"features digest {fp.digest}")
    for s, f in fp.streams.items():
        click.echo(
            f"  {s}: {f.digest}  ({f.layout}, {f.files} files, D = {f.dim}, {'/'.join(f.dtypes)})"
        )
    for line in lines:
        click.echo(f"  {line}")
