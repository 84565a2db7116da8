"""A third benchmark is one unit plus one registration: a tiny text -> video benchmark declared
here (its spec, two pinned text files in a folder mirror, its own assembler, split rule and
checksums in a resource folder) runs download -> ids -> score with no edit to var_bench."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import var_bench
from var_bench.benchmarks import (
    BenchmarkSpec,
    ColumnSpec,
    get_benchmark,
    register_benchmark,
    unregister_benchmark,
)
from var_bench.benchmarks.kit import (
    Assembled,
    ValidationRule,
    carve_validation,
    check_class_counts,
    validation_mask,
)
from var_bench.benchmarks.sources import SourceFile
from var_bench.benchmarks.spec import frozen
from var_bench.errors import DataError, InputError
from var_bench.fsutil import sha256_lines
from var_bench.tasks.retrieval import Direction, Retrieval

NAME = "tinybench-ar"
CLASSES = ("Fight", "Normal")
#: (video id, class, caption) per upstream split, in upstream order.
ROWS = {
    "train": [(f"tr{i:02d}", CLASSES[i % 2], f"train caption {i}") for i in range(12)],
    "test": [(f"te{i:02d}", CLASSES[i % 2], f"a person in test video {i}") for i in range(4)],
}
DENOMINATOR = 3


def assemble_tiny(spec: BenchmarkSpec, raw: Mapping[str, Path], rule: ValidationRule) -> Assembled:
    """The unit's assembler: ``id<TAB>class<TAB>caption`` lines -> the split tables."""
    upstream = {}
    for split in ("train", "test"):
        lines = raw[f"list_{split}"].read_text("utf-8").splitlines()
        rows = [
            dict(zip(("video_id", "class", "caption"), line.split("\t")), upstream_index=i)
            for i, line in enumerate(lines)
        ]
        df = pd.DataFrame.from_records(rows).assign(anomalous=lambda d: d["class"] != "Normal")
        check_class_counts(spec, split, df)
        upstream[split] = df
    return Assembled(carve_validation(upstream, rule))


def _expected_ids() -> dict[str, list[str]]:
    """The canonical id lists, derived from ROWS and the rule (not from the pipeline)."""
    train = ROWS["train"]
    val = validation_mask([r[0] for r in train], [r[1] for r in train], DENOMINATOR)
    return {
        "train": [r[0] for r, v in zip(train, val) if not v],
        "val": [r[0] for r, v in zip(train, val) if v],
        "test": [r[0] for r in ROWS["test"]],
    }


def _unit(tmp_path: Path, checksums: dict[str, str] | None = None) -> tuple[BenchmarkSpec, Path]:
    """Write the mirror and the resource folder; return the spec and the mirror folder."""
    mirror, resources = tmp_path / "mirror", tmp_path / "unit"
    (mirror / "tiny-bench").mkdir(parents=True)
    resources.mkdir()
    sources = {}
    for split, rows in ROWS.items():
        data = "".join("\t".join(map(str, r)) + "\n" for r in rows).encode()
        (mirror / "tiny-bench" / f"{split}.tsv").write_bytes(data)
        sources[f"list_{split}"] = SourceFile(
            "tiny",
            "bench",
            "0" * 40,
            f"{split}.tsv",
            len(data),
            hashlib.sha256(data).hexdigest(),
            "MIT",
            f"{split} list",
        )
    ids = _expected_ids()
    (resources / "splits.json").write_text(
        json.dumps(
            {
                "benchmark": NAME,
                "validation_rule": {
                    "source_split": "train",
                    "group_by": "class",
                    "denominator": DENOMINATOR,
                },
                "ids_sha256": checksums or {s: sha256_lines(v) for s, v in ids.items()},
            }
        )
    )
    spec = BenchmarkSpec(
        name=NAME,
        title="TinyBench-AR",
        version="0.0.1",
        query_modality="text",
        gallery_modality="video",
        tasks=(
            Retrieval(
                (Direction("t2v", "text", "video", True), Direction("v2t", "video", "text", False))
            ),
        ),
        upstream_class_counts=frozen(
            {s: {c: sum(r[1] == c for r in rows) for c in CLASSES} for s, rows in ROWS.items()}
        ),
        classes=CLASSES,
        normal_class="Normal",
        sources=frozen(sources),
        citation="@misc{tiny}",
        paper="a test",
        license_note="test data",
        columns=(
            ColumnSpec("video_id", "string", "id"),
            ColumnSpec("class", "string", "class"),
            ColumnSpec("anomalous", "bool", "not Normal"),
            ColumnSpec("caption", "string", "the query text"),
            ColumnSpec("upstream_index", "int32", "row upstream"),
        ),
        assembler=assemble_tiny,
        text_column="caption",
        resource_dir=str(resources),
    )
    return spec, mirror


@pytest.fixture
def tiny(tmp_path):
    spec, mirror = _unit(tmp_path)
    register_benchmark(spec)
    try:
        yield spec, mirror, tmp_path / "home"
    finally:
        unregister_benchmark(NAME)
    with pytest.raises(InputError, match="unknown benchmark"):
        get_benchmark(NAME)


def test_download_ids_score_on_a_third_benchmark(tiny):
    spec, mirror, home = tiny
    assert NAME in var_bench.list_benchmarks()
    manifests = var_bench.download(NAME, home=home, mirror=str(mirror), progress=False)
    assert manifests[NAME].counts == {s: len(v) for s, v in _expected_ids().items()}
    for split, want in _expected_ids().items():
        assert var_bench.ids(NAME, split, home=home) == want
    table = var_bench.load_table(NAME, "test", home=home)
    assert list(table["caption"]) == [r[2] for r in ROWS["test"]]

    S = np.eye(4, dtype=np.float32) + 0.01 * np.arange(16, dtype=np.float32).reshape(4, 4)
    record = var_bench.score(S, benchmark=NAME, home=home)
    assert record.benchmark == NAME and record.query_ids_sha256 == sha256_lines(
        _expected_ids()["test"]
    )
    assert record.metrics["t2v"]["R@1"] == 100.0 and record.metrics["v2t"]["R@1"] == 100.0
    S[0, 0] = -1.0  # query 0's true video drops to last of 4
    assert var_bench.score(S, benchmark=NAME, home=home).metrics["t2v"]["R@1"] == 75.0


def test_the_units_checksums_are_enforced(tmp_path):
    spec, mirror = _unit(tmp_path, checksums={"train": "0" * 64, "val": "0" * 64, "test": "0" * 64})
    register_benchmark(spec)
    try:
        with pytest.raises(
            DataError,
            match=rf"{NAME} train: ordered id list sha256 expected 0+ \(.*unit/splits.json\)",
        ):
            var_bench.download(NAME, home=tmp_path / "home", mirror=str(mirror), progress=False)
    finally:
        unregister_benchmark(NAME)


def test_a_benchmark_with_its_own_val_split_and_no_classes(tmp_path):
    """No validation rule (the benchmark ships train, val and test), no classes, no class counts:
    optional facts, not assumptions."""
    mirror, resources = tmp_path / "mirror", tmp_path / "unit"
    (mirror / "tiny-bench").mkdir(parents=True)
    resources.mkdir()
    rows = {
        s: [(f"{s}{i}", f"caption {s} {i}") for i in range(n)]
        for s, n in (("train", 5), ("val", 2), ("test", 3))
    }
    sources = {}
    for split, rs in rows.items():
        data = "".join(f"{v}\t{c}\n" for v, c in rs).encode()
        (mirror / "tiny-bench" / f"{split}.tsv").write_bytes(data)
        sources[f"list_{split}"] = SourceFile(
            "tiny",
            "bench",
            "0" * 40,
            f"{split}.tsv",
            len(data),
            hashlib.sha256(data).hexdigest(),
            "MIT",
            split,
        )

    def assemble_own(spec, raw, rule):
        assert rule is None
        return Assembled(
            {
                s: pd.DataFrame.from_records(
                    [
                        dict(zip(("video_id", "caption"), line.split("\t")))
                        for line in raw[f"list_{s}"].read_text("utf-8").splitlines()
                    ]
                )
                for s in rows
            }
        )

    (resources / "splits.json").write_text(
        json.dumps(
            {
                "benchmark": "tinyown-ar",
                "ids_sha256": {s: sha256_lines([v for v, _ in rs]) for s, rs in rows.items()},
            }
        )
    )
    spec = BenchmarkSpec(
        name="tinyown-ar",
        title="TinyOwn-AR",
        version="0.0.1",
        query_modality="text",
        gallery_modality="video",
        tasks=(Retrieval((Direction("t2v", "text", "video", True),)),),
        sources=frozen(sources),
        citation="@misc{tiny}",
        paper="a test",
        license_note="test",
        columns=(ColumnSpec("video_id", "string", "id"), ColumnSpec("caption", "string", "text")),
        assembler=assemble_own,
        text_column="caption",
        resource_dir=str(resources),
    )
    register_benchmark(spec)
    try:
        home = tmp_path / "home"
        var_bench.download("tinyown-ar", home=home, mirror=str(mirror), progress=False)
        assert var_bench.ids("tinyown-ar", "val", home=home) == ["val0", "val1"]
        record = var_bench.score(np.eye(3, dtype=np.float32) + 0.5, "tinyown-ar", home=home)
        assert list(record.metrics) == ["t2v"] and record.metrics["t2v"]["R@1"] == 100.0
    finally:
        unregister_benchmark("tinyown-ar")
