"""Reproductions of the paper's rows and ablations (above training): ``var-bench reproduce`` and
``var-bench sweep``. See docs/reproduce.md."""

from var_bench.reproduce.run import (
    ReproducePlan,
    SeedRun,
    StrictRefusal,
    plan_reproduction,
    reproduce,
    run_seed,
)

__all__ = [
    "ReproducePlan",
    "SeedRun",
    "StrictRefusal",
    "plan_reproduction",
    "reproduce",
    "run_seed",
]
