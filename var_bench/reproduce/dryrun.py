"""``var-bench reproduce ... --dry-run``: what a reproduction or an ablation would run, before
hours of GPU time, training nothing and writing nothing.

The plan shows every trial with its settings, the seeds, the deviations (those of every trial
once, then each trial's own), what ``--strict`` would refuse, the provenance of each feature
stream, the paper values that are readings or guesses, and the published numbers each trial will
be compared with (the paper's ablation row for ``--ablation``, else the model's Table II / III
row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from var_bench.models.deviations import Deviation
from var_bench.reproduce.paper import STATED, PaperValue
from var_bench.reproduce.stats import seed_warning
from var_bench.reproduce.sweep import Grid, Trial, published_for, trial_settings


@dataclass
class PlannedTrial:
    """One trial of a dry run: its ``name``, ``settings`` (``KEY=VALUE``), its own deviations
    (beyond those every trial shares), the deviations ``--strict`` would refuse and the
    ``published`` numbers it will be compared with (``{"setting", "source", "metrics"}``)."""

    name: str
    settings: tuple[str, ...]
    deviations: list[Deviation]
    refused: list[str]
    published: dict[str, Any] | None


@dataclass
class DryRun:
    """A reproduction's plan; :meth:`render` is what ``--dry-run`` prints."""

    model: str
    benchmark: str
    config: str
    seeds: list[int]
    strict: bool
    ablation: str | None
    overrides: tuple[str, ...]
    features: dict[str, Any]
    paper_values: tuple[PaperValue, ...]
    deviations: list[Deviation]
    trials: list[PlannedTrial] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def runs(self) -> int:
        """Training runs the plan holds (trials x seeds)."""
        return len(self.trials) * len(self.seeds)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "benchmark": self.benchmark,
            "config": self.config,
            "seeds": self.seeds,
            "strict": self.strict,
            "ablation": self.ablation,
            "overrides": list(self.overrides),
            "runs": self.runs,
            "features": self.features,
            "paper_values": [p.to_json() for p in self.paper_values],
            "deviations": [d.to_json() for d in self.deviations],
            "trials": [
                {
                    "name": t.name,
                    "settings": list(t.settings),
                    "deviations": [d.to_json() for d in t.deviations],
                    "refused": t.refused,
                    "published": t.published,
                }
                for t in self.trials
            ],
            "warnings": self.warnings,
        }

    def render(self) -> str:
        """The plan as text (one screen for a table of seven trials)."""
        mode = "strict" if self.strict else "deviations allowed"
        what = f"ablation {self.ablation}" if self.ablation else "reproduction"
        lines = [
            f"Dry run ({what}): {self.model} on {self.benchmark}, config {self.config} ({mode}), "
            f"seeds {self.seeds}: {len(self.trials)} trial(s) x {len(self.seeds)} seed(s) = "
            f"{self.runs} training run(s). Nothing is trained or written.",
        ]
        lines += [f"WARNING: {w}" for w in self.warnings]
        if self.overrides:
            lines.append("--set for every trial: " + " ".join(self.overrides))
        lines += ["", f"Features: {self.features.get('folder')}"]
        for stream, p in (self.features.get("provenance") or {}).items():
            extra = ", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in p.items() if k != "origin" and v
            )
            lines.append(f"  {stream}: {p.get('origin')}" + (f" ({extra})" if extra else ""))
        guessed = [p for p in self.paper_values if p.status != STATED]
        stated = len(self.paper_values) - len(guessed)
        lines += ["", f"Paper values: {stated} stated; readings and guesses:"]
        lines += [
            f"  {p.key} = {json.dumps(p.value)} ({p.status}: {p.source})" for p in guessed
        ] or ["  none"]
        lines += ["", "Deviations (every trial):"]
        lines += [f"  - {d.key}: {d.message}" for d in self.deviations] or ["  - none"]
        lines += ["", "Trials:"]
        for t in self.trials:
            lines.append(f"  {t.name}: " + (" ".join(t.settings) or "(the config as it is)"))
            if t.published:
                lines.append(
                    f"    compared with {t.published['setting']} ({t.published['source']}): "
                    + _numbers(t.published["metrics"])
                )
            else:
                lines.append("    compared with: no published row")
            for d in t.deviations:
                lines.append(f"    deviation {d.key}: {d.message}")
            if t.refused:
                lines.append(
                    "    --strict would refuse: " + ", ".join(t.refused)
                    if self.strict
                    else "    --strict would refuse (allowed here): " + ", ".join(t.refused)
                )
        return "\n".join(lines) + "\n"


def _numbers(metrics: dict[str, dict[str, float | None]]) -> str:
    return "; ".join(
        f"{g} " + ", ".join(f"{m} {v:.1f}" for m, v in ms.items() if v is not None)
        for g, ms in metrics.items()
    )


def _main_row(model: str, benchmark: str) -> dict[str, Any] | None:
    from var_bench.leaderboard.published import published_table
    from var_bench.reproduce.report import published_row

    row = published_row(model, benchmark)
    if row is None:
        return None
    return {
        "setting": row.method,
        "source": published_table(benchmark).source,
        "metrics": {g: dict(ms) for g, ms in row.metrics.items()},
    }


def dry_run_grid(grid: Grid, *, home=None, features_store=None) -> DryRun:
    """Plan every trial of ``grid`` (never refusing: what ``--strict`` would refuse is listed)
    and collect the comparison rows; trains and writes nothing."""
    from var_bench.reproduce.run import plan_reproduction

    plans = {}
    for trial in grid.trials:
        plans[trial.name] = plan_reproduction(
            grid.model,
            grid.benchmark,
            config=grid.config,
            **trial_settings(grid, trial),
            strict=False,
            home=home,
            features_store=features_store,
        )
    first = next(iter(plans.values()))
    strict = (first.config_label == "paper") if grid.strict is None else bool(grid.strict)
    shared = [
        d
        for d in first.deviations
        if all(any(str(e) == str(d) for e in p.deviations) for p in plans.values())
    ]
    table = published_for(grid)
    main = _main_row(first.model, first.benchmark) if table is None else None
    trials = []
    for trial in grid.trials:
        plan = plans[trial.name]
        row = None if table is None else table.row(trial.name)
        published = main
        if table is not None:
            published = (
                None
                if row is None
                else {
                    "setting": row.setting,
                    "source": table.source,
                    "metrics": {g: dict(ms) for g, ms in row.metrics.items()},
                }
            )
        trials.append(
            PlannedTrial(
                trial.name,
                tuple(trial.overrides),
                [d for d in plan.deviations if all(str(d) != str(e) for e in shared)],
                [d.key for d in plan.refusals()],
                published,
            )
        )
    warnings = [w for w in (seed_warning(len(grid.seeds)),) if w]
    if strict and any(t.refused for t in trials):
        warnings.append(
            "--strict would refuse this run (see the trials); --allow-deviation runs it"
        )
    return DryRun(
        first.model,
        first.benchmark,
        first.config_label,
        list(grid.seeds),
        strict,
        grid.ablation,
        tuple(grid.overrides),
        first.features,
        first.paper,
        shared,
        trials,
        warnings,
    )


def dry_run_reproduction(
    model: str,
    benchmark: str,
    *,
    seeds: int | list[int] = 3,
    config: str = "paper",
    overrides: tuple[str, ...] = (),
    strict: bool | None = None,
    home=None,
    features_store=None,
) -> DryRun:
    """The plan of ``var-bench reproduce MODEL`` (one trial: the config as resolved)."""
    seed_list = list(range(int(seeds))) if isinstance(seeds, int) else [int(s) for s in seeds]
    grid = Grid(
        str(model),
        str(benchmark),
        str(config),
        seed_list,
        strict,
        tuple(overrides),
        [Trial("base", ())],
    )
    return dry_run_grid(grid, home=home, features_store=features_store)
