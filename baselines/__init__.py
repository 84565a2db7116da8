"""Prior VAR baselines, one module each. Installed as ``var_bench.baselines`` (a bare top-level ``baselines`` would clash with an unrelated PyPI package)."""

from . import hlnet, random, xclip, xml  # noqa: F401  (X-CLIP, HL-Net, XML, Random register themselves)
from . import ce, mmt, t2vlad  # noqa: F401  (CE, MMT, T2VLAD register themselves)
