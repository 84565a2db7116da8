"""``var-bench train`` and ``var-bench evaluate``: the shared training pipeline on the command
line."""

from __future__ import annotations

import click

from var_bench.cli.base import benchmark_choice, cli, home_option, starting, wrote


@cli.command()
@click.option(
    "--model",
    "model_name",
    required=True,
    metavar="NAME",
    help="Registered model (alan, ce, mmt, t2vlad, xclip, hlnet, xml, random, ...).",
)
@click.option(
    "--benchmark", "-b", type=benchmark_choice(), required=True, help="Benchmark to train on."
)
@click.option(
    "--config",
    default=None,
    metavar="FILE_OR_NAME",
    help="YAML config file or config name (default: the benchmark's named config).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Run folder (default runs/<model>-<benchmark>); an existing run resumes.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config key, e.g. --set train.epochs=3 (repeatable; YAML values).",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Continue from <out>/last when it exists.",
)
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: auto).")
@home_option
def train(model_name, benchmark, config, out, overrides, resume, device, home):
    """Train a model on the train split, selecting the checkpoint on val (never test)."""
    from var_bench.training.trainer import train as run

    result = run(
        model_name,
        benchmark,
        config=config,
        out=out,
        home=home,
        resume=resume,
        device=device,
        overrides=overrides,
    )
    best = (
        "none"
        if result.best_val_score is None
        else f"{result.best_val_score:.1f} (epoch {result.best_epoch})"
    )
    click.echo(
        f"trained {model_name} on {benchmark}: {result.epochs_run} epochs, best val "
        f"{result.main_score} {best}"
    )
    wrote(result.out, what=f"config.yaml, log.jsonl, best/, last/; evaluate {result.checkpoint}")


@cli.command()
@click.argument("checkpoint", type=click.Path(file_okay=False))
@click.option(
    "--benchmark", "-b", type=benchmark_choice(), required=True, help="Benchmark to evaluate on."
)
@click.option("--split", default="test", show_default=True, help="Split to encode and score.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="submission.npz",
    show_default=True,
    help="Submission file to write (.npz, the official format).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the result record (JSON) here, atomically.",
)
@click.option("--name", default=None, help="Entry name stored in the record and the submission.")
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: auto).")
@home_option
def evaluate(checkpoint, benchmark, split, out, json_path, name, device, home):
    """Encode SPLIT with CHECKPOINT, write the submission and print its scores."""
    from var_bench.scoring.render import render_record
    from var_bench.training.evaluate import evaluate as run

    starting(
        f"evaluating {checkpoint} on {benchmark} {split}: encode, score, write {out}"
        + (f" and {json_path}" if json_path else "")
    )
    record = run(
        checkpoint,
        benchmark,
        split=split,
        out=out,
        home=home,
        device=device,
        json_path=json_path,
        name=name,
    )
    click.echo(render_record(record))
    wrote(out, *([json_path] if json_path else []), what="submission with provenance")
