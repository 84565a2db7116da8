"""Sharding an extraction over processes: ``"K/N"`` or ``"auto"`` (torchrun / SLURM variables).

Video i of the benchmark's canonical id list belongs to shard ``i mod N``, so N processes (GPUs,
nodes, array jobs) share one output folder without collision and together cover every video
exactly once.
"""

from __future__ import annotations

import os

from var_bench.errors import InputError

#: Environment variables read by ``shard="auto"``, in order: (index, count).
SHARD_ENV: tuple[tuple[str, str], ...] = (
    ("RANK", "WORLD_SIZE"),  # torchrun / torch.distributed
    ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"),  # sbatch --array=0-(N-1)
    ("SLURM_PROCID", "SLURM_NTASKS"),  # srun -n N
)


def parse_shard(text: str | tuple[int, int] | None, env: dict | None = None) -> tuple[int, int]:
    """``"K/N"`` (0 <= K < N) -> ``(K, N)``; None -> ``(0, 1)``; ``"auto"`` -> from torchrun or
    SLURM environment variables (:data:`SHARD_ENV`; a SLURM array's index is taken relative to
    ``SLURM_ARRAY_TASK_MIN``), ``(0, 1)`` when none is set."""
    if text is None:
        return 0, 1
    if isinstance(text, tuple):
        k, n = text
    elif str(text).strip() == "auto":
        env = os.environ if env is None else env
        for ik, nk in SHARD_ENV:
            if ik in env and nk in env:
                used = [ik, nk] + (["SLURM_ARRAY_TASK_MIN"] if ik.startswith("SLURM_ARRAY") else [])
                try:
                    k = int(env[ik]) - (
                        int(env.get("SLURM_ARRAY_TASK_MIN", 0))
                        if ik.startswith("SLURM_ARRAY")
                        else 0
                    )
                    n = int(env[nk])
                except ValueError:
                    got = ", ".join(f"{v}={env.get(v)!r}" for v in used if v in env)
                    raise InputError(
                        f"--shard auto: expected integer {' and '.join(used[:2])}, got {got}"
                    ) from None
                break
        else:
            return 0, 1
    else:
        try:
            ks, ns = str(text).split("/")
            k, n = int(ks), int(ns)
        except ValueError:
            raise InputError(
                f"--shard: expected K/N with 0 <= K < N (e.g. 0/4) or auto, got {text!r}"
            ) from None
    if not (n >= 1 and 0 <= k < n):
        raise InputError(f"--shard: expected K/N with 0 <= K < N, got {k}/{n}")
    return k, n


def shard_of(ids: list[str], shard: tuple[int, int]) -> list[str]:
    """The ids of ``shard`` = ``(K, N)``: positions i with ``i mod N == K``."""
    k, n = shard
    return [v for i, v in enumerate(ids) if i % n == k]
