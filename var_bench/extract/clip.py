"""CLIP ViT-B/16 image embeddings (open_clip builds OpenAI's architecture; needs torchvision).

``load_clip(path)`` reads OpenAI's ``ViT-B-16.pt`` (a TorchScript archive) with ``torch.jit.load``
and keeps only its state dict, which open_clip turns into its ``CLIP`` module (the OpenAI key
names); ``path=None`` gives the same architecture randomly initialised (open_clip's
``ViT-B-16-quickgelu``: OpenAI's model uses QuickGELU, ``x * sigmoid(1.702 x)``, which
``build_model_from_openai_state_dict`` sets for the real weights). Inputs are RGB crops scaled
to [0, 1] and normalised with OpenAI's mean / std; the output is the 512-d image embedding before
L2 normalisation (``encode_image(normalize=False)``).
"""

from __future__ import annotations

import torch

from var_bench.errors import InputError
from var_bench.extract.flow import torchvision_or_error

#: OpenAI CLIP's input normalisation (RGB, on [0, 1]).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
EMBEDDING_DIM = 512
#: open_clip's name of OpenAI's ViT-B/16 architecture (with QuickGELU, as the real weights).
ARCH = "ViT-B-16-quickgelu"


def open_clip_or_error():
    torchvision_or_error()
    try:
        import open_clip
    except ImportError:
        raise InputError(
            "clip-vit-b16: expected open_clip (pip install open-clip-torch), it is not installed"
        ) from None
    return open_clip


def load_clip(path=None):
    """open_clip's ViT-B/16 with OpenAI's weights from ``path`` (None: random initialisation)."""
    open_clip = open_clip_or_error()
    if path is None:
        model = open_clip.create_model(ARCH, pretrained=None)
    else:
        try:
            state = torch.jit.load(str(path), map_location="cpu").state_dict()
        except Exception as e:
            raise InputError(
                f"weights {path}: expected OpenAI's TorchScript ViT-B-16.pt, got an "
                f"error: {str(e).splitlines()[0][:200]}"
            ) from None
        from open_clip.model import build_model_from_openai_state_dict

        model = build_model_from_openai_state_dict(state)
    return model.float().eval()


def normalise(x: torch.Tensor) -> torch.Tensor:
    """``[B, 3, H, W]`` uint8-valued -> ``(x / 255 - mean) / std``."""
    mean = torch.tensor(CLIP_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device).view(1, 3, 1, 1)
    return (x.float() / 255.0 - mean) / std
