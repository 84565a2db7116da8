"""The shared training and evaluation pipeline: model interface and registry, building blocks,
losses, text encoders, configs, checkpoints, the trainer and the evaluator.

Import the heavy parts from their modules (``var_bench.training.trainer`` etc.); this package
exposes the names models need.
"""

from var_bench.models.base import ModelContext, RetrievalModel
from var_bench.models.registry import get_model, model_names, register_model

__all__ = ["ModelContext", "RetrievalModel", "get_model", "model_names", "register_model"]
