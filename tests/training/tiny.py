"""A tiny registered model and an in-memory dataset yielding interfaces.md section 3 items, for
the trainer / evaluator tests.

Videos belong to one of K concepts; a video's rgb snippets are its concept's prototype plus noise,
its caption names the concept's words, its audio (XD) is another projection of the prototype. A
model that links captions (or audio) to prototypes retrieves far above chance.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch
from torch import nn

from var_bench.models.base import RetrievalModel
from var_bench.models.losses import max_margin_ranking_loss, same_video
from var_bench.models.modules import masked_mean
from var_bench.models.registry import register_model

WORDS = [
    "red",
    "blue",
    "green",
    "black",
    "white",
    "small",
    "large",
    "fast",
    "slow",
    "loud",
    "quiet",
    "dark",
    "bright",
    "old",
    "new",
    "wet",
]
NOUNS = ["car", "dog", "man", "door", "fire", "shop", "road", "crowd"]


class FakeFeatureDataset(torch.utils.data.Dataset):
    """``n`` videos, T in [t_min, t_max], rgb dim ``d``; ``audio=True`` adds 8-d audio."""

    def __init__(
        self,
        n: int,
        *,
        seed: int = 0,
        d: int = 16,
        t_min: int = 3,
        t_max: int = 9,
        concepts: int = 8,
        audio: bool = False,
        ids: list[str] | None = None,
        noise: float = 0.3,
    ) -> None:
        rng = np.random.default_rng(seed)
        proto_rng = np.random.default_rng(1234)  # same concepts in every split
        protos = proto_rng.normal(size=(concepts, d)).astype(np.float32)
        audio_proj = proto_rng.normal(size=(d, 8)).astype(np.float32) / np.sqrt(d)
        self.items = []
        for i in range(n):
            c = int(rng.integers(concepts))
            T = int(rng.integers(t_min, t_max + 1))
            rgb = protos[c] + noise * rng.normal(size=(T, d)).astype(np.float32)
            item = {
                "index": i,
                "video_id": ids[i] if ids else f"vid{seed}_{i:04d}",
                "rgb": rgb.astype(np.float32),
                "video_label": float(c % 2),
                "snippet_labels": np.full(T, -1, np.int8),
                "text": f"a {WORDS[c % len(WORDS)]} {NOUNS[c % len(NOUNS)]} number {i}",
                "class": f"c{c}",
            }
            if audio:
                item["audio"] = (rgb @ audio_proj).astype(np.float32)
            self.items.append(item)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


class HashText(nn.Module):
    """Bag of hashed words -> learned embedding (a fast stand-in for a text encoder)."""

    def __init__(self, dim: int, buckets: int = 256) -> None:
        super().__init__()
        self.emb = nn.EmbeddingBag(buckets, dim, mode="mean")
        self.buckets = buckets

    def forward(self, texts: list[str]) -> torch.Tensor:
        ids, offsets = [], []
        for t in texts:
            offsets.append(len(ids))
            ids.extend(zlib.crc32(w.encode()) % self.buckets for w in t.split())
        dev = self.emb.weight.device
        return self.emb(torch.tensor(ids, device=dev), torch.tensor(offsets, device=dev))


@register_model("tiny-test")
class TinyModel(RetrievalModel):
    """Linear projection of masked-mean video features vs. a text (or audio) projection;
    bidirectional max-margin loss on cosine similarities."""

    def __init__(
        self,
        *,
        ctx,
        dim: int = 32,
        margin: float = 0.2,
        text: str = "hash",
        sample: str | None = None,
        n: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.streams = ("rgb",)
        self.audio = ctx.query_modality == "audio"
        self.margin = margin
        self.sample, self.n = sample, n
        self.video = nn.Linear(ctx.dims["rgb"], dim)
        self.drop = nn.Dropout(dropout)
        if self.audio:
            self.query = nn.Linear(ctx.dims["audio"], dim)
        elif text == "hash":
            self.text = HashText(dim)
        else:
            from var_bench.models.text import TextEncoder

            self.text = TextEncoder(ctx.text_model, freeze=True, cache=True, max_length=16)
            self.query = nn.Linear(self.text.hidden_size, dim)
        self.text_kind = text

    def loader_options(self) -> dict:
        return {"sample": self.sample, "n": self.n} if self.sample else {}

    def encode_gallery(self, batch):
        v = masked_mean(batch["rgb"], batch["rgb_mask"])
        return {"v": nn.functional.normalize(self.video(self.drop(v)), dim=-1)}

    def encode_query(self, batch):
        if self.audio:
            q = self.query(masked_mean(batch["audio"], batch["audio_mask"]))
        elif self.text_kind == "hash":
            q = self.text(batch["text"])
        else:
            q = self.query(self.text(batch["text"])[2])
        return {"q": nn.functional.normalize(q, dim=-1)}

    def similarity(self, query, gallery):
        return query["q"] @ gallery["v"].t()

    def forward(self, batch):
        sim = self.similarity(self.encode_query(batch), self.encode_gallery(batch))
        loss = max_margin_ranking_loss(sim, self.margin, same=same_video(batch))
        return {"loss": loss, "rank": loss.detach()}
