"""Zero-shot encoders, one module per model family (``base`` holds the interface). Importing
this package registers the built-in families (their modules import torch only when a model is
loaded)."""

from var_bench.zeroshot.encoders import openclip  # noqa: F401  (registers clip-vit-b16)
