"""Zero-shot models on raw video (``var-bench zeroshot``): encoders, their sampling manifests and
the registry. See ``docs/zeroshot.md``."""

from var_bench.zeroshot.encoders.base import (
    ENCODERS,
    Sampling,
    ZeroShotEncoder,
    get_encoder,
    register_encoder,
)

__all__ = ["ENCODERS", "Sampling", "ZeroShotEncoder", "get_encoder", "register_encoder"]
