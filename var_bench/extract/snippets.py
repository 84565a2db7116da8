"""The snippet cutter: a stream of model-input frames -> cropped F-frame snippets for the model."""

from __future__ import annotations

import numpy as np

from var_bench.extract.frames import crop_stack
from var_bench.extract.recipes import Recipe


class SnippetCutter:
    """Cuts a stream of model-input frames into F-frame snippets and crops them: :meth:`push`
    returns ``[S, C, F, c, c, ch]`` uint8 for the snippets completed (frames left over wait for
    the next push)."""

    def __init__(self, recipe: Recipe) -> None:
        self.F, self.crop, self.crops = recipe.snippet_frames, recipe.crop, recipe.crops
        self.buf: np.ndarray | None = None

    def push(self, frames: np.ndarray) -> np.ndarray | None:
        buf = (
            frames if self.buf is None or len(self.buf) == 0 else np.concatenate([self.buf, frames])
        )
        s = len(buf) // self.F
        self.buf = buf[s * self.F :]
        if s == 0:
            return None
        snips = buf[: s * self.F].reshape(s, self.F, *buf.shape[1:])
        # [S, F, H, W, ch] -> crops of each snippet: [S, C, F, c, c, ch]
        return np.stack([crop_stack(sn, self.crop, self.crops) for sn in snips])
