"""Column types and column documentation of the built datasets.

Each benchmark unit declares its columns (:class:`~var_bench.benchmarks.ColumnSpec`); the dataset
card, ``docs/data.md`` and the Parquet files' Hugging Face feature metadata all come from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets

from var_bench.benchmarks import BenchmarkSpec

_List = getattr(datasets, "List", datasets.Sequence)  # datasets >= 4 names it List


@dataclass(frozen=True)
class Column:
    name: str
    feature: object
    doc: str


def hf_feature(dtype: str) -> object:
    """The Hugging Face feature of a :class:`ColumnSpec` dtype
    (``int32``, ``list<string>``, ...)."""
    if dtype.startswith("list<") and dtype.endswith(">"):
        return _List(hf_feature(dtype[5:-1]))
    return datasets.Value(dtype)


def columns(spec: BenchmarkSpec) -> tuple[Column, ...]:
    """The columns of ``spec``'s built splits, from its unit's column schema."""
    return tuple(Column(c.name, hf_feature(c.dtype), c.doc) for c in spec.columns)


def features(spec: BenchmarkSpec) -> datasets.Features:
    """The Hugging Face features of ``spec``'s built splits."""
    return datasets.Features({c.name: c.feature for c in columns(spec)})
