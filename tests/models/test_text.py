import logging
import pickle
from pathlib import Path

import pytest
import torch

from var_bench.errors import InputError
from var_bench.models import text
from var_bench.models.deviations import collect


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_uncached_hub_name_falls_back_to_offline_with_warning(caplog):
    with caplog.at_level(logging.WARNING):
        target, local = text.resolve_text_model("bert-base-cased")
    assert target == str(text.offline_model_path())
    assert local is True
    assert "offline model" in caplog.text


def test_alias_and_path_resolve_without_warning(caplog, tmp_path):
    with caplog.at_level(logging.WARNING):
        assert text.resolve_text_model(text.OFFLINE_TEXT_MODEL)[0] == str(text.offline_model_path())
        assert text.resolve_text_model(str(tmp_path)) == (str(tmp_path), True)
    assert caplog.text == ""


@pytest.fixture(scope="module")
def frozen_cached():
    return text.TextEncoder(text.OFFLINE_TEXT_MODEL, freeze=True, cache=True, max_length=16)


def test_text_encoder_shapes_and_cache_consistency(frozen_cached):
    enc = frozen_cached
    plain = text.TextEncoder(text.OFFLINE_TEXT_MODEL, freeze=True, cache=False, max_length=16)
    texts = ["A man breaks a window.", "Two cars collide at a crossing at night."]
    tokens, mask, cls, ids = enc(texts)
    assert tokens.shape[:2] == mask.shape == ids.shape
    assert tokens.shape[2] == cls.shape[1] == enc.hidden_size == 384
    assert torch.equal(cls, tokens[:, 0])
    assert mask[1].all() and not mask[0].all()  # the shorter caption is padded
    assert ids[0, ~mask[0]].eq(enc.pad_token_id).all()
    assert len(enc._cache) == 2
    # reversed order, served from the cache: same vectors as a fresh (uncached) encode
    t2, m2, _, _ = enc(texts[::-1])
    p2, pm2, _, _ = plain(texts[::-1])
    assert torch.equal(m2, pm2)
    assert torch.allclose(t2[m2], p2[pm2], atol=1e-5)
    assert not tokens.requires_grad
    assert enc.persist_weights is False


def test_max_length_truncates(frozen_cached):
    tokens, mask, _, _ = frozen_cached(["word " * 100])
    assert tokens.shape[1] == 16


def test_trainable_encoder_gets_gradients_and_dropout_override():
    enc = text.TextEncoder(text.OFFLINE_TEXT_MODEL, freeze=False, cache=True, dropout=0.3)
    assert enc.use_cache is False and enc.persist_weights is True
    assert enc.model.config.hidden_dropout_prob == 0.3
    _, _, cls, _ = enc(["A fire starts in a shop."])
    cls.sum().backward()
    assert any(p.grad is not None for p in enc.parameters())


def test_text_fallback_is_a_named_deviation(monkeypatch):
    """Issue 14: an encoder that fell back to the offline model names the deviation."""
    from var_bench.models import text as text_mod

    monkeypatch.setattr(
        text_mod, "resolve_text_model", lambda name: (str(text_mod.offline_model_path()), True)
    )
    enc = text_mod.TextEncoder("bert-base-cased", freeze=True)
    assert [d.key for d in collect(enc)] == ["text.fallback"]
    assert collect(text_mod.TextEncoder("offline", freeze=True)) == []


def test_text_model_folder_with_only_a_pickle_is_refused(tmp_path):
    """K1 (issue 11): a text-model folder holding only ``pytorch_model.bin`` is refused before
    anything is unpickled."""
    from transformers import BertConfig, BertTokenizerFast

    folder = tmp_path / "evil-text-model"
    folder.mkdir()
    BertConfig(
        vocab_size=8, hidden_size=4, num_hidden_layers=1, num_attention_heads=1, intermediate_size=4
    ).save_pretrained(folder)
    (folder / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"])
    )
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Evil()))
    from var_bench.models.text import load_text_encoder

    with pytest.raises(InputError, match="model.safetensors"):
        load_text_encoder(str(folder))
    assert not marker.exists()
