"""var_bench.leaderboard.entries: entries, their flags and intervals."""

from __future__ import annotations

from support.records_factory import fake_ids_hash, make_record

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.leaderboard import build_leaderboard, render
from var_bench.leaderboard.entries import (
    DISCLOSURE_LABELS,
    PUBLISHED,
    USER,
    published_entry,
    record_flags,
    user_entry,
)
from var_bench.leaderboard.published import published_table
from var_bench.leaderboard.verify import verify_record
from var_bench.scoring.record import DISCLOSURE_KEYS

NORMALISED = (
    "sub.npy: every video has the same mean score over the text queries: the matrix looks "
    "normalised across the query set (softmax, dual/inverted softmax, QB-Norm, z-scoring)"
)


def _verified(**kw):
    return verify_record(make_record(**kw), UCFCRIME_AR, "r.json", fake_ids_hash)


def test_every_disclosure_field_has_a_label() -> None:
    assert set(DISCLOSURE_KEYS) <= set(DISCLOSURE_LABELS)


def test_clean_record_has_no_flags() -> None:
    assert record_flags(_verified()) == ()


def test_flags_for_warnings_disclosures_and_rescoring() -> None:
    v = _verified(
        ties="optimistic",
        warnings=[
            NORMALISED,
            "sub16.npy: low-precision (float16/bfloat16) scores: ties are likely",
        ],
        disclosure={
            "test_time_normalisation": "dual softmax",
            "extra_training_data": None,
            "checkpoint_selection": "val split",
        },
    )
    assert record_flags(v) == (
        "normalised columns?",
        "warning",
        "test-time re-scoring: dual softmax",
        "checkpoint: val split",
        "undisclosed: extra training data, tuned on test, training data",
        "re-scored from ties=optimistic",
    )


def test_published_entry_keeps_printed_numbers() -> None:
    table = published_table("xdviolence-ar")
    e = published_entry(table, table.rows[-1])
    assert (e.method, e.kind, e.score) == ("ALAN", PUBLISHED, 364.4)
    assert e.source == "Wu et al., TIP 2024, Table III"
    assert e.metrics["a2v"]["R@1"] == 29.8 and e.per_query is None and e.is_published
    assert e.interval("a2v", "R@1") is None


def test_user_entry_carries_provenance_and_intervals() -> None:
    v = _verified(ci=True, name=None)
    e = user_entry(v)
    assert e.kind == USER and not e.is_published
    assert e.method == "r.json"  # no name in the record: the file names it
    assert (
        e.versions["benchmark"] == "1.0.0" and e.date and e.ids_sha256 == v.record.query_ids_sha256
    )
    lo, hi = e.interval("t2v", "R@1")
    assert lo <= e.metrics["t2v"]["R@1"] <= hi
    lo, hi = e.interval(None, "SumR")
    assert lo <= e.score <= hi
    assert e.interval("t2v", "nonsense") is None
    assert set(e.per_query) == {"t2v", "v2t"}


def test_a_hand_added_reproduction_is_declared_not_shown_as_reproduced() -> None:
    """Issue 11, class 6 (L11): a record claiming to rerun a published model does not replace
    the published row; the claim is shown as declared."""
    record = make_record(seed=7, skill=0.01)
    record.disclosure.update({"reference_model": "alan", "features": "real I3D"})
    board = build_leaderboard("ucfcrime-ar", records=[("r.json", record)], ids_hash=fake_ids_hash)
    alan = next(e for e in board.entries if e.method == "ALAN")
    assert alan.kind == "published" and alan.score == 160.7 and alan.source_kind == "paper"
    md = render(board, "md")
    row = next(line for line in md.splitlines() if line.startswith("| ") and "| ALAN |" in line)
    assert "(declared)" in row and "Reproduced" not in md
    assert "claims a rerun of alan (declared)" in "; ".join(board.user_entries[0].flags)
