"""The files of one stream found under a raw feature folder (what the readers read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from var_bench.benchmarks import Layout


@dataclass
class StreamIndex:
    """The files of one stream: ``files[stem]`` = paths ordered by crop (one path per video for
    per-video layouts). ``num_crops``: C (per-crop files: the most common count; ``[T, C, D]``
    files: from the first header; 1 without crops). ``dim``: D found in the first file.
    ``inputs_sha256``: sha256 over the sorted (path, size, mtime) lines (the resume journal's view
    of the inputs; the content fingerprint is :mod:`.fingerprint`'s)."""

    stream: str
    layout: Layout
    root: Path
    files: dict[str, tuple[Path, ...]]
    num_crops: int | None
    inputs_sha256: str
    ignored: int = 0
    crop_sets: dict[str, tuple[int, ...]] = field(default_factory=dict)
    dim: int | None = None
    #: The list files the videos were taken from (empty: the whole folder).
    list_files: tuple[Path, ...] = ()

    @property
    def fingerprint(self) -> str:  # the 0.2 name of inputs_sha256
        return self.inputs_sha256
