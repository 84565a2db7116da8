"""Challenge-platform adapters: the same result record as CodaLab ``scores.txt``, Codabench
``scores.json`` or EvalAI result JSON, plus ready scoring programs for organisers.

Score keys (every platform): :func:`keys.score_keys`, e.g. ``t2v_R1`` ... ``v2t_MnR``, ``SumR``.
"""

from __future__ import annotations

import os
from typing import Callable

from var_bench.errors import InputError

#: Platforms ``var-bench export --to`` knows.
PLATFORMS: tuple[str, ...] = ("codalab", "codabench", "evalai")


def _writer(platform: str) -> Callable:
    # Imported on use: the CLI imports this package for PLATFORMS only.
    if platform == "codalab":
        from var_bench.leaderboard.adapters.codalab import write_codalab_scores

        return write_codalab_scores
    if platform == "codabench":
        from var_bench.leaderboard.adapters.codabench import write_codabench_scores

        return write_codabench_scores
    if platform == "evalai":
        from var_bench.leaderboard.adapters.evalai import write_evalai_json

        return write_evalai_json
    raise InputError(f"platform: expected one of {', '.join(PLATFORMS)}, got {platform!r}")


def export_record(record_path: str | os.PathLike, platform: str, output: str | os.PathLike) -> None:
    """Read a result record and write it, verified, in ``platform``'s format to ``output``."""
    from var_bench.scoring.record import ResultRecord

    writer = _writer(platform)
    writer(ResultRecord.load(record_path), output)
