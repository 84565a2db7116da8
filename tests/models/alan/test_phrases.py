"""Noun / verb phrase extraction (spaCy) and the mapping of phrases to WordPiece positions."""

from __future__ import annotations

import pytest

from var_bench.models.alan.phrases import Phrase, extract_phrases, token_positions

PAPER_EXAMPLE = "A shirtless man deliberately knocked down multiple shelves."


def _texts(kind, text):
    return [p.text for p in extract_phrases(text) if p.kind == kind]


def test_paper_example():
    assert _texts("NP", PAPER_EXAMPLE) == ["A shirtless man", "multiple shelves"]
    assert _texts("VP", PAPER_EXAMPLE) == ["deliberately knocked down"]


def test_phrase_spans_index_the_caption():
    for p in extract_phrases(PAPER_EXAMPLE):
        assert PAPER_EXAMPLE[p.start : p.end] == p.text


def test_verb_phrases_keep_auxiliaries_and_adverbs_but_not_objects():
    text = "A man in black was eventually caught by several policemen and ran away quickly."
    assert _texts("VP", text) == ["was eventually caught", "ran away quickly"]
    assert "several policemen" in _texts("NP", text)


def test_token_positions_from_offsets():
    # offsets as a fast tokenizer gives them: [CLS] A shirt ##less man ... [SEP]
    offsets = [(0, 0), (0, 1), (2, 7), (7, 11), (12, 15), (16, 28), (0, 0)]
    assert token_positions(Phrase("NP", "A shirtless man", 0, 15), offsets) == [1, 2, 3, 4]
    assert token_positions(Phrase("VP", "deliberately", 16, 28), offsets) == [5]


def test_positions_with_a_real_tokenizer(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    from var_bench.models.text import offline_model_path

    tok = AutoTokenizer.from_pretrained(str(offline_model_path()))
    enc = tok(PAPER_EXAMPLE, return_offsets_mapping=True)
    words = {
        p.text: tok.convert_ids_to_tokens(
            [enc["input_ids"][i] for i in token_positions(p, enc["offset_mapping"])]
        )
        for p in extract_phrases(PAPER_EXAMPLE)
    }
    assert "".join(w.removeprefix("##") for w in words["multiple shelves"]) == "multipleshelves"
    assert (
        "".join(w.removeprefix("##") for w in words["deliberately knocked down"])
        == "deliberatelyknockeddown"
    )


@pytest.mark.parametrize("text", ["", "...", "Nothing."])
def test_captions_without_phrases_give_few_or_none(text):
    phrases = extract_phrases(text)
    assert all(p.kind in ("NP", "VP") for p in phrases)
    assert not [p for p in phrases if p.kind == "VP"]


def test_captions_parsed_together_give_the_phrases_and_words_of_one_parse_each():
    from var_bench.models.alan import phrases as P

    texts = [
        PAPER_EXAMPLE,
        "A man in black was eventually caught by several policemen and ran away quickly.",
        "Two cars crash at a crossing at night.",
        "Nothing.",
        PAPER_EXAMPLE,
    ]
    P._UNITS.clear()
    together = P.caption_units(texts)
    alone = []
    for text in texts:
        P._UNITS.clear()
        alone.append(P.caption_units([text])[0])
    assert together == alone and together[0] == together[-1]
    words = P.extract_words(PAPER_EXAMPLE)
    assert [w.text for w in words if w.kind == "W"] == PAPER_EXAMPLE.rstrip(".").split()
    assert ("V", "knocked") in {(w.kind, w.text) for w in words}
    assert ("N", "shelves") in {(w.kind, w.text) for w in words}
