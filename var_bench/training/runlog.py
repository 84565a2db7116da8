"""The run log: ``log.jsonl`` (one JSON object per ``log_every`` steps and per epoch, appended),
TensorBoard scalars when TensorBoard is installed, and one plain INFO line per epoch on the
``var_bench.training`` logger (``epoch 3/30  loss 0.1234  val SumR 55.1  12.3 s``), readable on
a pipe as on a terminal."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The logger of the per-epoch line.
EPOCH_LOGGER = "var_bench.training"


def epoch_line(entry: Mapping[str, Any], epochs: int) -> str:
    """``epoch E/N  loss L  [val SumR S  ]T s`` of one epoch entry (loss: the epoch's mean train
    loss; the val main score (``main_score``, SumR in entries written before task types) only on
    epochs that were validated; T: wall seconds of the epoch)."""
    parts = [f"epoch {entry['epoch']}/{epochs}", f"loss {entry['train']['loss']:.4f}"]
    main = entry.get("main_score", "SumR")
    score = entry.get(f"val_{main}")
    if score is not None:
        parts.append(f"val {main} {score:.1f}")
    parts.append(f"{entry.get('seconds', 0.0):.1f} s")
    return "  ".join(parts)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


class RunLog:
    """``log.jsonl`` plus TensorBoard scalars (see the module docstring); silent when not
    ``enabled`` (ranks other than 0)."""

    def __init__(self, out: Path, enabled: bool, epochs: int = 0) -> None:
        self.enabled = enabled
        self.epochs = epochs
        self.path = Path(out) / "log.jsonl"
        self.tb = None
        self.log = logging.getLogger(EPOCH_LOGGER)
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # TensorBoard is optional
                SummaryWriter = None
            if SummaryWriter is not None:
                self.tb = SummaryWriter(str(Path(out) / "tensorboard"))

    def write(self, entry: dict[str, Any], step: int) -> None:
        """Append ``entry`` (kind ``step`` or ``epoch``); an epoch also gives the INFO line."""
        if not self.enabled:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        if self.tb is not None:
            for key, value in _flatten(entry).items():
                if isinstance(value, (int, float)) and key not in ("epoch", "step"):
                    self.tb.add_scalar(f"{entry['kind']}/{key}", value, step)
        if entry.get("kind") == "epoch":
            self.log.info("%s", epoch_line(entry, self.epochs))

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
