"""ALAN (Anomaly-Led Alignment Network): the reference implementation. Installed as ``var_bench.alan_ref``.

Importing the package registers the model ``"alan"`` (see :mod:`var_bench.training.registry`).
"""

from .model import ALAN, ALANConfig

__all__ = ["ALAN", "ALANConfig"]
