"""Hugging Face model card: the ``model-index`` block (the card's YAML front matter) of a result
record, which the Hub reads into the card's evaluation results.

Built with ``huggingface_hub``'s own :class:`~huggingface_hub.EvalResult` and
``eval_results_to_model_index``: one result per score key (:func:`keys.score_keys`), task type
``<query>-to-<gallery>-retrieval`` (``text-to-video-retrieval``), dataset type the benchmark's
name, split ``test``, ``verified: false`` (the Hub verifies only its own evaluations), source
var_bench. The record is verified first, exactly as the leaderboard does.

Paste the written block into the card's front matter (between the ``---`` lines), or merge it with
``huggingface_hub.ModelCard``.
"""

from __future__ import annotations

import os
from typing import Any

from var_bench.benchmarks import get_benchmark
from var_bench.fsutil import atomic_write_text
from var_bench.leaderboard.adapters.keys import score_key
from var_bench.leaderboard.verify import LEADERBOARD_SPLIT, IdsHash, verify_record
from var_bench.scoring.record import ResultRecord


def model_index(record: ResultRecord, ids_hash: IdsHash | None = None) -> list[dict[str, Any]]:
    """The ``model-index`` list of ``record`` (one model, one result per score key).

    Raises:
        InputError: the record fails verification.
    """
    from huggingface_hub import EvalResult
    from huggingface_hub.repocard_data import eval_results_to_model_index

    spec = get_benchmark(record.benchmark)
    verified = verify_record(record, spec, record.name or record.benchmark, ids_hash)
    task = verified.task
    query, gallery = spec.query_modality, spec.gallery_modality
    kind = f"{query}-to-{gallery}-retrieval"
    rows = [(g, m.name, verified.metrics[g][m.name]) for g in task.groups for m in task.metrics]
    rows += [(None, s, v) for s, v in verified.summary.items()]
    results = [
        EvalResult(
            task_type=kind,
            task_name=f"{query.capitalize()}-{gallery} retrieval",
            dataset_type=spec.name,
            dataset_name=spec.title,
            dataset_split=LEADERBOARD_SPLIT,
            dataset_revision=spec.version,
            metric_type=score_key(g, m),
            metric_name=f"{task.group_label(g)} {m}" if g else m,
            metric_value=round(float(v), 4),
            verified=False,
        )
        for g, m, v in rows
    ]
    return eval_results_to_model_index(record.name or "unnamed", results)


def model_index_yaml(record: ResultRecord, ids_hash: IdsHash | None = None) -> str:
    """``model-index:`` and its list, as YAML for a model card's front matter."""
    import yaml  # huggingface_hub's own dependency

    return yaml.safe_dump(
        {"model-index": model_index(record, ids_hash)}, sort_keys=False, allow_unicode=True
    )


def write_model_index(
    record: ResultRecord, path: str | os.PathLike, ids_hash: IdsHash | None = None
) -> None:
    """Write :func:`model_index_yaml` to ``path``, atomically."""
    atomic_write_text(path, model_index_yaml(record, ids_hash))
