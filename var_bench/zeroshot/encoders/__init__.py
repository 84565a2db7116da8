"""Zero-shot encoders, one module per model family (``base`` holds the interface). Importing
this package registers the built-in families (their modules import torch only when a model is
loaded)."""

from var_bench.zeroshot.encoders import (  # noqa: F401  (each registers its models)
    binding,  # imagebind-huge
    openclip,  # clip-vit-b16
    qwen3vl,  # qwen3-vl-embedding-2b
)
