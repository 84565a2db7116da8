"""The paper's protocol as data: which config values Wu et al. (TIP 2024) state, which ones are
our reading of its wording, and which ones are guesses, per model and benchmark.

``--config paper`` = the model's benchmark config (``models/*/configs/<model>-<benchmark>.yaml``)
with every :class:`PaperValue` below applied. ``--strict`` refuses a run in which a *stated*
value changed (:func:`changed_stated_values`); readings and guesses are listed in the report,
never refused. A value for a trainer option this build does not have (e.g. ``train.checkpoint``
before the trainer grows it) is skipped and reported as a deviation, not silently dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: How sure a value is: stated in the paper, our reading of the paper's words, or a guess.
STATED, READING, GUESS = "stated", "reading", "guess"

#: The text model the paper uses for every method (CE: word2vec, see docs/baselines.md).
PAPER_TEXT_MODEL = "bert-base-cased"


@dataclass(frozen=True)
class PaperValue:
    """One config value of the paper's protocol: ``key`` (dotted: ``model_args.n``,
    ``train.lr``, ``text_model``), ``value``, ``status`` (stated / reading / guess) and
    ``source`` (where it comes from, one line)."""

    key: str
    value: Any
    status: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _v(key: str, value: Any, status: str, source: str) -> PaperValue:
    return PaperValue(key, value, status, source)


#: The trainer schedule shared by every method (the paper is silent; ALAN copies MMT's lr,
#: decay and margin, so MMT's schedule is the best guess).
_SCHEDULE = (
    _v("train.epochs", 30, GUESS, "paper silent; lr x0.95 per epoch is at 0.21x after 30"),
    _v(
        "train.samples_per_epoch",
        32000,
        GUESS,
        "paper silent; MMT's max_samples_per_epoch (ALAN copies MMT's schedule)",
    ),
    _v(
        "train.refit_on_train_val",
        True,
        READING,
        "the paper trains on the official train split (1610 / 3954 videos), not train minus val",
    ),
    _v(
        "train.checkpoint",
        "last",
        GUESS,
        "paper silent; MMT's published config keeps the last epoch (monitor: max epoch)",
    ),
)

_ALAN_COMMON = (
    _v("model_args.d", 768, STATED, "Sec. IV-A: features projected to 768"),
    _v("model_args.n", 50, STATED, "Sec. V-A: N = 50"),
    _v("model_args.tau", 0.7, STATED, "Sec. V-A: tau = 0.7"),
    _v("model_args.alpha", 0.5, STATED, "Sec. V-A: alpha = 0.5"),
    _v("model_args.margin", 0.05, STATED, "Sec. V-A: margin 0.05"),
    _v(
        "model_args.rank_reduction",
        "mmt",
        READING,
        "Sec. IV-E says only 'following [13]'; one mean over all 2B(B-1) terms is MMT's code",
    ),
    _v("model_args.w_rank", 1.0, STATED, "Eq. 8: L = L_rank + 0.1 L_topk + 0.01 L_mpm"),
    _v("model_args.w_topk", 0.1, STATED, "Eq. 8"),
    _v("model_args.sequences", ["fs", "as"], STATED, "Sec. IV-B: FS + AS"),
    _v(
        "model_args.streams", ["rgb", "flow"], STATED, "Sec. IV-A: I3D RGB (object) + Flow (motion)"
    ),
    _v("model_args.detector_channels", [128, 32], STATED, "Sec. V-A: Conv1d 128 -> 32 -> 1"),
    _v("model_args.detector_kernel", 7, STATED, "Sec. V-A: kernel 7"),
    _v("model_args.detector_dropout", 0.6, STATED, "Sec. V-A: dropout 0.6"),
    _v("model_args.topk_divisor", 16, STATED, "Sec. IV-E: k = floor(T / 16)"),
    _v(
        "model_args.self_layers",
        1,
        READING,
        "Sec. IV-A: the Self Encoder 'is a standard encoder layer' (singular; MMT used 4)",
    ),
    _v(
        "model_args.weights_from",
        "embeddings",
        READING,
        "Sec. IV-D: weights from passing g_to (g_tm) through a linear layer with softmax",
    ),
    _v("model_args.heads", 4, GUESS, "paper silent; MMT's 4 heads"),
    _v(
        "model_args.position_embedding",
        "learned",
        GUESS,
        "Sec. IV-A cites the Transformer [78], whose encoding is sinusoidal, without saying "
        "which; MMT's code (which ALAN follows) learns them",
    ),
    _v("train.batch_size", 64, STATED, "Sec. V-A: batch 64"),
    _v("train.lr", 5e-5, STATED, "Sec. V-A: Adam, lr 5e-5"),
    _v("train.lr_decay", 0.95, STATED, "Sec. V-A: x0.95 per epoch"),
    _v("train.optimizer", "adam", STATED, "Sec. V-A: Adam"),
)

_ALAN_TEXT = (
    _v("text_model", PAPER_TEXT_MODEL, STATED, "Sec. IV-C: BERT-base-cased"),
    _v("model_args.text_freeze", False, STATED, "Sec. V-A: BERT fine-tuned"),
    _v("model_args.text_dropout", 0.3, STATED, "Sec. V-A: BERT dropout 0.3"),
    _v("model_args.w_mpm", 0.01, STATED, "Eq. 8"),
    _v("model_args.vpmpm", True, STATED, "Sec. IV-C: VPMPM on the text benchmark"),
    _v("model_args.vpmpm_kinds", ["NP", "VP"], STATED, "Sec. IV-C: noun- and verb-phrase passes"),
)

_ALAN_AUDIO = (
    _v("model_args.vpmpm", False, STATED, "Sec. IV-C: VPMPM needs text (audio queries on XD)"),
)

_BASELINE_TEXT = (
    _v(
        "text_model",
        PAPER_TEXT_MODEL,
        STATED,
        "Table II note: all baselines used BERT (CE: word2vec)",
    ),
)


#: Options of the baselines' official code that the paper does not mention (it reran the methods,
#: Table II / III, without saying how): on in ``--config paper``, labelled guesses.
_BASELINE_OFFICIAL = {
    "mmt": (
        _v(
            "model_args.geu_batch_norm",
            True,
            GUESS,
            "paper silent; MMT's official code gates its GEU through BatchNorm (txt_pro: gbn)",
        ),
    ),
    "xclip": (
        _v(
            "model_args.mat_weights",
            True,
            GUESS,
            "paper silent; X-CLIP's official code learns d x d global / local similarity weights",
        ),
    ),
    "xml": (
        _v(
            "model_args.hard_negatives",
            True,
            GUESS,
            "paper silent; XML's official code (TVR) samples hard negatives from the top 20",
        ),
    ),
}


def paper_values(model: str, query_modality: str) -> tuple[PaperValue, ...]:
    """The paper's values for ``model`` on a benchmark with ``query_modality`` queries."""
    if model == "alan":
        side = _ALAN_TEXT if query_modality == "text" else _ALAN_AUDIO
        return _ALAN_COMMON + side + _SCHEDULE
    if model == "random":
        return ()
    return (
        (_BASELINE_TEXT if query_modality == "text" else ())
        + _BASELINE_OFFICIAL.get(model, ())
        + _SCHEDULE
    )


def get_key(raw: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """``(present, value)`` of a dotted ``key`` in a config dict."""
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def same_value(a: Any, b: Any) -> bool:
    """Config equality with lists and tuples alike and ints equal to floats (5e-5 == 5.0e-05)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)))
    return a == b


def changed_stated_values(
    raw: Mapping[str, Any], values: tuple[PaperValue, ...]
) -> list[tuple[PaperValue, Any]]:
    """``(paper value, value in force)`` for every stated value the config ``raw`` changed.
    A key absent from ``raw`` counts as changed only when the paper states it (the model's
    default may differ)."""
    out = []
    for pv in values:
        if pv.status != STATED:
            continue
        present, got = get_key(raw, pv.key)
        if not present or not same_value(got, pv.value):
            out.append((pv, got if present else "(not set)"))
    return out
