"""VPMPM: phrase masks, the masked-phrase decoder's loss and what it depends on."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from var_bench.models.alan.phrases import TABLE_VI_VARIANTS
from var_bench.models.alan.vpmpm import VPMPM, PhraseMasker

PAPER_EXAMPLE = "A shirtless man deliberately knocked down multiple shelves."


@pytest.fixture(scope="module")
def tokenizer():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        from transformers import AutoTokenizer

        from var_bench.models.text import offline_model_path

        return AutoTokenizer.from_pretrained(str(offline_model_path()))


def test_masker_marks_one_whole_phrase(tokenizer):
    masker = PhraseMasker(tokenizer, 64)
    ids = tokenizer(PAPER_EXAMPLE)["input_ids"]
    nps = {
        tuple(tokenizer.convert_ids_to_tokens([ids[i] for i in pos]))
        for pos in masker.phrase_positions(PAPER_EXAMPLE)["NP"]
    }
    seen = set()
    gen = torch.Generator().manual_seed(0)
    for _ in range(30):
        m = masker.masks([PAPER_EXAMPLE], "NP", len(ids), generator=gen)[0]
        seen.add(tuple(tokenizer.convert_ids_to_tokens([ids[i] for i in m.nonzero().ravel()])))
    assert seen == nps and len(nps) == 2  # each NP is chosen, always whole, never both
    vp = masker.masks([PAPER_EXAMPLE], "VP", len(ids))[0]
    assert vp.sum() >= 3 and not vp[0] and not vp[-1]  # never [CLS] / [SEP]


def test_masker_leaves_captions_without_the_kind_unmasked(tokenizer):
    masker = PhraseMasker(tokenizer, 64)
    m = masker.masks(["Night.", PAPER_EXAMPLE], "VP", 16)
    assert not m[0].any() and m[1].any()


def _masked_tokens(tokenizer, mask, ids):
    return tuple(tokenizer.convert_ids_to_tokens([ids[i] for i in mask.nonzero().ravel()]))


def test_table_vi_noun_and_verb_word_passes(tokenizer):
    """Issue 14: Table VI's noun and verb word passes mask single words."""
    masker = PhraseMasker(tokenizer, 64)
    ids = tokenizer(PAPER_EXAMPLE)["input_ids"]
    gen = torch.Generator().manual_seed(0)
    nouns = {
        _masked_tokens(
            tokenizer, masker.masks([PAPER_EXAMPLE], "N", len(ids), generator=gen)[0], ids
        )
        for _ in range(30)
    }
    verbs = {
        _masked_tokens(
            tokenizer, masker.masks([PAPER_EXAMPLE], "V", len(ids), generator=gen)[0], ids
        )
        for _ in range(30)
    }
    # Single noun words, never a whole phrase (spaCy's small model also tags "shirtless" NOUN).
    assert {("man",), ("shelves",)} <= nouns <= {("man",), ("shelves",), ("shirt", "##less")}
    assert verbs == {("knocked",)}
    assert TABLE_VI_VARIANTS == {
        "random_words": ("RW",),
        "noun_verb_words": ("N", "V"),
        "phrases": ("NP", "VP"),
    }


def test_table_vi_random_words_pass(tokenizer):
    """Issue 14: Table VI's random-word pass."""
    masker = PhraseMasker(tokenizer, 64)
    ids = tokenizer(PAPER_EXAMPLE)["input_ids"]
    gen = torch.Generator().manual_seed(0)
    counts = [
        int(masker.masks([PAPER_EXAMPLE], "RW", len(ids), generator=gen)[0].sum())
        for _ in range(200)
    ]
    assert min(counts) >= 1  # at least one word per caption
    # 8 words at rate 0.15 (at least one): about 1.5 tokens masked on average, never [CLS]/[SEP].
    assert 1.0 < sum(counts) / len(counts) < 2.5
    m = masker.masks([PAPER_EXAMPLE], "RW", len(ids), generator=gen)[0]
    assert not m[0] and not m[len(ids) - 1]


def _decoder(head="linear", vocab=50, hidden=16, emb=None):
    torch.manual_seed(0)
    return VPMPM(
        hidden,
        8,
        vocab,
        heads=2,
        dropout=0.0,
        head=head,
        word_embeddings=(lambda: emb.weight) if emb is not None else None,
    )


def _inputs(b=2, length=6, hidden=16, vocab=50):
    g = torch.Generator().manual_seed(1)
    tokens = torch.randn(b, length, hidden, generator=g)
    mask = torch.ones(b, length, dtype=torch.bool)
    mask[1, 4:] = False
    ids = torch.randint(vocab, (b, length), generator=g)
    pmask = torch.zeros(b, length, dtype=torch.bool)
    pmask[0, 1:3] = True
    pmask[1, 2] = True
    prompts = torch.randn(b, 5, 8, generator=g)
    return tokens, mask, ids, pmask, prompts


def test_loss_is_cross_entropy_at_masked_positions_and_uses_the_prompts():
    dec = _decoder()
    tokens, mask, ids, pmask, prompts = _inputs()
    loss = dec(tokens, mask, ids, pmask, prompts)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert dec.mask_vector.grad is not None and dec.mask_vector.grad.abs().sum() > 0
    assert dec(tokens, mask, ids, pmask, prompts * 3.0).item() != pytest.approx(loss.item())
    # The masked words' own vectors are hidden from the decoder.
    leaked = tokens.clone()
    leaked[pmask] = torch.randn(int(pmask.sum()), 16)
    assert dec(leaked, mask, ids, pmask, prompts).item() == pytest.approx(loss.item(), abs=1e-5)


def test_no_masked_token_gives_a_connected_zero():
    dec = _decoder()
    tokens, mask, ids, pmask, prompts = _inputs()
    loss = dec(tokens, mask, ids, torch.zeros_like(pmask), prompts)
    assert loss.item() == 0.0 and loss.requires_grad


def test_tied_head_reuses_the_word_embeddings():
    emb = nn.Embedding(50, 16)
    tied = _decoder("tied", emb=emb)
    assert not any(p.shape == (50, 16) for p in tied.parameters())
    tokens, mask, ids, pmask, prompts = _inputs()
    tied(tokens, mask, ids, pmask, prompts).backward()
    assert emb.weight.grad is not None
    with pytest.raises(ValueError):
        VPMPM(16, 8, 50, heads=2, head="tied")
