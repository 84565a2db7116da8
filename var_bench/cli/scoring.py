"""``var-bench score`` and ``var-bench compare``: parse arguments, call the library, print tables."""

from __future__ import annotations

import json
from typing import Any, Iterable

import click

from var_bench.errors import InputError
from var_bench.scoring.metrics.compare import METHODS
from var_bench.scoring.metrics.names import DEFAULT_TIES, METRICS, RECALLS, SUMR, TIE_RULES, arrow
from var_bench.cli.base import benchmark_choice, cli, home_option, mirror_option



@cli.command()
@click.argument("submission", type=click.Path(dir_okay=False))
@click.option("--benchmark", type=benchmark_choice(), default=None,
              help="Benchmark (default: inferred from the matrix size).")
@click.option("--ties", type=click.Choice(TIE_RULES), default=DEFAULT_TIES, show_default=True,
              help="Tie rule; the other two are reported as bounds.")
@click.option("--direction", default=None, metavar="DIR",
              help="Score one direction only (t2v, v2t, a2v, v2a); SumR then covers it alone.")
@click.option("--split", default="test", show_default=True, help="Split the matrix ranks.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Write the result record (JSON) here, atomically.")
@click.option("--by-class", is_flag=True, help="Add the per-class and anomalous/normal breakdown.")
@click.option("--ci", is_flag=True, help="Add 95% bootstrap confidence intervals.")
@click.option("--replicates", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Bootstrap replicates for --ci.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed for --ci.")
@click.option("--name", default=None, help="Entry name stored in the record.")
@click.option("--disclose", multiple=True, metavar="KEY=VALUE",
              help="Disclosure field (repeatable): test_time_normalisation, extra_training_data, "
                   "checkpoint_selection, tuned_on_test (hyper-parameters or fusion weights "
                   "chosen on test), training_data.")
@home_option
@mirror_option
def score(submission, benchmark, ties, direction, split, json_path, by_class, ci, replicates, seed,
          name, disclose, home, mirror):
    """Score SUBMISSION (.npy, .npz, .pt/.pth, .h5): R@1, R@5, R@10, MdR, MnR per direction, SumR."""
    from var_bench.scoring.score import score as run

    record = run(submission, benchmark, ties=ties, direction=direction, split=split,
                 by_class=by_class, ci=ci, replicates=replicates, seed=seed, name=name,
                 disclosure=_parse_disclosure(disclose), home=home, mirror=mirror)
    if json_path:
        record.save(json_path)
    click.echo(render_record(record))


@cli.command()
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--benchmark", type=benchmark_choice(), default=None,
              help="Benchmark (default: inferred; records carry theirs).")
@click.option("--ties", type=click.Choice(TIE_RULES), default=DEFAULT_TIES, show_default=True)
@click.option("--method", type=click.Choice(METHODS), default="permutation", show_default=True,
              help="Paired permutation (sign-flip) test or paired bootstrap.")
@click.option("--replicates", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Write the comparison (JSON) here, atomically.")
@home_option
@mirror_option
def compare(a, b, benchmark, ties, method, replicates, seed, json_path, home, mirror):
    """Compare A and B (submissions or result-record JSON files) with a paired test per metric."""
    from var_bench.fsutil import atomic_write_text
    from var_bench.scoring.score import compare as run

    result = run(a, b, benchmark, ties=ties, method=method, replicates=replicates, seed=seed,
                 home=home, mirror=mirror)
    if json_path:
        atomic_write_text(json_path, json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n")
    click.echo(render_comparison(result, a, b))


def _parse_disclosure(items: Iterable[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--disclose: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


# -------------------------------------------------------------------------------- rendering

def _head(metric: str) -> str:
    return f"{metric}{arrow(metric)}"


def _direction_label(spec: Any, name: str) -> str:
    return f"{spec.direction(name).arrow} ({name})"


def render_record(record: Any) -> str:
    """The people's view of a result record: metrics, SumR, ties and bounds, then the optional
    intervals and per-class tables. R@K, MdR and MnR with one decimal (as the paper)."""
    from var_bench.benchmarks import get_benchmark
    from var_bench.tables import plain_table

    spec = get_benchmark(record.benchmark)
    dirs = list(record.metrics)
    n = len(next(iter(record.per_query.values())))
    lines = [f"{spec.title} {record.split}: {n} queries per direction, ties: {record.ties}"
             + (f", entry: {record.name}" if record.name else ""), ""]
    rows = [[_direction_label(spec, d), *(record.metrics[d][m] for m in METRICS)] for d in dirs]
    lines.append(plain_table(["direction", *map(_head, METRICS)], rows))
    only = "" if len(dirs) == len(spec.directions) else f" ({', '.join(dirs)} only)"
    lines.append(f"{_head(SUMR)}{only}: {record.SumR:.1f}")
    tied = ", ".join(f"{d} {record.tied_queries[d]} of {n}" for d in dirs)
    lines.append(f"tied queries: {tied}")
    bounds = ", ".join(f"{rule} {b[SUMR]:.1f}" for rule, b in record.bounds.items())
    lines.append(f"SumR bounds (ties all won / all lost): {bounds}")
    if record.ci:
        lines += ["", _render_ci(record, spec)]
    if record.by_class:
        lines += ["", _render_by_class(record)]
    return "\n".join(lines)


def _interval(pair: Any) -> str:
    return f"[{pair[0]:.1f}, {pair[1]:.1f}]"


def _render_ci(record: Any, spec: Any) -> str:
    from var_bench.tables import plain_table

    ci = record.ci
    intervals = ci["intervals"]
    dirs = [d for d in record.metrics if d in intervals]
    metrics = [m for m in METRICS if any(m in intervals[d] for d in dirs)]
    rows = [[_direction_label(spec, d), *(_interval(intervals[d][m]) if m in intervals[d] else None
                                          for m in metrics)] for d in dirs]
    title = (f"{100 * ci['level']:g}% intervals ({ci['method']}, {ci['replicates']} replicates, "
             f"seed {ci['seed']}); {_head(SUMR)} {_interval(intervals[SUMR])}")
    return title + "\n" + plain_table(["direction", *map(_head, metrics)], rows,
                                      align=["left"] + ["right"] * len(metrics))


def _render_by_class(record: Any) -> str:
    from var_bench.scoring.metrics.breakdown import ANOMALOUS, CLASSES, NORMAL
    from var_bench.scoring.metrics.names import MEDIAN_RANK
    from var_bench.tables import plain_table

    shown = (*RECALLS, MEDIAN_RANK)
    dirs = list(record.metrics)
    header = ["group", "n", *(f"{d} {_head(m)}" for d in dirs for m in shown), _head(SUMR)]
    groups = [*record.by_class[CLASSES].items(), (ANOMALOUS, record.by_class[ANOMALOUS]),
              (NORMAL, record.by_class[NORMAL])]
    rows = [[label, g["n"], *(g["metrics"][d][m] for d in dirs for m in shown), g[SUMR]]
            for label, g in groups if g is not None]
    return "per class (queries whose video is in the group; gallery: the whole test set)\n" \
        + plain_table(header, rows)


def render_comparison(result: Any, a: str, b: str) -> str:
    """One row per metric and direction, then SumR: A, B, diff = A - B, the interval of the
    difference, the p-value and which entry is better (A, B, or - when not significant)."""
    from var_bench.tables import plain_table

    rows = []
    for r in result.rows:
        base = r.metric.split()[-1]  # "t2v R@1" -> "R@1"
        rows.append([f"{r.metric}{arrow(base)}", r.a, r.b, r.diff,
                     _interval((r.ci_low, r.ci_high)), f"{r.p_value:.4f}",
                     "-" if r.p_adjusted is None else f"{r.p_adjusted:.4f}",
                     r.better.upper() if r.better else "-"])
    head = (f"A: {a}\nB: {b}\n{result.method} test, {result.replicates} replicates, seed "
            f"{result.seed}, ties: {result.ties}; diff = A - B with its {100 * result.level:g}% "
            f"bootstrap interval; better: where p < {1 - result.level:g}; p (Holm): adjusted "
            f"over the {len(result.rows)} rows, for reading several at once")
    table = plain_table(["metric", "A", "B", "diff", "interval", "p", "p (Holm)", "better"], rows,
                        align=["left", "right", "right", "right", "right", "right", "right",
                               "left"])
    return head + "\n" + table
