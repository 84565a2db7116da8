"""Grids of configs and seeds: ``var-bench sweep CONFIG_GRID`` and ``var-bench reproduce
--ablation TABLE``.

A grid file (YAML)::

    model: alan
    benchmark: ucfcrime-ar
    config: paper            # paper | tiny | FILE, as for reproduce
    seeds: 3                 # a count (0..N-1) or a list
    strict: false            # default: as reproduce (strict for paper)
    set: [train.epochs=10]   # overrides for every trial
    grid:                    # cartesian product of values per key ...
      model_args.alpha: [0.0, 0.5, 1.0]
    trials:                  # ... and/or named trials with their own overrides
      - {name: fs-only, set: {model_args.sequences: [fs]}}

Each (trial, seed) is one unit run by :func:`var_bench.reproduce.run.run_seed` into
``out/trials/<trial>/seeds/seed-<k>/``; its result record (``test.json``) is an ordinary record.
Every trial gets the reproduce reports in its folder, and ``out`` gets one grid table.
Runner: Ray Tune when installed (the ``sweep`` extra; a local instance, or ``address`` for a
cluster; one trial per GPU, else one per CPU; failed trials retried), else one unit after
another. Finished units are skipped on a rerun, so both runners resume.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.limits import check
from var_bench.readback import read_yaml, validate
from var_bench.tables import markdown_table

log = logging.getLogger(__name__)


@dataclass
class GridFile:
    """The fields of a grid file (see the module docstring): the schema it is read back with
    (:func:`var_bench.readback.validate`, strict types); sizes are bounded by
    :mod:`var_bench.limits` (``sweep_trials``, ``sweep_seeds``) before anything is expanded."""

    model: str
    benchmark: str
    config: str = "paper"
    seeds: int | list[int] = 1
    strict: bool | None = None
    set: dict[str, Any] | list[str] | None = None
    grid: dict[str, list[Any]] | None = None
    trials: list[dict[str, Any]] | None = None


GRID_KEYS = tuple(f.name for f in fields(GridFile))

#: The paper's alpha grid (Tables IX / X).
ALPHA_GRID: tuple[float, ...] = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)

#: The paper's ablation tables as trials of ALAN overrides, rows in the paper's order
#: (docs/reproduce.md). The trial names are the ``trial`` of each row of the published ablation
#: tables (``published.json``), which the reports put beside each trial.
ABLATIONS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    # Tables IV / V: sampling (FS, AS with N = 50; FS with N = 100; FS + AS with N = 50).
    "sampling": (
        ("fs", {"model_args.sequences": ["fs"]}),
        ("as", {"model_args.sequences": ["as"]}),
        ("fs-n100", {"model_args.sequences": ["fs"], "model_args.n": 100}),
        ("fs+as", {"model_args.sequences": ["fs", "as"]}),
    ),
    # Table VI: VPMPM variants (text benchmark).
    "vpmpm": (
        ("no-vpmpm", {"model_args.vpmpm": False}),
        ("random-words", {"model_args.vpmpm_kinds": ["RW"]}),
        ("noun-verb-words", {"model_args.vpmpm_kinds": ["N", "V"]}),
        ("phrases", {"model_args.vpmpm_kinds": ["NP", "VP"]}),
    ),
    # Table VII: alignment (CLS only = alpha 1, AVG only = alpha 0, both = 0.5).
    "alignment": (
        ("cls", {"model_args.alpha": 1.0}),
        ("avg", {"model_args.alpha": 0.0}),
        ("cls+avg", {"model_args.alpha": 0.5}),
    ),
    # Tables IX / X: the alpha sweep on the paper's grid.
    "alpha": tuple((f"alpha-{a:g}", {"model_args.alpha": a}) for a in ALPHA_GRID),
}


@dataclass(frozen=True)
class Trial:
    """One grid point: a file-safe ``name`` and its ``a.b=c`` overrides."""

    name: str
    overrides: tuple[str, ...]


@dataclass
class Grid:
    """A resolved grid: which model, benchmark and base config, the seeds and the trials."""

    model: str
    benchmark: str
    config: str
    seeds: list[int]
    strict: bool | None
    overrides: tuple[str, ...]
    trials: list[Trial] = field(default_factory=list)
    #: The paper's ablation table the trials rerun (``--ablation``), None for a user's grid.
    ablation: str | None = None


def _override(key: str, value: Any) -> str:
    return f"{key}={json.dumps(value)}"


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_.+" else "-" for c in text)
    return keep.strip("-") or "trial"


def _seeds(value: Any) -> list[int]:
    if isinstance(value, bool) or value is None:
        raise InputError(f"grid seeds: expected a count or a list of integers, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise InputError(f"grid seeds: expected at least 1, got {value}")
        check("sweep_seeds", "grid seeds", value)
        return list(range(value))
    if isinstance(value, list):
        check("sweep_seeds", "grid seeds", len(value))
    if (
        isinstance(value, list)
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) for s in value)
    ):
        return list(value)
    raise InputError(f"grid seeds: expected a count or a list of integers, got {value!r}")


def _set_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(_override(k, v) for k, v in value.items())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(
        f"{where}: expected a mapping of key: value or a list of KEY=VALUE, got {value!r}"
    )


def grid_from_dict(raw: Mapping[str, Any], source: str = "grid") -> Grid:
    """Validate a grid mapping (see the module docstring) into a :class:`Grid`."""
    if not isinstance(raw, Mapping):
        raise InputError(
            f"{source}: expected a YAML mapping of {', '.join(GRID_KEYS)}, got {type(raw).__name__}"
        )
    unknown = [k for k in raw if k not in GRID_KEYS]
    if unknown:
        raise InputError(
            f"{source}: unknown key {unknown[0]!r}, expected one of {', '.join(GRID_KEYS)}"
        )
    for key in ("model", "benchmark"):
        if not raw.get(key):
            raise InputError(f"{source}: expected a {key}, got none")
    validate(GridFile, dict(raw), source)
    trials: list[Trial] = []
    grid = raw.get("grid") or {}
    if not isinstance(grid, Mapping) or any(
        not isinstance(v, list) or not v for v in grid.values()
    ):
        raise InputError(f"{source} grid: expected a mapping of key: [values], got {grid!r}")
    check(  # before anything is expanded: a 2 KB grid can name 10^10 trials
        "sweep_trials",
        f"{source} grid",
        math.prod(len(v) for v in grid.values()) * bool(grid) + len(raw.get("trials") or []),
    )
    if grid:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            name = ",".join(f"{k.split('.')[-1]}={json.dumps(v)}" for k, v in zip(keys, combo))
            trials.append(Trial(_slug(name), tuple(_override(k, v) for k, v in zip(keys, combo))))
    for i, t in enumerate(raw.get("trials") or []):
        if not isinstance(t, Mapping) or "name" not in t:
            raise InputError(
                f"{source} trials[{i}]: expected a mapping with name and set, got {t!r}"
            )
        trials.append(
            Trial(_slug(str(t["name"])), _set_list(t.get("set"), f"{source} trials[{i}].set"))
        )
    if not trials:
        trials.append(Trial("base", ()))
    names = [t.name for t in trials]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{source}: expected unique trial names, got {dup!r} twice")
    strict = raw.get("strict")
    return Grid(
        str(raw["model"]),
        str(raw["benchmark"]),
        str(raw.get("config", "paper")),
        _seeds(raw.get("seeds", 1)),
        None if strict is None else bool(strict),
        _set_list(raw.get("set"), f"{source} set"),
        trials,
    )


def load_grid(path: str | Path) -> Grid:
    """Read a grid file (YAML)."""
    p = Path(path)
    try:
        raw = read_yaml(p, "grid")
    except OSError as exc:
        raise InputError(f"{p}: expected a readable grid file, got {exc.strerror}") from None
    return grid_from_dict(raw or {}, str(p))


def ablation_grid(
    table: str,
    benchmark: str,
    *,
    config: str = "paper",
    seeds: int | Sequence[int] = 3,
    strict: bool | None = None,
    overrides: Sequence[str] = (),
) -> Grid:
    """The paper's ablation ``table`` (:data:`ABLATIONS`) for ALAN as a grid."""
    if table not in ABLATIONS:
        raise InputError(f"--ablation: expected one of {', '.join(ABLATIONS)}, got {table!r}")
    if table == "vpmpm":
        from var_bench.benchmarks import get_benchmark

        if get_benchmark(benchmark).query_modality != "text":
            raise InputError(
                f"--ablation vpmpm: expected a text benchmark (VPMPM needs captions), "
                f"got {benchmark}"
            )
    trials = [
        Trial(name, tuple(_override(k, v) for k, v in sets.items()))
        for name, sets in ABLATIONS[table]
    ]
    return Grid(
        "alan",
        benchmark,
        str(config),
        _seeds(list(seeds) if isinstance(seeds, (list, tuple)) else seeds),
        strict,
        tuple(overrides),
        trials,
        table,
    )


def trial_settings(grid: Grid, trial: Trial) -> dict[str, tuple[str, ...]]:
    """``overrides`` and ``ablation`` of :func:`~var_bench.reproduce.run.plan_reproduction` for a
    trial: a paper ablation's trial settings are the row's, not deviations; a user grid's are
    overrides like any other."""
    if grid.ablation is None:
        return {"overrides": grid.overrides + trial.overrides, "ablation": ()}
    return {"overrides": grid.overrides, "ablation": trial.overrides}


def published_for(grid: Grid):
    """The published ablation table the grid's trials are compared with, or None."""
    if grid.ablation is None:
        return None
    from var_bench.leaderboard.published import published_ablation

    return published_ablation(grid.benchmark, grid.ablation)


# ---------------------------------------------------------------- running


@dataclass
class GridResult:
    """Per trial: its overrides and the reproduce :class:`~var_bench.reproduce.report.Summary`."""

    grid: Grid
    out: Path
    summaries: dict[str, Any]
    runner: str
    wall_seconds: float


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
        from ray import tune  # noqa: F401
    except ImportError:
        return False
    return True


def _unit_trainable(config: dict) -> None:
    """Ray Tune function trainable: one (trial, seed) unit; reports its test main score."""
    from ray import tune

    from var_bench.reproduce.run import run_seed

    run = run_seed(**config["unit"])
    tune.report({"score": run.score, "seed": run.seed})


def _run_with_ray(units: list[dict], out: Path, address: str | None, name: str) -> None:
    import ray
    from ray import tune

    if not ray.is_initialized():
        # Workers must import this checkout's var_bench: pass the driver's PYTHONPATH on.
        env = {"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}}
        ray.init(
            address=address,
            ignore_reinit_error=True,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env=env,
        )
    gpus = int(ray.cluster_resources().get("GPU", 0))
    resources = {"cpu": 1, "gpu": 1} if gpus else {"cpu": 1}
    trainable = tune.with_resources(_unit_trainable, resources)
    storage = str((out / "ray").resolve())
    path = os.path.join(storage, name)
    if tune.Tuner.can_restore(path):
        tuner = tune.Tuner.restore(path, trainable, resume_errored=True, restart_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={"unit": tune.grid_search(units)},
            tune_config=tune.TuneConfig(num_samples=1),
            run_config=tune.RunConfig(
                name=name,
                storage_path=storage,
                verbose=0,
                failure_config=tune.FailureConfig(max_failures=2),
            ),
        )
    results = tuner.fit()
    errors = [str(r.error) for r in results if r.error is not None]
    if errors:
        raise InputError(
            f"sweep: {len(errors)} of {len(units)} Ray trials failed; first: {errors[0]}"
        )


def run_grid(
    grid: Grid,
    *,
    out: str | Path | None = None,
    home=None,
    features_store=None,
    device=None,
    runner: str = "auto",
    address: str | None = None,
    progress: bool | None = None,
) -> GridResult:
    """Plan every trial (strict refusals before any training), run all (trial, seed) units with
    ``runner`` (``auto``: Ray when installed, else sequential; ``ray``; ``sequential``), then
    write each trial's reports and the grid's ``report.md`` / ``summary.json``."""
    from tqdm.auto import tqdm

    from var_bench.reproduce.report import summarise, write_reports
    from var_bench.reproduce.run import plan_reproduction, run_seed, write_plan

    if runner not in ("auto", "ray", "sequential"):
        raise InputError(f"runner: expected auto, ray or sequential, got {runner!r}")
    if runner == "ray" and not ray_available():
        raise InputError(
            "sweep --ray: expected Ray Tune (pip install -e '.[sweep]' in the var_bench "
            "checkout), got it not installed"
        )
    use_ray = runner == "ray" or (runner == "auto" and ray_available())
    out = Path(out) if out is not None else Path("sweeps") / f"{grid.model}-{grid.benchmark}"
    out = out.resolve()
    plans, units = {}, []
    for trial in grid.trials:
        plan = plan_reproduction(
            grid.model,
            grid.benchmark,
            config=grid.config,
            **trial_settings(grid, trial),
            strict=grid.strict,
            home=home,
            features_store=features_store,
        )
        folder = out / "trials" / trial.name
        folder.mkdir(parents=True, exist_ok=True)
        config_file = write_plan(plan, folder)
        plans[trial.name] = plan
        for seed in grid.seeds:
            units.append(
                {
                    "model": plan.model,
                    "benchmark": plan.benchmark,
                    "config_file": str(config_file),
                    "seed": int(seed),
                    "folder": str(folder / "seeds" / f"seed-{seed}"),
                    "home": plan.home,
                    "device": None if device is None else str(device),
                    "deviations": [str(d) for d in plan.deviations],
                    "progress": False,
                }
            )
    t0 = time.perf_counter()
    todo = [u for u in units if not (Path(u["folder"]) / "seed.json").is_file()]
    if todo and use_ray:
        _run_with_ray(todo, out, address, name=f"sweep-{grid.model}-{grid.benchmark}")
    else:
        for unit in tqdm(todo, desc="sweep", disable=None if progress is None else not progress):
            run_seed(**unit)
    wall = time.perf_counter() - t0
    summaries = {}
    table = published_for(grid)
    for trial in grid.trials:
        runs = [
            run_seed(**u)
            for u in units
            if u["folder"].startswith(str(out / "trials" / trial.name) + os.sep)
        ]
        s = summarise(
            plans[trial.name],
            runs,
            wall_seconds=sum(r.wall_seconds for r in runs),
            device=str(device or "auto"),
            ablation=None if table is None else (table, table.row(trial.name)),
        )
        s.extra["overrides"] = list(trial.overrides)
        write_reports(s, out / "trials" / trial.name)
        summaries[trial.name] = s
    result = GridResult(grid, out, summaries, "ray" if use_ray and todo else "sequential", wall)
    write_grid_report(result)
    return result


def ablation_rows(result: GridResult) -> list[list[str]]:
    """Rows ``trial, paper setting, direction, metric, mean +- std, 95% interval, published,
    difference`` for every metric the paper printed in the grid's ablation table."""
    from var_bench.reproduce.report import _ci, _num

    table = published_for(result.grid)
    rows = []
    for name, s in result.summaries.items():
        row = None if table is None else table.row(name)
        for d, ms in s.metrics.items():
            printed = [] if row is None else list(row.metrics.get(d, {}))
            for m in printed:
                c = ms.get(m)
                if c is None:
                    continue
                rows.append(
                    [
                        name,
                        row.setting,
                        d,
                        m,
                        f"{c.stats.mean:.1f} +- {c.stats.std:.1f}",
                        _ci(c),
                        _num(c.published),
                        _num(c.difference),
                    ]
                )
    return rows


def write_grid_report(result: GridResult) -> None:
    """``out/summary.json`` (per trial: overrides, main-score stats, record files) and
    ``out/report.md``."""
    from var_bench.reproduce.report import merge_deviations

    rows, data = [], {}
    table = published_for(result.grid)
    for name, s in result.summaries.items():
        c = s.score
        ci = "-" if c.stats.ci is None else f"[{c.stats.ci[0]:.1f}, {c.stats.ci[1]:.1f}]"
        rows.append(
            [
                name,
                " ".join(s.extra.get("overrides", [])) or "(base)",
                f"{c.stats.mean:.1f} +- {c.stats.std:.1f}",
                ci,
                str(c.stats.n),
            ]
        )
        data[name] = {
            "overrides": s.extra.get("overrides", []),
            s.main_score: c.to_json(),
            "summary": os.path.relpath(result.out / "trials" / name / "summary.json", result.out),
            "records": [os.path.relpath(r.record, result.out) for r in s.seeds],
            "deviations": [d.to_json() for d in s.deviations],
            "metrics": {d: {m: c.to_json() for m, c in ms.items()} for d, ms in s.metrics.items()},
            "published": None
            if table is None or table.row(name) is None
            else {
                "setting": table.row(name).setting,
                "source": table.source,
                "metrics": {d: dict(v) for d, v in table.row(name).metrics.items()},
            },
        }
    g = result.grid
    warnings = list(dict.fromkeys(w for s in result.summaries.values() for w in s.warnings))
    atomic_write_text(
        result.out / "summary.json",
        json.dumps(
            {
                "model": g.model,
                "benchmark": g.benchmark,
                "config": g.config,
                "seeds": g.seeds,
                "runner": result.runner,
                "wall_seconds": result.wall_seconds,
                "ablation": g.ablation,
                "warnings": warnings,
                "trials": data,
            },
            indent=1,
        )
        + "\n",
    )
    main = next(iter(result.summaries.values())).main_score if result.summaries else "score"
    text = (
        f"# Sweep: {g.model} on {g.benchmark}\n\nBase config `{g.config}`, seeds {g.seeds}, "
        f"runner {result.runner}. Test {main} per trial (mean +- std over seeds, 95% "
        f"interval); each trial's full report is in trials/<name>/report.md.\n\n"
        + "".join(f"> **Warning:** {w}\n" for w in warnings)
        + ("\n" if warnings else "")
        + markdown_table(["trial", "overrides", f"test {main}", "95% interval", "seeds"], rows)
        + "\n"
    )
    if table is not None:
        text += (
            f"\n## Beside the paper: {table.source}\n\nThe metrics the paper printed, per trial "
            f"(difference = ours - published).\n\n"
            + markdown_table(
                [
                    "trial",
                    "paper setting",
                    "direction",
                    "metric",
                    "mean +- std",
                    "95% interval",
                    "published",
                    "difference",
                ],
                ablation_rows(result),
            )
            + "\n"
        )
    devs = merge_deviations(*(s.deviations for s in result.summaries.values()))
    text += (
        "\n## Deviations from the paper (any trial)\n\n"
        + ("\n".join(f"- `{d.key}`: {d.message}" for d in devs) or "- none")
        + "\n"
    )
    atomic_write_text(result.out / "report.md", text)
