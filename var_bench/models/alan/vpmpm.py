"""Video-prompt-based masked phrase modelling (VPMPM), ALAN's auxiliary loss on text benchmarks.

For one phrase kind (NP or VP) per pass: in each caption one phrase is chosen at random and its
BERT word outputs are replaced by a shared learned mask vector; a standard Transformer decoder
layer (query = the masked text, key/value = the paired video's encoder outputs used as prompts)
reconstructs the sentence, and a vocabulary head predicts the original WordPiece ids at the masked
positions (cross-entropy, mean over the masked tokens of the batch). Training only.

Vocabulary head (open in the paper): ``"tied"`` (default) is BERT's MLM head shape,
``logits = LayerNorm(GELU(W x)) E^T + b`` with ``E`` the text model's word-embedding matrix
(no ``V x H`` weight of its own: 22M fewer parameters for bert-base-cased, and predictions live
in the space BERT's words already occupy); ``"linear"`` is a free ``Linear(H, V)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from var_bench.models.alan.phrases import RANDOM_WORD_RATE, caption_units, token_positions

#: Vocabulary heads (see the module docstring).
HEADS: tuple[str, ...] = ("tied", "linear")


class PhraseMasker:
    """Chooses one phrase of a kind per caption and marks its WordPiece positions.

    ``tokenizer``: a fast transformers tokenizer (offset mapping), called with the same
    truncation as the text encoder so positions line up with its outputs. Token positions of every
    phrase are cached per caption.
    """

    def __init__(self, tokenizer, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self._cache: dict[str, dict[str, tuple[tuple[int, ...], ...]]] = {}

    def phrase_positions(self, text: str) -> dict[str, tuple[tuple[int, ...], ...]]:
        """``{"NP": (positions of each NP), "VP": (...), "N": (each noun word), "V": (each verb
        word), "W": (every word)}``; units cut off by truncation drop out."""
        return self._positions([text])[0]

    def _positions(self, texts: Sequence[str]) -> list[dict[str, tuple[tuple[int, ...], ...]]]:
        """:meth:`phrase_positions` of each text; the uncached captions parsed together."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for text, (phrases, words) in zip(missing, caption_units(missing)):
            enc = self.tokenizer(
                text, truncation=True, max_length=self.max_length, return_offsets_mapping=True
            )
            offsets = [tuple(o) for o in enc["offset_mapping"]]
            found = {"NP": [], "VP": [], "N": [], "V": [], "W": []}
            for phrase in phrases + words:
                pos = token_positions(phrase, offsets)
                if pos:
                    found[phrase.kind].append(tuple(pos))
            self._cache[text] = {k: tuple(v) for k, v in found.items()}
        return [self._cache[t] for t in texts]

    def masks(
        self,
        texts: Sequence[str],
        kind: str,
        length: int,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Bool ``[B, length]``: True on the tokens of one randomly chosen unit of ``kind`` per
        caption (uniform over its phrases or words); all False for a caption with none.
        ``kind="RW"`` (random words): each word with probability ``RANDOM_WORD_RATE``, at least
        one word per caption."""
        out = torch.zeros(len(texts), length, dtype=torch.bool)
        for i, units in enumerate(self._positions(texts)):
            options = units["W" if kind == "RW" else kind]
            if not options:
                continue
            if kind == "RW":
                chosen = torch.rand(len(options), generator=generator) < RANDOM_WORD_RATE
                if not bool(chosen.any()):
                    chosen[int(torch.randint(len(options), (1,), generator=generator))] = True
                picks = [j for j in range(len(options)) if chosen[j]]
            else:
                picks = [int(torch.randint(len(options), (1,), generator=generator))]
            out[i, [p for j in picks for p in options[j] if p < length]] = True
        return out


class VPMPM(nn.Module):
    """The masked-phrase decoder: ``forward(tokens [B, L, H], mask [B, L], ids [B, L],
    phrase_mask [B, L], prompts [B, P, d_video]) -> scalar`` cross-entropy.

    ``word_embeddings``: a callable returning the text model's ``[V, H]`` embedding matrix (for the
    ``"tied"`` head; kept as a callable so the matrix is not registered twice in checkpoints).
    """

    def __init__(
        self,
        hidden: int,
        video_dim: int,
        vocab_size: int,
        *,
        heads: int = 8,
        ff_dim: int | None = None,
        dropout: float = 0.1,
        head: str = "tied",
        word_embeddings: Callable[[], Tensor] | None = None,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {', '.join(HEADS)}, got {head!r}")
        if head == "tied" and word_embeddings is None:
            raise ValueError("the tied head needs the text model's word embeddings")
        self.mask_vector = nn.Parameter(torch.randn(hidden) * 0.02)
        self.prompt_proj = nn.Identity() if video_dim == hidden else nn.Linear(video_dim, hidden)
        self.decoder = nn.TransformerDecoderLayer(
            hidden, heads, ff_dim or 4 * hidden, dropout, batch_first=True, activation="gelu"
        )
        self.head_kind = head
        if head == "tied":
            self.transform = nn.Sequential(
                nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden)
            )
            self.bias = nn.Parameter(torch.zeros(vocab_size))
            self._word_embeddings = word_embeddings
        else:
            self.out = nn.Linear(hidden, vocab_size)

    def logits(self, x: Tensor) -> Tensor:
        """Vocabulary logits ``[M, V]`` for decoder outputs ``x [M, H]``."""
        if self.head_kind == "tied":
            emb = self._word_embeddings()
            return self.transform(x) @ emb.t().to(x.dtype) + self.bias.to(x.dtype)
        return self.out(x)

    def forward(
        self, tokens: Tensor, mask: Tensor, ids: Tensor, phrase_mask: Tensor, prompts: Tensor
    ) -> Tensor:
        phrase_mask = phrase_mask.to(tokens.device) & mask
        if not bool(phrase_mask.any()):
            return self.mask_vector.sum() * 0.0  # nothing to predict; keeps the graph connected
        masked = torch.where(phrase_mask.unsqueeze(-1), self.mask_vector.to(tokens.dtype), tokens)
        out = self.decoder(masked, self.prompt_proj(prompts), tgt_key_padding_mask=~mask)
        logits = self.logits(out[phrase_mask])
        with torch.autocast(device_type=logits.device.type, enabled=False):
            return F.cross_entropy(logits.float(), ids[phrase_mask])
