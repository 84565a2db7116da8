"""``var-bench index`` and ``var-bench search``: search a video archive with a trained model."""

from __future__ import annotations

import json
from pathlib import Path

import click

from var_bench.cli.base import (
    benchmark_choice,
    cli,
    home_option,
    ray_from_options,
    ray_options,
    starting,
    wrote,
)


@cli.command("index")
@click.argument("checkpoint", metavar="CHECKPOINT|MODEL")
@click.option(
    "--benchmark",
    "-b",
    type=benchmark_choice(),
    default=None,
    help="Benchmark the model was trained on (required for a CHECKPOINT).",
)
@click.option(
    "--videos",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Index these raw videos with zero-shot MODEL (e.g. clip-vit-b16) instead.",
)
@click.option(
    "--weights",
    default=None,
    metavar="PATH|random",
    help="Zero-shot MODEL's weights (default: its pinned ones).",
)
@click.option(
    "--split", default="test", show_default=True, help="Split of the feature store to index."
)
@click.option(
    "--features",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Index a raw feature folder (any layout 'build' reads, or 'extract' output) instead.",
)
@click.option(
    "--flow",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Flow features of --features, when in a separate folder.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    metavar="INDEX",
    help="Index folder (an unfinished or existing one is resumed / appended to).",
)
@click.option(
    "--check", is_flag=True, help="Also build the approximate index and report its recall@10."
)
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: auto).")
@ray_options
@home_option
def index_command(
    checkpoint,
    benchmark,
    videos,
    weights,
    split,
    features,
    flow,
    out,
    check,
    device,
    workers,
    ray,
    ray_encoders,
    home,
):
    """Encode a gallery of videos with CHECKPOINT (a trained model's folder) into a searchable
    index, or raw --videos with zero-shot MODEL."""
    from var_bench.errors import InputError
    from var_bench.search import Index
    from var_bench.search.check import approximate_recall

    if videos is not None:
        from var_bench.search.zeroshot import ZeroShotIndex

        if features or flow or check:
            raise InputError(
                "index --videos: expected no --features, --flow or --check (a zero-shot index "
                "encodes the raw videos and searches exactly)"
            )
        starting(f"indexing the videos of {videos} with {checkpoint} into {out} (rerun to resume)")
        zidx = ZeroShotIndex.build(
            checkpoint,
            videos,
            out,
            weights=weights,
            device=device or "cpu",
            home=home,
            workers=workers,
            ray=ray_from_options(ray, workers, ray_encoders),
        )
        wrote(out, what=zidx.summary())
        return
    if ray is not None:
        raise InputError(
            "index --ray: expected --videos with a zero-shot MODEL (a CHECKPOINT "
            "index reads features, it decodes nothing)"
        )
    if benchmark is None or weights is not None:
        raise InputError(
            "index: expected --benchmark with a CHECKPOINT (or --videos DIR with a zero-shot "
            "MODEL, which alone takes --weights)"
        )
    starting(
        f"indexing the {split} videos of {benchmark} with {checkpoint} into {out} (rerun to resume)"
    )
    idx = Index.build(
        checkpoint,
        benchmark,
        out,
        split=split,
        features=features,
        flow=flow,
        home=home,
        device=device,
    )
    wrote(out, what=idx.summary())
    if check:
        click.echo(approximate_recall(idx).line())


@cli.command("search")
@click.argument("index", type=click.Path(file_okay=False))
@click.argument("query", required=False)
@click.option(
    "--audio",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Audio query: VGGish features [T, 128] (.npy, XDViolence-AR models), or a sound / "
    "video file for a zero-shot index whose model has audio.",
)
@click.option("--top", default=10, show_default=True, type=int, help="Videos to return.")
@click.option(
    "--approx", is_flag=True, help="Approximate (HNSW) candidates instead of exact search."
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as a JSON list.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write a results page with each segment on its timeline.",
)
@click.option(
    "--checkpoint",
    type=click.Path(file_okay=False),
    default=None,
    help="The model's folder, if it moved since indexing (must be the same weights).",
)
@click.option(
    "--moments",
    "moments_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE.jsonl",
    help="Answer every sentence of the indexed benchmark's --split (uca) and write a moment "
    "submission for 'var-bench score' (--top predictions per sentence; 100 at most).",
)
@click.option(
    "--split", default="test", show_default=True, help="Split whose sentences --moments answers."
)
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: auto).")
@home_option
def search_command(
    index,
    query,
    audio,
    top,
    approx,
    as_json,
    html_path,
    checkpoint,
    moments_path,
    split,
    device,
    home,
):
    """Rank the videos of INDEX for QUERY (text) or --audio, with the best-matching segment;
    or, with --moments, answer a benchmark split's sentences as a moment submission."""
    from var_bench.errors import InputError
    from var_bench.fsutil import atomic_write_text
    from var_bench.search import Index
    from var_bench.search.index import load_audio_query
    from var_bench.search.render import render_html, render_text

    given = sum(x is not None for x in (query, audio, moments_path))
    if given != 1:
        raise InputError(
            "search: expected one of a text QUERY, --audio FILE.npy or --moments FILE.jsonl, "
            f"got {'several' if given else 'none'}"
        )
    from var_bench.search.zeroshot import ZeroShotIndex, is_zeroshot_index

    if is_zeroshot_index(index):
        if approx or checkpoint or moments_path:
            raise InputError(
                "search: expected no --approx, --checkpoint or --moments for a zero-shot index "
                "(exact, its model named inside; --moments needs an index of a benchmark split)"
            )
        idx = ZeroShotIndex.load(index, device=device or "cpu")
        q = Path(audio) if audio else query
    else:
        idx = Index.load(index, device=device, checkpoint=checkpoint)
        if moments_path is not None:
            from var_bench.models.baselines.moments import write_moments
            from var_bench.search.moments import index_moments

            found = index_moments(idx, split, top=top, home=home)
            header = {
                "benchmark": idx.info.benchmark,
                "task": "moments",
                "split": split,
                "name": f"window-similarity {idx.info.model}",
                # the checkpoint's training benchmark: score flags the test videos it holds
                "disclosure": {"training_data": idx.saved["context"]["benchmark"]},
            }
            write_moments(moments_path, found, header)
            click.echo(f"wrote {len(found)} queries x {top} moment predictions to {moments_path}")
            return
        q = load_audio_query(audio) if audio else query
    hits = idx.search(q, top=top, exact=not approx)
    label = query if query is not None else f"audio {audio}"
    if html_path:
        atomic_write_text(html_path, render_html(idx, label, hits))
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], indent=1))
    else:
        click.echo(render_text(idx, label, hits))
    if html_path:  # after --json, on stderr: stdout stays one JSON document
        wrote(html_path, err=as_json)
