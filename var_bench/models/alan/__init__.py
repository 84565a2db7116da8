"""ALAN (Anomaly-Led Alignment Network): the reference implementation. Configs:
``configs/alan-<name>.yaml``.

Importing the package registers the model ``"alan"`` (see :mod:`var_bench.models.registry`).
"""

from var_bench.models.alan.model import ALAN, ALANConfig

__all__ = ["ALAN", "ALANConfig"]
