"""``var-bench zeroshot``: a zero-shot model on raw videos (or on a CLIP feature store)."""

from __future__ import annotations

import click

from var_bench.cli.base import (
    benchmark_choice,
    cli,
    home_option,
    mirror_option,
    ray_from_options,
    ray_options,
)
from var_bench.errors import InputError

#: ``--features`` given with no path: the benchmark's built store.
BUILT_STORE = "built"


@cli.command("zeroshot")
@click.argument("model")
@click.option(
    "--benchmark", "-b", type=benchmark_choice(), required=True, help="Benchmark to score."
)
@click.option(
    "--videos",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Folder of the benchmark's videos (any depth; matched by file stem).",
)
@click.option(
    "--features",
    is_flag=False,
    flag_value=BUILT_STORE,
    default=None,
    metavar="[STORE]",
    help="No videos: the text tower against CLIP frame features (a raw CLIP tree such as "
    "VadCLIP's, or, with no path, the benchmark's built feature store).",
)
@click.option("--split", default="test", show_default=True, help="Split to encode and score.")
@click.option(
    "--weights",
    default=None,
    metavar="PATH|random",
    help="Weights file, or 'random' (default: the model's pinned weights).",
)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Submission .npz.")
@click.option("--fps", type=float, default=None, help="Frames sampled per second (model default).")
@click.option("--max-frames", type=int, default=None, help="At most this many frames per video.")
@click.option("--pooling", default=None, help="Frame pooling: mean or max (model default).")
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Embedding cache folder (default: <data home>/zeroshot-cache).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the embedding cache.")
@click.option(
    "--cache-identity",
    type=click.Choice(["stat", "sha256"]),
    default="stat",
    show_default=True,
    help="How the cache knows a video: path, size and mtime, or its bytes' sha256.",
)
@click.option("--name", default=None, help="Entry name (default: '<MODEL> zero-shot').")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the result record (JSON) here, atomically (for the leaderboard's --results).",
)
@ray_options
@home_option
@mirror_option
def zeroshot(
    model,
    benchmark,
    videos,
    features,
    split,
    weights,
    device,
    out,
    fps,
    max_frames,
    pooling,
    cache_dir,
    no_cache,
    cache_identity,
    name,
    json_path,
    workers,
    ray,
    ray_encoders,
    home,
    mirror,
):
    """Score zero-shot MODEL (e.g. clip-vit-b16) on a benchmark from raw videos: frames sampled
    and pooled as its manifest says, the manifest kept in the submission and the record."""
    from var_bench.scoring.render import render_record
    from var_bench.zeroshot.run import zeroshot as run_videos
    from var_bench.zeroshot.run import zeroshot_features

    if (videos is None) == (features is None):
        raise InputError(
            "zeroshot: expected exactly one of --videos DIR or --features [STORE], got "
            + ("both" if videos else "neither")
        )
    recipe = {
        k: v
        for k, v in (("fps", fps), ("max_frames", max_frames), ("pooling", pooling))
        if v is not None
    }
    if features is not None:
        if ray is not None:
            raise InputError("--ray: expected --videos (the --features path decodes nothing)")
        if recipe:
            raise InputError(
                f"--features: expected no frame options (the store fixed them), got "
                f"{', '.join('--' + k.replace('_', '-') for k in recipe)}"
            )
        result = zeroshot_features(
            model,
            benchmark,
            out,
            features=None if features == BUILT_STORE else features,
            split=split,
            weights=weights,
            device=device,
            name=name,
            home=home,
            mirror=mirror,
        )
    else:
        result = run_videos(
            model,
            benchmark,
            videos,
            out,
            split=split,
            weights=weights,
            device=device,
            cache=False if no_cache else (cache_dir or True),
            identity=cache_identity,
            name=name,
            home=home,
            mirror=mirror,
            workers=workers,
            ray=ray_from_options(ray, workers, ray_encoders),
            **recipe,
        )
    if json_path:
        result.record.save(json_path)
    click.echo(render_record(result.record))
    s = result.sampling
    click.echo(
        f"sampling: {s.model_id} ({s.weights}), {s.fps:g} fps, at most {s.max_frames} frames, "
        f"{s.pooling}"
    )
    if videos is not None:
        click.echo(
            f"videos: {result.encoded} encoded, {result.cached} from the cache, "
            f"{result.seconds:.1f} s"
        )
    click.echo(f"submission: {result.out}")
