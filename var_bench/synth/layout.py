"""Which raw layouts ``var-bench synth`` writes, and where a video's files go.

Both are read from the declared :class:`~var_bench.benchmarks.spec.Layout` (its file template,
crops and folder ``tree``): no code per layout. ``split`` here is the *upstream* split:
``"train"`` (the built train + val) or ``"test"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from var_bench.benchmarks import BenchmarkSpec, Layout
from var_bench.errors import InputError
from var_bench.features.layouts import is_catch_all


def video_layouts(spec: BenchmarkSpec) -> tuple[Layout, ...]:
    """The video layouts synth can write for ``spec`` (the first is the default): those of the
    ``rgb`` stream (synth's video streams are rgb and flow) that ``var-bench build`` detects
    without ``--layout`` (no catch-all file name)."""
    return tuple(
        lay
        for lay in spec.video_layouts
        if lay.stream == "rgb" and not any(is_catch_all(t) for t in lay.templates)
    )


def layout_named(spec: BenchmarkSpec, name: str) -> Layout:
    """The layout ``name`` of ``spec``'s collection (a synthetic tree's marker names them)."""
    for lay in spec.layouts:
        if lay.name == name:
            return lay
    raise InputError(
        f"layout: expected one of {', '.join(lay.name for lay in spec.layouts)} for "
        f"{spec.name}, got {name!r}"
    )


def class_folder(record: Mapping) -> str:
    """The class folder of a video from its metadata ``video_path`` (``Abuse/x.mp4`` -> ``Abuse``),
    else its ``class`` (a benchmark without paths, UCA), else '': the ``{class}`` of a layout's
    tree."""
    path = record.get("video_path")
    if path:
        return PurePosixPath(str(path)).parent.name
    return str(record.get("class") or "")


def top_folders(layout: Layout, class_folders: Iterable[str]) -> tuple[str, ...]:
    """The folders directly under the tree root that ``layout`` writes into, for every stream it
    feeds (its own, and flow where it has a Flow tree), both upstream splits and the videos'
    ``class_folders`` (an earlier synthetic tree's are cleared before writing)."""
    streams = (layout.stream, "flow") if layout.flow else (layout.stream,)
    folders = (
        layout.folder_of(s, split, c)
        for s in streams
        for split in layout.UPSTREAM_SPLITS
        for c in dict.fromkeys(class_folders)
    )
    return tuple(dict.fromkeys(f.split("/")[0] for f in folders if f))


def video_files(
    layout: Layout, stream: str, split: str, stem: str, crops: int, class_folder: str = ""
) -> list[Path]:
    """Relative paths of one video's files: one per crop (``crops="files"`` layouts) or one."""
    return [
        Path(layout.path(stream, split, stem, k, class_folder))
        for k in range(crops if layout.per_crop else 1)
    ]
