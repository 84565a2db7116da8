"""Training and evaluation, as layers (each imports only the ones below it):

* ground: :mod:`.config` (typed run configs), :mod:`.runtime` (device, DDP, AMP, seeds),
  :mod:`.checkpoint` (safetensors + JSON), :mod:`.runlog` (log.jsonl, TensorBoard, epoch lines);
* :mod:`.loaders` (open a split, batch it for a model), :mod:`.rebuild` (model from a config or a
  checkpoint), :mod:`.optim` (optimiser, lr schedule), :mod:`.encode` (encode a split,
  similarity matrix, scores);
* :mod:`.loop` (the epoch loop and the run state);
* :mod:`.trainer` (``train``) and :mod:`.evaluate` (``evaluate``) on top.

Import the heavy parts from their modules; this package exposes the names models need.
"""

from var_bench.models.base import ModelContext, RetrievalModel
from var_bench.models.registry import get_model, model_names, register_model

__all__ = ["ModelContext", "RetrievalModel", "get_model", "model_names", "register_model"]
