"""var_bench.report: the failure-analysis page, on constructed submissions whose answers are
known."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from var_bench.benchmarks import get_benchmark
from var_bench.cli import main
from var_bench.errors import InputError
from var_bench.plots import palette_colour
from var_bench.report import build_report, render_report, write_report
from var_bench.scoring.score import score

SPEC = get_benchmark("ucfcrime-ar")
N = SPEC.test_videos
EVIL = "<script>alert(1)</script> [x](javascript:y)"


def _metadata() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    cls = rng.choice(np.array(SPEC.classes), N)
    captions = [f"caption {i % 280}" for i in range(N)]  # ten duplicated captions
    captions[7] = EVIL
    return pd.DataFrame(
        {
            "video_id": [f"V{i:03d}" for i in range(N)],
            "class": cls,
            "anomalous": cls != SPEC.normal_class,
            SPEC.text_column: captions,
        }
    )


def _matrix(seed: int, signal: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, N)) + signal * np.eye(N)


@pytest.fixture(scope="module")
def made():
    meta = _metadata()
    a, b = _matrix(0, 3.0), _matrix(1, 1.0)
    report = build_report(a, "ucfcrime-ar", metadata=meta, compare=b)
    return report, a, b, meta


def test_metrics_and_tier_come_from_the_recomputed_record(made) -> None:
    report, a, _, _ = made
    record = score(a, "ucfcrime-ar")
    assert report.entry.score == pytest.approx(record.main_value)
    assert report.entry.tier == 1 and report.entry.ci is not None
    assert any(e.source == report.source for e in report.nearest)


def test_hardest_queries_are_the_worst_ranked_with_their_top5(made) -> None:
    report, a, _, meta = made
    t2v = [h for h in report.hardest if h.direction == "t2v"]
    true_scores = np.diag(a)
    worst = np.argsort(-(a > true_scores[:, None]).sum(axis=1), kind="stable")[: len(t2v)]
    assert [h.index for h in t2v] == [int(i) for i in worst]
    h = t2v[0]
    assert h.rank == float((a[h.index] > a[h.index, h.index]).sum() + 1)
    want = np.argsort(-a[h.index])[:5]
    assert [it.id for it, _ in h.top] == [meta["video_id"][j] for j in want]
    assert [it.cls for it, _ in h.top] == [meta["class"][j] for j in want]
    assert h.query.caption == meta[SPEC.text_column][h.index]
    v2t = [h for h in report.hardest if h.direction == "v2t"]
    assert v2t and all(h.query.caption is None for h in v2t)  # a video query has an id, not text


def test_duplicate_captions_are_marked() -> None:
    meta = _metadata()
    s = _matrix(0, 3.0)
    # Make query 3 (caption shared with query 283) the hardest t2v query.
    s[3, 3] = -100.0
    report = build_report(s, "ucfcrime-ar", metadata=meta)
    first = next(h for h in report.hardest if h.direction == "t2v")
    assert first.index == 3 and first.duplicate_caption
    assert "\\[duplicate caption\\]" in render_report(report, "md")


def test_groups_have_wilson_intervals_around_their_recall(made) -> None:
    report = made[0]
    labels = [g.label for g in report.groups]
    assert labels[-2:] == ["anomalous", "normal"] and SPEC.normal_class not in labels
    for g in report.groups:
        for d, (lo, hi) in g.interval.items():
            assert lo - 1e-9 <= g.recall[d] <= hi + 1e-9


def test_compare_lists_the_queries_that_differ_most(made) -> None:
    report = made[0]
    assert report.comparison is not None and report.comparison.rows[-1].metric == "SumR"
    gaps = [abs(a - b) for _, _, a, b, _ in report.differ if _ == "t2v"]
    assert gaps == sorted(gaps, reverse=True)
    assert report.comparison.rows[-1].better == "a"


def test_every_user_field_is_escaped(made) -> None:
    report = made[0]
    report.hardest[0] = report.hardest[0].__class__(
        **{
            **report.hardest[0].__dict__,
            "query": report.hardest[0].query.__class__("V007", "Abuse", EVIL),
        }
    )
    html = render_report(report, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert not re.search(r"https?://", html)
    md = render_report(report, "md")
    assert "<script>" not in md and "](javascript" not in md.replace("\\](", "")
    data = json.loads(render_report(report, "json"))
    assert data["hardest"][0]["query"]["caption"] == EVIL


def test_json_has_the_data_behind_the_page(made) -> None:
    data = json.loads(render_report(made[0], "json"))
    assert len(data["recall_curves"]["t2v"]) == N and len(data["ranks"]["v2t"]) == N
    assert data["tier"] == 1 and "comparison" in data and data["differ"]
    assert all(len(h["top"]) == 5 for h in data["hardest"])


def test_html_has_every_plot_inline(made) -> None:
    html = render_report(made[0], "html")
    assert html.count('<svg class="report-plot') == 3
    assert palette_colour(0) in html and palette_colour(1) in html
    assert "<script" not in html


def test_a_record_alone_says_what_it_cannot_show(tmp_path) -> None:
    path = tmp_path / "r.json"
    score(_matrix(2, 2.0), "ucfcrime-ar", name="rec").save(path)
    report = build_report(str(path), "ucfcrime-ar", metadata=_metadata())
    assert not report.has_matrix and all(h.top == () for h in report.hardest)
    assert any("holds no scores" in n for n in report.notes)
    with pytest.raises(InputError, match="expected a record of xdviolence-ar"):
        build_report(str(path), "xdviolence-ar")


def test_without_a_built_table_captions_are_left_out(tmp_path) -> None:
    report = build_report(_matrix(3, 2.0), "ucfcrime-ar")
    assert not report.has_table and report.groups == []
    assert any("no built ucfcrime-ar test table" in n for n in report.notes)


def test_cli_writes_html_md_and_json(tmp_path, capsys) -> None:
    sub = tmp_path / "sub.npy"
    np.save(sub, _matrix(4, 2.0).astype(np.float32))
    out = tmp_path / "report.html"
    for args in (["--output", str(out)], ["--format", "md"], ["--json"]):
        with pytest.raises(SystemExit) as done:
            main(["report", str(sub), "--benchmark", "ucfcrime-ar", *args])
        assert done.value.code == 0
    printed = capsys.readouterr().out
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert "## Hardest queries" in printed and '"recall_curves"' in printed
    assert f"wrote {out}\n" in printed
    with pytest.raises(SystemExit) as done:
        main(["report", str(tmp_path / "missing.npy"), "--benchmark", "ucfcrime-ar"])
    assert done.value.code == 2
    with pytest.raises(InputError, match="report format"):
        write_report(str(sub), "ucfcrime-ar", fmt="pdf")
