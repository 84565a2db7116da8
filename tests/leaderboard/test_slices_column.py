import json

import numpy as np
import pytest

from var_bench.benchmarks import XDVIOLENCE_AR
from var_bench.leaderboard import build_leaderboard
from var_bench.leaderboard.write import render
from var_bench.scoring.score import score
from var_bench.scoring.slices import SOURCE_SEEN, SOURCE_UNSEEN, record_slices


def _record(hits: int):
    """Queries 0..hits-1 rank their video first, the others last (no ties)."""
    S = np.tile(np.linspace(1.0, 0.0, 800, dtype=np.float32), (800, 1))
    for i in range(800):
        S[i] = np.roll(S[i], i) if i < hits else np.roll(S[i], i + 1)
    rec = score({"a2v": S, "v2a": S}, "xdviolence-ar", name=f"hits{hits}")
    unseen = np.zeros(800, bool)
    unseen[:267] = True
    rec.slices = record_slices(
        XDVIOLENCE_AR.task(),
        rec.per_query,
        {SOURCE_UNSEEN: unseen, SOURCE_SEEN: ~unseen},
        "expected",
    )
    return rec


def test_the_board_shows_the_unseen_source_score_recomputed():
    rec = _record(100)
    # by hand: the first 100 of the 267 unseen queries are hits -> R@1 = R@5 = R@10 = 100/267
    want = 6 * 100 * 100 / 267
    assert rec.slices[SOURCE_UNSEEN]["summary"]["SumR"] == pytest.approx(want)
    rec.slices[SOURCE_UNSEEN]["summary"]["SumR"] = 999.0  # a stated figure is not trusted
    board = build_leaderboard("xdviolence-ar", records=[("r.json", rec)])
    md = render(board, "md")
    assert "Unseen-source SumR" in md
    assert f"{want:.1f}" in md and "999" not in md
    data = json.loads(render(board, "json"))
    user = [e for e in data["entries"] if e["kind"] == "user"][0]
    assert user["slices"][SOURCE_UNSEEN] == pytest.approx(want)


def test_no_column_without_slices():
    rec = _record(10)
    rec.slices = None
    md = render(build_leaderboard("xdviolence-ar", records=[("r.json", rec)]), "md")
    assert "Unseen-source" not in md
