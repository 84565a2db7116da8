"""The flow step: optical flow between consecutive frames, quantised as the I3D flow model expects.

Flow frame ``i`` is the motion from frame ``i`` to frame ``i + 1`` (pixels per frame, ``[H, W, 2]``
= (x, y)), computed at the resized resolution, then stored as 8-bit images of the flow clipped to
[-20, 20] (:func:`~var_bench.extract.frames.quantize_flow`). N frames give N - 1 flow frames.

- :class:`TVL1Flow`: OpenCV contrib ``DualTVL1OpticalFlow`` on grayscale frames, the method the
  Kinetics I3D flow model was trained on (CPU; slow: about 0.1-0.5 s per 256 x 340 pair);
- :class:`RAFTFlow`: torchvision's RAFT (large) on the device; a different flow distribution, so
  the method is part of the feature set's identity.

Both map ``[N, H, W, 3]`` uint8 frames to ``[N - 1, H, W, 2]`` float32 flow (:meth:`pairs`);
:class:`FlowCarry` keeps the last frame between chunks so a video can be streamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.extract.frames import quantize_flow

FLOW_METHODS: tuple[str, ...] = ("tvl1", "raft")


def torchvision_or_error():
    """Import torchvision, or raise a one-line :class:`InputError` saying why it cannot be used."""
    try:
        import torchvision
    except Exception as e:  # a broken pairing raises RuntimeError, not ImportError
        import torch

        raise InputError(
            f"torchvision: expected a build matching torch {torch.__version__} "
            f"(needed for RAFT and CLIP), import failed: {str(e).splitlines()[0]}"
        ) from None
    return torchvision


@dataclass
class TVL1Flow:
    """TV-L1 optical flow (OpenCV ``optflow.DualTVL1OpticalFlow``) with its parameters recorded.

    Defaults are OpenCV's (tau 0.25, lambda 0.15, theta 0.3, 5 scales, 5 warps, epsilon 0.01,
    30 inner and 10 outer iterations, scale step 0.8).
    """

    params: dict[str, Any] = field(
        default_factory=lambda: {
            "tau": 0.25,
            "lambda": 0.15,
            "theta": 0.3,
            "nscales": 5,
            "warps": 5,
            "epsilon": 0.01,
            "innerIterations": 30,
            "outerIterations": 10,
            "scaleStep": 0.8,
            "gamma": 0.0,
            "medianFiltering": 5,
            "useInitialFlow": False,
        }
    )
    name: str = "tvl1"
    on_device: bool = False

    def __post_init__(self) -> None:
        try:
            import cv2
        except ImportError:
            raise InputError(
                "flow tvl1: expected OpenCV with the contrib modules "
                "(pip install opencv-contrib-python-headless), cv2 is not installed"
            ) from None
        if not hasattr(cv2, "optflow"):
            raise InputError(
                "flow tvl1: expected OpenCV with the contrib modules "
                "(opencv-contrib-python-headless), this cv2 has no optflow"
            )
        self._cv2 = cv2
        self._tvl1 = None

    def _algo(self):
        if self._tvl1 is None:
            p = self.params
            self._tvl1 = self._cv2.optflow.DualTVL1OpticalFlow_create(
                tau=p["tau"],
                lambda_=p["lambda"],
                theta=p["theta"],
                nscales=p["nscales"],
                warps=p["warps"],
                epsilon=p["epsilon"],
                innnerIterations=p["innerIterations"],
                outerIterations=p["outerIterations"],
                scaleStep=p["scaleStep"],
                gamma=p["gamma"],
                medianFiltering=p["medianFiltering"],
                useInitialFlow=p["useInitialFlow"],
            )
        return self._tvl1

    def pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow ``[H, W, 2]`` float32 from RGB frame ``a`` to ``b`` (uint8 ``[H, W, 3]``)."""
        cv2 = self._cv2
        ga = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
        gb = cv2.cvtColor(np.ascontiguousarray(b), cv2.COLOR_RGB2GRAY)
        return self._algo().calc(ga, gb, None)

    def pairs(self, frames: np.ndarray) -> np.ndarray:
        """``[N, H, W, 3]`` uint8 -> ``[N - 1, H, W, 2]`` float32."""
        if len(frames) < 2:
            return np.zeros((0, *frames.shape[1:3], 2), np.float32)
        return np.stack([self.pair(frames[i], frames[i + 1]) for i in range(len(frames) - 1)])

    def identity(self) -> dict[str, Any]:
        return {
            "method": "tvl1",
            "implementation": f"opencv-contrib {self._cv2.__version__} optflow.DualTVL1OpticalFlow",
            "params": dict(self.params),
            "input": "grayscale",
        }


class RAFTFlow:
    """RAFT (large) from torchvision on ``device``; ``weights``: a state dict, None for random
    initialisation (tests, dry runs). Frames are scaled to [-1, 1] and padded (replicate, bottom
    and right) to a multiple of 8 and at least 128 px a side, the flow cropped back; ``updates``
    refinement iterations (torchvision's default 12)."""

    name = "raft"
    on_device = True

    def __init__(
        self,
        weights: dict | None = None,
        device="cpu",
        updates: int = 12,
        batch: int = 8,
        small: bool = False,
    ) -> None:
        import torch

        tv = torchvision_or_error()
        from torchvision.models import optical_flow as of

        self.torch = torch
        self.model = (of.raft_small if small else of.raft_large)(weights=None, progress=False)
        if weights is not None:
            self.model.load_state_dict(weights, strict=True)
        self.model.eval().to(device)
        self.device, self.updates, self.batch, self.small = (
            torch.device(device),
            updates,
            batch,
            small,
        )
        self.version = tv.__version__

    def pairs(self, frames) -> np.ndarray:
        """``[N, H, W, 3]`` uint8 (numpy or tensor) -> ``[N - 1, H, W, 2]`` float32 numpy."""
        torch = self.torch
        x = torch.as_tensor(np.asarray(frames)).to(self.device)
        n, h, w = x.shape[:3]
        if n < 2:
            return np.zeros((0, h, w, 2), np.float32)
        x = x.permute(0, 3, 1, 2).float() / 255.0 * 2.0 - 1.0
        # RAFT needs sides that are multiples of 8 and at least 128 (its correlation pyramid)
        ph, pw = max(128, h + (-h) % 8) - h, max(128, w + (-w) % 8) - w
        if ph or pw:
            x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="replicate")
        out = []
        with torch.inference_mode():
            for s in range(0, n - 1, self.batch):
                e = min(n - 1, s + self.batch)
                f = self.model(x[s:e], x[s + 1 : e + 1], num_flow_updates=self.updates)[-1]
                out.append(f[:, :, :h, :w].permute(0, 2, 3, 1).float().cpu())
        return torch.cat(out).numpy()

    def identity(self) -> dict[str, Any]:
        return {
            "method": "raft",
            "implementation": f"torchvision {self.version} "
            f"{'raft_small' if self.small else 'raft_large'}",
            "params": {"num_flow_updates": self.updates},
            "input": "rgb in [-1, 1], replicate-padded to a multiple of 8, >= 128 px",
            "weights": getattr(self, "weights_entry", None),
        }


class FlowCarry:
    """Streams a video through a flow step: each :meth:`push` of a frame chunk returns the
    quantised flow frames it completes (the last frame is kept for the next chunk)."""

    def __init__(self, step) -> None:
        self.step, self.last = step, None

    def push(self, frames: np.ndarray) -> np.ndarray:
        if len(frames) == 0:
            return np.zeros((0, 0, 0, 2), np.uint8)
        seq = frames if self.last is None else np.concatenate([self.last[None], frames])
        self.last = frames[-1]
        return quantize_flow(self.step.pairs(seq))


def make_flow(method: str, *, device="cpu", weights: dict | None = None, **kw):
    """The flow step named ``method`` (``tvl1`` or ``raft``)."""
    if method == "tvl1":
        return TVL1Flow()
    if method == "raft":
        return RAFTFlow(weights, device=device, **kw)
    raise InputError(f"flow: expected one of {', '.join(FLOW_METHODS)}, got {method!r}")
