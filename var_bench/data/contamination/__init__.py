"""The contamination registry (``registry.json``): derived datasets over the benchmarks' videos,
and the test videos a declared training set holds (docs/integrity.md)."""

from var_bench.data.contamination.catalog import (
    Overlap,
    RegistryEntry,
    entry_overlaps,
    entry_videos,
    find_entry,
    parse_registry,
    registry_entries,
    training_overlaps,
)

__all__ = [
    "Overlap",
    "RegistryEntry",
    "entry_overlaps",
    "entry_videos",
    "find_entry",
    "parse_registry",
    "registry_entries",
    "training_overlaps",
]
