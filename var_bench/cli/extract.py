"""``var-bench extract``: benchmark videos -> I3D RGB / Flow, VGGish or CLIP raw feature trees."""

from __future__ import annotations

import click

from var_bench.cli.base import (
    benchmark_choice,
    cli,
    home_option,
    mirror_option,
    ray_from_options,
    ray_options,
    starting,
    wrote,
)

_MODELS = (
    "i3d-rgb",
    "i3d-flow",
    "vggish",
    "clip-vit-b16",
)  # checked against extract.models in tests
_RECIPES = ("ucf-crime-release", "xd-violence-release", "vadclip", "clip-openai")
_FLOWS = ("tvl1", "raft")


@cli.command()
@click.argument("benchmark", type=benchmark_choice(), metavar="BENCHMARK")
@click.option(
    "--videos",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Folder holding the benchmark's videos (any depth; matched by file stem).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder (Flow goes to OUT/Flow, VGGish to OUT/VGGish).",
)
@click.option("--model", required=True, type=click.Choice(_MODELS))
@click.option(
    "--recipe",
    type=click.Choice(_RECIPES),
    default=None,
    help="Default: the benchmark's public-release recipe (vadclip for CLIP).",
)
@click.option(
    "--flow",
    type=click.Choice(_FLOWS),
    default="tvl1",
    show_default=True,
    help="Flow method for i3d-flow (TV-L1 on CPU, or RAFT on the device).",
)
@click.option(
    "--crops",
    type=click.Choice(["10", "5", "1"]),
    default=None,
    help="Override the recipe's crop count.",
)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Clips (snippet x crop) per forward pass.",
)
@click.option(
    "--shard",
    default=None,
    help="K/N (0 <= K < N): this process takes videos i with i mod N == K; "
    "'auto' reads RANK/WORLD_SIZE or SLURM variables.",
)
@ray_options
@click.option(
    "--weights",
    default=None,
    help="Weights file or folder, or 'random' (random-initialised: tests and dry runs; "
    "the store is marked synthetic). Default: <data home>/weights/<pinned file>, "
    "downloaded (verified) when missing.",
)
@click.option(
    "--no-download",
    is_flag=True,
    help="Never download weights: a pinned file missing from the data home is an error.",
)
@click.option(
    "--pca",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="VGGish PCA file (default: beside the weights).",
)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "fp16", "bf16"]),
    default="fp32",
    show_default=True,
    help="Mixed precision on CUDA only (recorded in the identity).",
)
@click.option("--unpinned-weights", is_flag=True, help="Accept weights that do not match the pin.")
@click.option("--allow-missing", is_flag=True, help="Extract the videos found; skip missing ones.")
@home_option
@mirror_option
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
def extract(
    benchmark,
    videos,
    out,
    model,
    recipe,
    flow,
    crops,
    device,
    batch,
    workers,
    shard,
    ray,
    ray_encoders,
    weights,
    no_download,
    pca,
    precision,
    unpinned_weights,
    allow_missing,
    home,
    mirror,
    progress,
):
    """Extract MODEL features of BENCHMARK's videos into the upstream raw layout (resumable)."""
    from var_bench.extract.pipeline import extract as run

    starting(
        f"extracting {model} features of the {benchmark} videos in {videos} into {out} "
        "(one line per tenth of the videos; rerun to resume)"
    )
    res = run(
        benchmark,
        videos,
        out,
        model,
        recipe=recipe,
        flow=flow,
        crops=None if crops is None else int(crops),
        device=device,
        batch=batch,
        workers=workers,
        shard=shard,
        ray=ray_from_options(ray, workers, ray_encoders),
        weights=weights,
        pca=pca,
        allow_missing=allow_missing,
        precision=precision,
        unpinned_weights=unpinned_weights,
        progress=progress,
        home=home,
        download=not no_download,
        mirror=mirror,
    )
    ident = res.identity
    click.echo(
        f"{benchmark} {model}: {len(res.done)} videos extracted, {len(res.skipped)} already "
        f"done, {len(res.missing)} missing"
        + (f", {len(res.too_short)} shorter than one snippet (skipped)" if res.too_short else "")
        + (" (RANDOM WEIGHTS)" if ident.get("random_weights") else "")
    )
    click.echo(
        f"  recipe {ident['recipe']['name']}, {ident['crops']} crops, "
        f"{ident['snippet_frames']}-frame snippets, {res.snippets} snippets in "
        f"{res.seconds:.1f} s ({res.snippets_per_second:.2f} snippets/s)"
    )
    wrote(res.out, what="raw feature tree + extraction.json")
