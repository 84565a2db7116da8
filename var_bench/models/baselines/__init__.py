"""Prior VAR baselines, one module each; importing the package registers them (CE, MMT, T2VLAD,
X-CLIP, HL-Net, XML, Random). Configs: ``configs/<model>-<name>.yaml`` beside the modules."""

from var_bench.models.baselines import (  # noqa: F401  (each module registers its model)
    ce,
    hlnet,
    mmt,
    random_baseline,
    t2vlad,
    xclip,
    xml_baseline,
)
