"""Challenge-platform adapters: the same result record as CodaLab ``scores.txt``, Codabench
``scores.json`` or EvalAI result JSON, plus ready scoring programs for organisers.

Score keys (every platform): :func:`keys.score_keys`, e.g. ``t2v_R1`` ... ``v2t_MnR``, ``SumR``.
The platform table and ``export_record`` live in :mod:`.export`.
"""

from var_bench.leaderboard.adapters.export import PLATFORMS, WRITERS, export_record

__all__ = ["PLATFORMS", "WRITERS", "export_record"]
