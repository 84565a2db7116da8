"""A small random-weight BERT with the offline MiniLM's tokenizer: the exact architecture and
loading path of the text models, embedding tens of thousands of sentences in seconds."""

from __future__ import annotations

import shutil
from pathlib import Path


def tiny_text_model(folder: Path, *, hidden: int = 64, seed: int = 0) -> Path:
    """Write the model to ``folder`` (config, safetensors weights, tokenizer files); return it."""
    import torch
    from transformers import BertConfig, BertModel

    from var_bench.models.text import offline_model_path

    src = offline_model_path()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(src / name, folder / name)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=hidden,
        max_position_embeddings=512,
    )
    model = BertModel(config)
    # Token identity, not position, should tell sentences apart (a random BERT's default init
    # gives mean-pooled sentences a cosine of about 0.95 to each other).
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.normal_(0.0, 1.0)
        model.embeddings.position_embeddings.weight.zero_()
    model.save_pretrained(folder, safe_serialization=True)
    return folder
