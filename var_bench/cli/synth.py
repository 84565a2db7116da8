"""``var-bench synth``: write a synthetic raw feature tree (exact upstream layout)."""

from __future__ import annotations

import click

from var_bench.cli.base import benchmark_choice, cli, home_option, starting, wrote


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--benchmark", "-b", required=True, type=benchmark_choice())
@click.option(
    "--videos", type=int, default=None, help="Only the first N videos per upstream split."
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--crops", type=int, default=None, help="Crops per video (default upstream: 10 UCF, 5 XD)."
)
@click.option(
    "--snippets",
    type=int,
    default=32,
    show_default=True,
    help="N: videos without a temporal annotation get T in [ceil(N/2), N] snippets.",
)
@click.option(
    "--snippet-frames",
    type=int,
    default=16,
    show_default=True,
    help="F: frames per snippet (larger F keeps long annotated test videos short).",
)
@click.option(
    "--flow/--no-flow", default=None, help="Also write a Flow tree (default: UCF no, XD yes)."
)
@click.option(
    "--layout",
    default=None,
    help="Video layout, one of the benchmark's rgb layouts (default: ucf-crops / xd-i3d).",
)
@click.option(
    "--ragged/--no-ragged",
    default=None,
    help="Flow/audio may be one snippet short, as upstream (default: XD yes, UCF no).",
)
@click.option(
    "--text-model",
    default=None,
    metavar="NAME_OR_DIR",
    help="Text model whose sentence embeddings are the content (default: offline MiniLM).",
)
@click.option("--signal", type=float, default=None, help="Content amplitude a in video streams.")
@click.option("--audio-signal", type=float, default=None, help="Content amplitude a in audio.")
@click.option("--anomaly", type=float, default=None, help="Anomaly-direction amplitude b.")
@click.option("--noise", type=float, default=None, help="Per-crop noise sigma.")
@click.option("--offset", type=float, default=None, help="Per-video offset tau.")
@home_option
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
def synth(
    out_dir,
    benchmark,
    videos,
    seed,
    crops,
    snippets,
    snippet_frames,
    flow,
    layout,
    ragged,
    text_model,
    signal,
    audio_signal,
    anomaly,
    noise,
    offset,
    home,
    progress,
):
    """Write a synthetic raw feature tree for BENCHMARK's real ids into OUT_DIR (see
    docs/synth.md)."""
    from var_bench.benchmarks import get_benchmark
    from var_bench.synth import synthesize

    amplitudes = {
        k: v
        for k, v in (
            ("signal", signal),
            ("audio_signal", audio_signal),
            ("anomaly", anomaly),
            ("noise", noise),
            ("offset", offset),
        )
        if v is not None
    }
    starting(
        f"writing a synthetic {benchmark} feature tree into {out_dir}: "
        + (
            f"first the {get_benchmark(benchmark).text_column} embeddings "
            f"({text_model or 'offline MiniLM'}: a minute or more on a CPU), then "
            if get_benchmark(benchmark).text_column
            else ""
        )
        + "the videos"
    )
    s = synthesize(
        out_dir,
        benchmark,
        videos=videos,
        seed=seed,
        crops=crops,
        snippets=snippets,
        snippet_frames=snippet_frames,
        flow=flow,
        layout=layout,
        ragged=ragged,
        text_model=text_model,
        home=home,
        progress=progress,
        **amplitudes,
    )
    counts = ", ".join(f"{k} {v}" for k, v in s.videos.items())
    click.echo(
        f"{s.benchmark}: {counts} videos, streams {'+'.join(s.streams)}, {s.files} files, "
        f"{s.bytes / 1e6:.1f} MB"
    )
    wrote(s.out_dir, what="synthetic raw features")
    args = " ".join(f"--{k} {v}" for k, v in s.paths.items())
    click.echo(f"next: var-bench build {s.benchmark} {args}")
