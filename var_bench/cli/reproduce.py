"""``var-bench reproduce`` and ``var-bench sweep``: the paper's protocol, its ablations and any
grid of configs and seeds (library: :mod:`var_bench.reproduce`)."""

from __future__ import annotations

import sys

import click

from var_bench.cli.base import PROG, benchmark_choice, cli, home_option, starting, wrote


def _refused(exc) -> None:
    """One line per refused deviation, then exit 2 (the CLI funnel would join them)."""
    for line in exc.lines:
        click.echo(f"{PROG}: error: reproduce --strict refused: {line}")
        click.echo(f"{PROG}: error: reproduce --strict refused: {line}", err=True)
    click.echo(
        f"{PROG}: error: use --allow-deviation to run anyway (the report and every record "
        f"list the deviations)",
        err=True,
    )
    sys.exit(2)


@cli.command()
@click.argument("model", required=False, metavar="MODEL")
@click.option(
    "--benchmark", "-b", type=benchmark_choice(), required=True, help="Benchmark to reproduce."
)
@click.option(
    "--features-store",
    default=None,
    metavar="PATH",
    help="Data home (or feature-store folder) holding the features (default: --home).",
)
@click.option(
    "--seeds",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seeds to train (0..N-1).",
)
@click.option(
    "--config",
    default="paper",
    show_default=True,
    metavar="paper|tiny|FILE",
    help="paper: the closest reading of the paper (guesses labelled); tiny; or a YAML file.",
)
@click.option(
    "--strict/--allow-deviation",
    default=None,
    help="Refuse a run that is not the paper's (default: strict for --config paper).",
)
@click.option(
    "--ablation",
    default=None,
    metavar="TABLE",
    help="Run a paper ablation table for ALAN: sampling, vpmpm, alignment, alpha.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config key (repeatable; YAML values); a paper value changed is a deviation.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Output folder (default reproductions/<model>-<benchmark>); reruns resume.",
)
@click.option(
    "--runner",
    type=click.Choice(["auto", "ray", "sequential"]),
    default="auto",
    show_default=True,
    help="--ablation: Ray Tune when installed, else one trial after another.",
)
@click.option(
    "--address", default=None, metavar="ADDR", help="--ablation: an existing Ray cluster."
)
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: auto).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (trials and their values, seeds, deviations, the published rows each "
    "is compared with, feature provenance) and exit; trains and writes nothing.",
)
@home_option
def reproduce(
    model,
    benchmark,
    features_store,
    seeds,
    config,
    strict,
    ablation,
    overrides,
    out,
    runner,
    address,
    device,
    dry_run,
    home,
):
    """Train N seeds with the paper's protocol, evaluate each on test, and report mean +- std,
    95% intervals and the published row (report.md, report.html, summary.json in --out)."""
    from var_bench.errors import InputError
    from var_bench.reproduce.run import StrictRefusal

    try:
        if ablation is not None:
            from var_bench.reproduce.sweep import ablation_grid, run_grid

            if model not in (None, "alan"):
                raise InputError(
                    f"--ablation: expected MODEL alan (the paper's ablations), got {model!r}"
                )
            grid = ablation_grid(
                ablation, benchmark, config=config, seeds=seeds, strict=strict, overrides=overrides
            )
            if dry_run:
                from var_bench.reproduce.dryrun import dry_run_grid

                click.echo(
                    dry_run_grid(grid, home=home, features_store=features_store).render(), nl=False
                )
                return
            starting(
                f"reproducing the {ablation} ablation of alan on {benchmark}: "
                f"{len(grid.trials)} trials (rerun to resume)"
            )
            result = run_grid(
                grid,
                out=out or f"reproductions/alan-{benchmark}-{ablation}",
                home=home,
                features_store=features_store,
                device=device,
                runner=runner,
                address=address,
            )
            click.echo((result.out / "report.md").read_text("utf-8"))
            wrote(result.out, what="report.md, report.html, result records")
            return
        if model is None:
            raise InputError(
                "reproduce: expected MODEL (e.g. alan) or --ablation TABLE, got neither"
            )
        # what the plan and the run share
        same = dict(
            seeds=seeds,
            config=config,
            overrides=overrides,
            strict=strict,
            home=home,
            features_store=features_store,
        )
        if dry_run:
            from var_bench.reproduce.dryrun import dry_run_reproduction

            plan = dry_run_reproduction(model, benchmark, **same)
            click.echo(plan.render(), nl=False)
            return
        from var_bench.reproduce.run import reproduce as run

        starting(
            f"reproducing {model} on {benchmark}: {seeds} seeds, each trained then evaluated on "
            f"test, into {out or f'reproductions/{model}-{benchmark}'} (rerun to resume)"
        )
        summary = run(model, benchmark, out=out, device=device, **same)
    except StrictRefusal as exc:
        _refused(exc)
    c = summary.score
    pub = "-" if c.published is None else f"{c.published:.1f}"
    ci = "-" if c.stats.ci is None else f"[{c.stats.ci[0]:.1f}, {c.stats.ci[1]:.1f}]"
    click.echo(
        f"{summary.model} on {summary.benchmark}: test {summary.main_score} "
        f"{c.stats.mean:.1f} +- "
        f"{c.stats.std:.1f} over {c.stats.n} seeds, 95% interval {ci}, published {pub}; "
        f"{len(summary.deviations)} deviation(s)"
    )
    for warning in summary.warnings:
        click.echo(f"warning: {warning}")
    target = out or f"reproductions/{summary.model}-{summary.benchmark}"
    wrote(target, what="report.md, report.html, summary.json, per-seed records")


@cli.command()
@click.argument("config_grid", type=click.Path(dir_okay=False, exists=True), metavar="CONFIG_GRID")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Output folder (default sweeps/<model>-<benchmark>); reruns resume.",
)
@click.option(
    "--runner",
    type=click.Choice(["auto", "ray", "sequential"]),
    default="auto",
    show_default=True,
    help="Ray Tune when installed (the sweep extra), else sequential.",
)
@click.option(
    "--address",
    default=None,
    metavar="ADDR",
    help="An existing Ray cluster (default: a local instance).",
)
@click.option("--features-store", default=None, metavar="PATH", help="As for reproduce.")
@click.option("--device", default=None, metavar="DEV", help="cpu, cuda, cuda:N (default: auto).")
@click.option("--dry-run", is_flag=True, help="Print the plan and exit; trains nothing.")
@home_option
def sweep(config_grid, out, runner, address, features_store, device, dry_run, home):
    """Run every (trial, seed) of a grid file; results land as ordinary result records."""
    from var_bench.reproduce.run import StrictRefusal
    from var_bench.reproduce.sweep import load_grid, run_grid

    grid = load_grid(config_grid)
    if dry_run:
        from var_bench.reproduce.dryrun import dry_run_grid

        plan = dry_run_grid(grid, home=home, features_store=features_store)
        click.echo(plan.render(), nl=False)
        return
    starting(f"sweeping {config_grid}: {len(grid.trials)} trials (rerun to resume)")
    try:
        result = run_grid(
            grid,
            out=out,
            home=home,
            features_store=features_store,
            device=device,
            runner=runner,
            address=address,
        )
    except StrictRefusal as exc:
        _refused(exc)
    click.echo((result.out / "report.md").read_text("utf-8"))
    wrote(result.out, what="report.md, report.html, result records")
