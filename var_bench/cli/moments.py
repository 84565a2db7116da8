"""``var-bench moments train`` / ``predict``: XML's moment head on a benchmark's feature store."""

from __future__ import annotations

import click

from var_bench.cli.base import benchmark_choice, cli, home_option, starting, wrote


@cli.group()
def moments():
    """XML's moment head: train it on sentences with their segments, predict moments."""


@moments.command("train")
@click.option(
    "--benchmark",
    "-b",
    type=benchmark_choice(),
    default="uca",
    show_default=True,
    help="Benchmark with a grounding task (sentences with [start_s, end_s]).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="runs/moment-head",
    show_default=True,
    help="Run folder (config.json, head.safetensors).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Head option, e.g. --set epochs=5 --set stream=rgb (docs/moments.md; repeatable).",
)
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: auto).")
@home_option
def train(benchmark, out, overrides, device, home):
    """Train the head on the train split; keep the epoch with the best val R@1,IoU=0.5."""
    from var_bench.training.moments import train_moment_head

    starting(f"training the moment head on {benchmark} train (val selects), writing {out}")
    run = train_moment_head(benchmark, out, overrides=overrides, home=home, device=device)
    best = "none" if run.best_val is None else f"{run.best_val:.2f} (epoch {run.best_epoch})"
    click.echo(f"trained the moment head on {benchmark}: best val R@1,IoU=0.5 {best}")
    wrote(out, what="config.json, head.safetensors; predict with 'var-bench moments predict'")


@moments.command("predict")
@click.argument("run", type=click.Path(file_okay=False))
@click.option("--benchmark", "-b", type=benchmark_choice(), default="uca", show_default=True)
@click.option("--task", default=None, help="Moment task (default: the benchmark's first).")
@click.option("--split", default="test", show_default=True)
@click.option("--top", type=int, default=100, show_default=True, help="Predictions per query.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="moments.jsonl",
    show_default=True,
    help="Submission to write (JSON Lines with a header line).",
)
@click.option("--name", default=None, help="Entry name in the header (default: the run folder).")
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: cpu).")
@home_option
def predict(run, benchmark, task, split, top, out, name, device, home):
    """Predict moments for every query of a moment task with the head in RUN."""
    from var_bench.benchmarks import get_benchmark
    from var_bench.models.baselines.moments import write_moments
    from var_bench.training.moments import head_disclosure, predict_moments

    spec = get_benchmark(benchmark)
    task_name = spec.task(task).name
    starting(f"predicting {benchmark} {task_name} on {split} with {run}, writing {out}")
    found = predict_moments(
        run, benchmark, task=task, split=split, top=top, home=home, device=device
    )
    header = {
        "benchmark": spec.name,
        "task": task_name,
        "split": split,
        "name": name or f"xml-moment-head {run}",
        "disclosure": head_disclosure(run),
    }
    write_moments(out, found, header)
    click.echo(
        f"predicted {len(found)} queries; score: var-bench score {out} -b {spec.name}"
        f" --task {task_name}"
    )
    wrote(out, what="moment submission")
