"""The paper's ablation tables (IV-X) shipped in published.json equal the transcription in
``../shared/spec/paper-ablations.md`` (parsed here; skipped when the spec folder is absent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from var_bench.leaderboard.published import published_ablation, published_table

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "paper-ablations.md"

#: The markdown section of each ablation (its bold title) and the printed setting of each trial.
SECTIONS = {
    "sampling": "Sampling",
    "vpmpm": "VPMPM",
    "alignment": "Alignment",
    "alpha": "α sweep",
}
BENCHES = {"ucfcrime-ar": 0, "xdviolence-ar": 4}  # first column of the benchmark's four


def _markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Bold-titled sections -> their table rows (cells, header and rule dropped)."""
    out = {}
    for block in re.split(r"\n\*\*", text)[1:]:
        title = block.split("**")[0]
        rows = [
            [c.strip() for c in line.strip().strip("|").split("|")]
            for line in block.splitlines()
            if line.startswith("|") and not line.startswith("|---")
        ]
        if rows:
            out[title] = rows[1:]
    return out


@pytest.fixture(scope="module")
def transcribed() -> dict[str, list[list[str]]]:
    if not SPEC.is_file():
        pytest.skip(f"the paper's ablation transcription is not at {SPEC} (../shared absent)")
    tables = _markdown_tables(SPEC.read_text("utf-8"))
    return {
        name: next(rows for title, rows in tables.items() if title.startswith(prefix))
        for name, prefix in SECTIONS.items()
    }


@pytest.mark.parametrize("bench", list(BENCHES))
@pytest.mark.parametrize("name", list(SECTIONS))
def test_shipped_ablation_tables_equal_the_papers_values(transcribed, bench, name):
    table = published_ablation(bench, name)
    want = transcribed[name]
    if name == "vpmpm" and bench == "xdviolence-ar":
        assert table is None  # Table VI is UCF only
        return
    assert table is not None and table.source.startswith("Wu et al., TIP 2024")
    assert len(table.rows) == len(want)
    first = 0 if name == "vpmpm" else BENCHES[bench]
    groups = list(published_table(bench).rows[0].metrics)
    for row, cells in zip(table.rows, want):
        assert cells[0] in row.setting, (row.setting, cells[0])
        printed = [float(c) for c in cells[1 + first : 5 + first]]
        got = [row.metrics[g][m] for g in groups for m in ("R@1", "R@10")]
        assert got == printed, (bench, name, row.setting)


def test_the_full_model_row_of_every_ablation_is_the_published_alan_row():
    # The ablations' ALAN row (FS+AS, N = 50, alpha 0.5, phrases, CLS+AVG) equals Table II / III.
    full = {"sampling": "fs+as", "vpmpm": "phrases", "alignment": "cls+avg", "alpha": "alpha-0.5"}
    for bench in BENCHES:
        table = published_table(bench)
        alan = next(r for r in table.rows if r.reference_model == "alan")
        for name, ab in table.ablations.items():
            row = ab.row(full[name])
            for g, ms in row.metrics.items():
                assert {m: alan.metrics[g][m] for m in ms} == dict(ms), (bench, name, g)
