"""The dataset card (``README.md``) of a built benchmark.

Its YAML header follows the Hugging Face dataset-card format: ``configs`` maps each split to its
Parquet file, so ``datasets.load_dataset(<folder>)`` and a Hub repository work with no loading
script (``datasets`` 4 dropped them); ``dataset_info`` lists the features and split sizes. The
body documents columns, conventions, repaired quirks, provenance, licences and citations.
"""

from __future__ import annotations

from collections.abc import Mapping

import datasets
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData

from var_bench._version import __version__
from var_bench.benchmarks import SPLITS, BenchmarkSpec
from var_bench.data.assembly.manifest import DATA_FILE
from var_bench.data.assembly.schema import columns, features
from var_bench.data.splits import split_info

_TAGS = {
    "text": ["video-text-retrieval", "text-to-video-retrieval"],
    "audio": ["audio-visual", "audio-to-video-retrieval"],
}


def card_data(spec: BenchmarkSpec, counts: Mapping[str, int]) -> DatasetCardData:
    """YAML header: configs (split -> Parquet path), features and split sizes, licence, tags."""
    data = DatasetCardData(
        pretty_name=spec.title,
        license="other",
        license_name="research-use-no-licence-file",
        language=["en", "zh"] if spec.query_modality == "text" else None,
        tags=[
            "video-anomaly-retrieval",
            "anomaly-detection",
            "surveillance",
            *_TAGS[spec.query_modality],
        ],
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": DATA_FILE.format(split=s)} for s in SPLITS],
            }
        ],
    )
    info = datasets.DatasetInfo(
        features=features(spec),
        splits=datasets.SplitDict(
            {s: datasets.SplitInfo(name=s, num_examples=counts[s]) for s in SPLITS}
        ),
    )
    DatasetInfosDict({"default": info}).to_dataset_card_data(data)
    return data


def render_card(spec: BenchmarkSpec, counts: Mapping[str, int], notes: list[str]) -> str:
    """The whole ``README.md``: YAML header and Markdown body. Deterministic (no dates)."""
    rule = split_info(spec).rule
    q = spec.query_modality
    task = spec.task()
    positives = "one positive per query" if task.paired else "positives per query from the gold"
    lines = [
        f"# {spec.title}",
        "",
        f"{spec.title} is a video anomaly retrieval benchmark ({spec.paper}): {q} <-> video "
        f"retrieval over untrimmed anomaly videos, {positives}, {task.group_noun}s "
        f"{' and '.join(f'`{g}` ({task.group_label(g)})' for g in task.groups)}.",
        "VAR here means Video Anomaly *Retrieval* (not the Video Anomaly *Reasoning* of Vad-R1 "
        "and its successors).",
        "This folder was built by var_bench "
        + __version__
        + f" (benchmark version {spec.version}) "
        "from pinned upstream files; it holds metadata only (no videos, no features).",
        "",
        "## Splits",
        "",
        "| split | videos | note |",
        "|---|---|---|",
    ]
    split_notes = {
        "train": "upstream train" + ("" if rule is None else " minus val"),
        "val": (
            "upstream val"
            if rule is None
            else f"carved from upstream {rule.source_split}: per `{rule.group_by}`, the "
            f"ceil(n/{rule.denominator}) videos with the smallest sha256(video_id)"
        ),
        "test": "upstream test: the official evaluation set",
    }
    for s in SPLITS:
        lines.append(f"| {s} | {counts[s]} | {split_notes[s]} |")
    lines += [
        "",
        "Rows are in canonical order (upstream order): row i of the test split is query i "
        "and gallery item i of a submission matrix.",
        "",
        "## Columns",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    lines += column_rows(spec)
    lines += [
        "",
        "## Loading",
        "",
        "```python",
        "import var_bench",
        f'ds = var_bench.load_dataset("{spec.name}", split="test")',
        "# or, with no var_bench installed:",
        "import datasets",
        'ds = datasets.load_dataset("parquet", data_files={"test": "data/test.parquet"})["test"]',
        "```",
        "",
        "## Repaired upstream quirks",
        "",
    ]
    lines += [f"- {n}" for n in notes] or ["- none"]
    lines += ["", "## Provenance", "", "| file | sha256 | licence |", "|---|---|---|"]
    for src in spec.sources.values():
        lines.append(f"| [{src.key}]({src.url}) | `{src.sha256}` | {src.license} |")
    lines += [
        "",
        "## Licence",
        "",
        spec.license_note,
        "",
        "## Citation",
        "",
        "```bibtex",
        spec.citation,
        "```",
        "",
    ]
    return DatasetCard(
        f"---\n{card_data(spec, counts).to_yaml()}\n---\n\n" + "\n".join(lines)
    ).content


def column_rows(spec: BenchmarkSpec) -> list[str]:
    """Markdown rows ``| `name` | type | meaning |`` of the card's column table
    (docs/data.md too)."""
    return [f"| `{c.name}` | {_type_name(c.feature)} | {c.doc} |" for c in columns(spec)]


def _type_name(feature: object) -> str:
    if isinstance(feature, datasets.Value):
        return feature.dtype
    inner = getattr(feature, "feature", None)
    return f"list<{_type_name(inner)}>" if inner is not None else type(feature).__name__
