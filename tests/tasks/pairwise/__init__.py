"""A task type declared outside var_bench, in one folder: pairwise accuracy (a per-query AUC).

For query i with positives P_i and best positive score d_i, over the gallery items that do not
answer it: auc_i = (#{j: S[i, j] < d_i} + #{j: S[i, j] == d_i} / 2) / #negatives and top1_i =
[every negative scores below d_i]. Metrics: AUC = 100 mean(auc_i), P@1 = 100 mean(top1_i);
main score AUC. A submission is a 2-D float matrix (a ``.npy`` path or an array).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks import MEAN, MetricSpec, Prediction, Task, register_task_type


class MatrixPrediction(Prediction):
    """The submission's matrix, read whole."""

    def __init__(self, matrix: np.ndarray, label: str, path: str | None) -> None:
        self.matrix, self.label, self.path = matrix, label, path
        self.groups, self.warnings, self.provenance = ("q2g",), [], None

    def __enter__(self) -> MatrixPrediction:
        return self


@register_task_type("pairwise-auc")
@dataclass(frozen=True)
class PairwiseAUC(Task):
    """Pairwise accuracy of each query's best positive against its negatives."""

    metrics = (
        MetricSpec("AUC", True, MEAN, "%", "pairs won by the best positive"),
        MetricSpec("P@1", True, MEAN, "%", "queries whose best positive beats all"),
    )
    main_score = "AUC"
    per_query_fields = {"auc": "value", "top1": "value"}

    name: str = "auc"

    @property
    def groups(self) -> tuple[str, ...]:
        return ("q2g",)

    def read(
        self,
        submission: Any,
        gold: Any,
        *,
        benchmark: str,
        groups: Sequence[str] | None = None,
        **_: Any,
    ) -> MatrixPrediction:
        path = str(submission) if isinstance(submission, (str, Path)) else None
        try:
            matrix = np.load(path) if path else np.asarray(submission)
        except (OSError, ValueError) as e:
            raise InputError(
                f"{path}: expected a .npy score matrix, got an unreadable file ({e})"
            ) from None
        want = (gold.queries.n, gold.gallery.n)
        if matrix.shape != want:
            raise InputError(
                f"{path or 'submission'}: expected a {want[0]} x {want[1]} matrix "
                f"for {benchmark}, got shape {matrix.shape}"
            )
        return MatrixPrediction(matrix.astype(np.float64), path or "submission", path)

    def score(self, prediction: MatrixPrediction, gold: Any) -> dict[str, dict[str, np.ndarray]]:
        S = prediction.matrix
        auc, top1 = np.zeros(len(S)), np.zeros(len(S))
        for i, pos in enumerate(gold.positive_lists()):
            d = S[i, pos].max()
            neg = np.delete(S[i], pos)
            auc[i] = ((neg < d).sum() + 0.5 * (neg == d).sum()) / neg.size
            top1[i] = float((neg < d).all())
        return {"q2g": {"auc": auc, "top1": top1}}

    def summarise(self, per_query: Mapping[str, Any], rule: str | None) -> dict[str, float]:
        return {
            "AUC": float(100.0 * np.mean(per_query["auc"])),
            "P@1": float(100.0 * np.mean(per_query["top1"])),
        }

    def values(self, per_query: Mapping[str, Any], rule: str | None) -> dict[str, np.ndarray]:
        return {
            "AUC": 100.0 * np.asarray(per_query["auc"], float),
            "P@1": 100.0 * np.asarray(per_query["top1"], float),
        }

    @classmethod
    def per_query_from_json(cls, raw: Any, where: str) -> dict[str, np.ndarray]:
        return {k: np.asarray(raw[k], dtype=np.float64) for k in cls.per_query_fields}
