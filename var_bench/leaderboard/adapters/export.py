"""``var-bench export``: one result record -> a challenge platform's score file, an Every Eval Ever
record (:mod:`.eee`) or a Hugging Face model card's ``model-index`` block (:mod:`.hf_model_index`).

The platforms are one table, :data:`WRITERS` (name -> ``"module:function"``); each writer is
imported on use, so listing the platforms (the CLI's choices) stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import import_module

from var_bench.errors import InputError

#: Platform -> its writer ``f(record, output)``, as a lazy ``"module:function"`` reference.
WRITERS: dict[str, str] = {
    "codalab": "var_bench.leaderboard.adapters.codalab:write_codalab_scores",
    "codabench": "var_bench.leaderboard.adapters.codabench:write_codabench_scores",
    "evalai": "var_bench.leaderboard.adapters.evalai:write_evalai_json",
    "eee": "var_bench.leaderboard.adapters.eee:write_eee_json",
    "hf-model-index": "var_bench.leaderboard.adapters.hf_model_index:write_model_index",
}
#: Formats ``var-bench export --to`` knows.
PLATFORMS: tuple[str, ...] = tuple(WRITERS)


def writer(platform: str) -> Callable:
    """The writer for ``platform``; an unknown platform is one :class:`InputError` line."""
    if platform not in WRITERS:
        raise InputError(f"platform: expected one of {', '.join(PLATFORMS)}, got {platform!r}")
    module, _, name = WRITERS[platform].partition(":")
    return getattr(import_module(module), name)


def export_record(record_path: str | os.PathLike, platform: str, output: str | os.PathLike) -> None:
    """Read a result record and write it, verified, in ``platform``'s format to ``output``."""
    from var_bench.scoring.record import ResultRecord  # on use: listing PLATFORMS stays light

    write = writer(platform)
    write(ResultRecord.load(record_path), output)
