"""Gold as data: a benchmark whose queries are not its videos, scored by the same kernel.

The de-duplicated UCFCrime-AR test set some papers use: the 290 test captions hold 288 distinct
ones, so a caption shared by two videos is one query with two positives, a 288 x 290 problem.
Declared here as a third benchmark over UCFCrime-AR's pinned files (its own assembler, split
checksums computed from the real upstream files, a table gold), then downloaded, built, scored
and checked against a brute-force reference; ids, compare, the leaderboard and the report run
on it too. Needs ../shared/data (skipped with the reason otherwise)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import var_bench
from var_bench.benchmarks import (
    SPLITS,
    UCFCRIME_AR,
    ColumnSpec,
    register_benchmark,
    unregister_benchmark,
)
from var_bench.benchmarks.kit import Assembled, ValidationRule
from var_bench.data.fetch import cached_path
from var_bench.data.paths import raw_dir
from var_bench.errors import InputError
from var_bench.fsutil import sha256_lines
from var_bench.tasks.retrieval import Direction, Retrieval

NAME = "ucfcrime-ar-unique"


def assemble_unique(spec, raw: Mapping[str, Path], rule: ValidationRule) -> Assembled:
    """UCFCrime-AR's tables, then one query per distinct English caption of each split, its
    positives every video with that caption; the videos become the gallery tables."""
    base = UCFCRIME_AR.resolve_assembler()(UCFCRIME_AR, raw, rule)
    splits, videos = {}, {}
    for split in SPLITS:
        df = base.splits[split]
        groups = df.groupby("caption_en", sort=False)["video_id"].agg(list)
        first = df.drop_duplicates("caption_en").set_index("caption_en")
        splits[split] = pd.DataFrame(
            {
                "query_id": [f"{split}-q{i:04d}" for i in range(len(groups))],
                "caption_en": list(groups.index),
                "video_ids": list(groups.values),
                "class": [first.loc[c, "class"] for c in groups.index],
                "anomalous": [bool(first.loc[c, "anomalous"]) for c in groups.index],
            }
        )
        videos[split] = df[["video_id", "class", "anomalous"]].reset_index(drop=True)
    return Assembled(splits, list(base.notes), videos)


SPEC = replace(
    UCFCRIME_AR,
    name=NAME,
    title="UCFCrime-AR (unique captions)",
    tasks=(
        Retrieval(
            (Direction("t2v", "text", "video", True), Direction("v2t", "video", "text", False)),
            gold="table",
        ),
    ),
    columns=(
        ColumnSpec("query_id", "string", "one distinct caption"),
        ColumnSpec("caption_en", "string", "the caption"),
        ColumnSpec("video_ids", "list<string>", "every video with this caption"),
        ColumnSpec("class", "string", "its first video's class"),
        ColumnSpec("anomalous", "bool", "its first video is anomalous"),
    ),
    assembler=assemble_unique,
    package=None,
    upstream_class_counts={},
)


@pytest.fixture(scope="module")
def unique(shared_data, tmp_path_factory):
    """The benchmark registered with checksums computed here from the real files, built in a
    fresh home from the mirror."""
    root = tmp_path_factory.mktemp("unique")
    home = root / "home"
    var_bench.download("ucfcrime-ar", home=home, mirror=str(shared_data), progress=False)
    raw = {role: cached_path(src, raw_dir(home)) for role, src in UCFCRIME_AR.sources.items()}
    from var_bench.data.splits import split_info

    made = assemble_unique(SPEC, raw, split_info(UCFCRIME_AR).rule)
    (root / "unit").mkdir()
    (root / "unit" / "splits.json").write_text(
        json.dumps(
            {
                "benchmark": NAME,
                "validation_rule": json.loads(UCFCRIME_AR.resource_text("splits.json"))[
                    "validation_rule"
                ],
                "ids_sha256": {s: sha256_lines(list(made.splits[s]["query_id"])) for s in SPLITS},
                "videos_sha256": {
                    s: sha256_lines(list(made.videos[s]["video_id"])) for s in SPLITS
                },
            }
        )
    )
    spec = register_benchmark(replace(SPEC, resource_dir=str(root / "unit")))
    try:
        var_bench.download(NAME, home=home, mirror=str(shared_data), progress=False)
        yield spec, home, made
    finally:
        unregister_benchmark(NAME)


def brute_force(S: np.ndarray, positives: list[set[int]]) -> tuple[list[int], ...]:
    """(b, e) of every caption query and every video query, cell by cell."""
    nq, ng = S.shape
    rb, re_ = [], []
    for i in range(nq):
        d = max(S[i, j] for j in positives[i])
        rb.append(sum(S[i, j] > d for j in range(ng) if j not in positives[i]))
        re_.append(sum(S[i, j] == d for j in range(ng) if j not in positives[i]))
    owners = [{i for i in range(nq) if j in positives[i]} for j in range(ng)]
    cb, ce = [], []
    for j in range(ng):
        c = max(S[i, j] for i in owners[j])
        cb.append(sum(S[i, j] > c for i in range(nq) if i not in owners[j]))
        ce.append(sum(S[i, j] == c for i in range(nq) if i not in owners[j]))
    return rb, re_, cb, ce


def test_288_captions_by_290_videos_scored_by_the_kernel_as_brute_force(unique):
    spec, home, made = unique
    queries = var_bench.ids(NAME, "test", home=home)
    videos = var_bench.ids(NAME, "test", home=home, gallery=True)
    assert (len(queries), len(videos)) == (288, 290)
    table = var_bench.load_table(NAME, "test", home=home)
    shared = [list(v) for v in table["video_ids"] if len(v) > 1]
    assert len(shared) == 2 and all(len(v) == 2 for v in shared)

    r = np.random.default_rng(0)
    S = np.round(r.standard_normal((288, 290)), 1).astype(np.float32)  # many ties
    where = {v: j for j, v in enumerate(videos)}
    positives = [{where[v] for v in vids} for vids in table["video_ids"]]
    for i, pos in enumerate(positives):  # make the shared captions interesting: a tie and a miss
        if len(pos) > 1:
            a, b = sorted(pos)
            S[i, a], S[i, b] = 3.0, -3.0
    record = var_bench.score(S, NAME, home=home, ci=True, replicates=200)
    rb, re_, cb, ce = brute_force(S, positives)
    assert record.per_query["t2v"].higher.tolist() == rb
    assert record.per_query["t2v"].tied.tolist() == re_
    assert record.per_query["v2t"].higher.tolist() == cb
    assert record.per_query["v2t"].tied.tolist() == ce
    assert record.query_ids_sha256 == sha256_lines(queries)
    assert record.gallery_ids_sha256 == sha256_lines(videos)
    assert record.metrics["t2v"]["R@10"] == pytest.approx(
        100 * np.mean([min(1, max(0, (10 - b) / (e + 1))) for b, e in zip(rb, re_)])
    )
    # unpaired groups: each direction is resampled on its own, the summary still gets an interval
    lo, hi = record.ci["intervals"]["SumR"]
    assert lo <= record.main_value <= hi

    # a submission binding its own orders is put back in canonical order
    perm_q, perm_v = r.permutation(288), r.permutation(290)
    bound = {
        "S": S[np.ix_(perm_q, perm_v)],
        "text_ids": np.array(queries)[perm_q],
        "video_ids": np.array(videos)[perm_v],
    }
    again = var_bench.score(bound, NAME, home=home)
    assert again.per_query["t2v"].higher.tolist() == rb

    other = var_bench.score(S + r.standard_normal(S.shape).astype(np.float32), NAME, home=home)
    comparison = var_bench.compare(record, other)
    assert comparison.rows[-1].metric == "SumR"

    from var_bench.leaderboard import build_leaderboard
    from var_bench.report.build import build_report

    board = build_leaderboard(NAME, records=[("a.json", record), ("b.json", other)], home=home)
    assert [e.source for e in board.entries] == sorted(
        ["a.json", "b.json"], key=lambda s: -{"a.json": record, "b.json": other}[s].main_value
    )
    assert board.sizes == {"t2v": 288, "v2t": 290}
    report = build_report(S, NAME, home=home)
    assert report.hardest and report.entry.score == pytest.approx(record.main_value)


def test_a_290_x_290_matrix_is_refused_with_the_expected_shape(unique):
    spec, home, _ = unique
    with pytest.raises(InputError, match="expected 288 x 290 .text queries x videos"):
        var_bench.score(np.zeros((290, 290), np.float32), NAME, home=home)


class _Pairs:
    """One row per (query, positive video) pair of a built split: the video's made-up features
    (several captions of one video share them), the query's id and caption as text."""

    def __init__(self, home, split: str, seed: int) -> None:
        from training.tiny import FakeFeatureDataset

        table = var_bench.load_table(NAME, split, home=home)
        videos = list(dict.fromkeys(v for vids in table["video_ids"] for v in vids))
        base = FakeFeatureDataset(len(videos), seed=seed, ids=videos)
        at = {v: i for i, v in enumerate(videos)}
        self.items = [
            {**base[at[v]], "index": k, "query_id": q, "text": str(c)}
            for k, (q, c, v) in enumerate(
                (q, c, v)
                for q, c, vids in zip(table["query_id"], table["caption_en"], table["video_ids"])
                for v in vids
            )
        ]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def test_training_and_evaluation_on_a_table_gold(unique, tmp_path):
    """Pair rows (two captions of one video are two rows of one video) train a model whose
    checkpoint is chosen on the val main score of the query x video problem; evaluate writes the
    288 x 290 submission that scores as the benchmark's."""
    from var_bench.training.evaluate import evaluate
    from var_bench.training.trainer import train

    spec, home, _ = unique
    res = train(
        "tiny-test",
        NAME,
        out=tmp_path / "run",
        data={"train": _Pairs(home, "train", 1), "val": _Pairs(home, "val", 2)},
        overrides=["train.epochs=2", "train.batch_size=32", "train.lr=0.01"],
    )
    assert res.main_score == "SumR" and res.best_val_score is not None
    test = _Pairs(home, "test", 3)
    assert len(test) == 290 and len({it["query_id"] for it in test.items}) == 288
    record = evaluate(
        res.best_checkpoint, NAME, split="test", out=tmp_path / "sub.npz", data=test, home=home
    )
    with np.load(tmp_path / "sub.npz") as z:
        assert z["t2v"].shape == (288, 290) and z["v2t"].shape == (290, 288)
    assert record.query_ids_sha256 == sha256_lines(var_bench.ids(NAME, "test", home=home))
    assert {g: len(q) for g, q in record.per_query.items()} == {"t2v": 288, "v2t": 290}
