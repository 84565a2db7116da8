"""Raw feature layouts: their names and dimensions, indexing a folder tree, and detection.

A layout is recognised from file names alone (folders only say which stream a file belongs to):

- ``ucf-crops`` / ``xd-i3d``: ``<Stem>__<k>.npy``, one ``[T, 1024]`` file per crop k = 0..C-1;
- ``ucf-rtfm``: ``<Stem>_i3d.npy``, one ``[T, C, 2048]`` file per video;
- ``xd-vggish``: ``<Stem>__vggish.npy``, one ``[T, 128]`` file per video.

A file belongs to the ``flow`` stream when a folder of its path below the root is named ``Flow`` or
``FlowTest`` (any case), to ``audio`` when it is a VGGish file, else to ``rgb``. Split membership
never comes from folders: it comes from the metadata build's ids.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from var_bench.benchmarks import BENCHMARKS, BenchmarkSpec, Layout
from var_bench.errors import InputError
from var_bench.features.validators import MAX_CROPS

#: The marker file ``var-bench synth`` writes at the root of a synthetic raw tree; the feature
#: build reads it to mark the store synthetic.
SYNTH_MARKER = "VAR_BENCH_SYNTHETIC.json"

log = logging.getLogger(__name__)

UCF_CROPS = "ucf-crops"
UCF_RTFM = "ucf-rtfm"
XD_I3D = "xd-i3d"
XD_VGGISH = "xd-vggish"
AUTO = "auto"


def all_layouts() -> dict[str, Layout]:
    """Every registered benchmark's raw layouts, by name."""
    return {lay.name: lay for spec in BENCHMARKS.values() for lay in spec.layouts}


LAYOUTS: dict[str, Layout] = all_layouts()
#: Values of ``--layout`` (the audio layout is never chosen: it is the only one).
VIDEO_LAYOUT_CHOICES: tuple[str, ...] = (AUTO, *(n for n, lay in LAYOUTS.items() if not lay.audio))
#: Path components (case-insensitive) that put a file in the flow stream.
FLOW_FOLDERS = frozenset({"flow", "flowtest"})
#: The stream names, in the order columns are written.
STREAMS: tuple[str, ...] = ("rgb", "flow", "audio")
#: The video streams (the gallery side); ``audio`` is XDViolence-AR's query stream.
VIDEO_STREAMS: tuple[str, ...] = ("rgb", "flow")

# The vggish and i3d suffixes are tried before the crop suffix (``x__vggish`` has no digits anyway).
_PATTERNS: dict[str, re.Pattern] = {
    "vggish": re.compile(r"^(?P<stem>.+)__vggish\.npy$"),
    "i3d": re.compile(r"^(?P<stem>.+)_i3d\.npy$"),
    "crop": re.compile(r"^(?P<stem>.+)__(?P<k>\d+)\.npy$"),
}
_EXAMPLE = {"crop": "<Stem>__<k>.npy", "i3d": "<Stem>_i3d.npy", "vggish": "<Stem>__vggish.npy"}


@dataclass
class StreamIndex:
    """The files of one stream: ``files[stem]`` = paths ordered by crop (one path per video for
    per-video layouts). ``num_crops``: C for per-crop layouts (None until read for RTFM, 1 for
    layouts without crops). ``fingerprint``: sha256 over the sorted (path, size, mtime) lines."""

    stream: str
    layout: Layout
    root: Path
    files: dict[str, tuple[Path, ...]]
    num_crops: int | None
    fingerprint: str
    ignored: int = 0
    crop_sets: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class _Found:
    """Files of one stream and one name pattern while walking: (stem, crop, path, size, mtime)."""

    entries: list[tuple[str, int, str, int, int]] = field(default_factory=list)


def walk_npy(root: Path):
    """Yield ``(relative folder parts, DirEntry)`` for every ``*.npy`` file under ``root``.

    One ``os.scandir`` per folder; symlinked folders are followed once (cycles are skipped).
    """
    seen: set[str] = set()
    stack: list[tuple[str, tuple[str, ...]]] = [(str(root), ())]
    while stack:
        folder, parts = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        try:
            it = os.scandir(folder)
        except OSError as e:
            raise InputError(f"features folder: expected a readable folder, got {folder} ({e.strerror})") from None
        with it:
            for entry in it:
                if entry.is_dir():
                    stack.append((entry.path, parts + (entry.name,)))
                elif entry.name.endswith(".npy") and entry.is_file():
                    yield parts, entry


def scan(root: Path, *, default_stream: str, take_flow: bool, take_audio: bool,
         flow_only_if_marked: bool = False) -> tuple[dict[str, dict[str, _Found]], int]:
    """Walk ``root`` once and group ``.npy`` files by stream and name pattern.

    ``default_stream``: the stream of files in no Flow folder. ``take_flow``/``take_audio``: keep
    files of Flow folders / VGGish files (else drop them). ``flow_only_if_marked``: for a ``--flow``
    root, keep only the files under Flow folders when there are any. Returns
    ``(stream -> pattern -> files, number of unrecognised .npy files)``.
    """
    found: dict[str, dict[str, _Found]] = {}
    marked: dict[str, dict[str, _Found]] = {}
    ignored = 0
    for parts, entry in walk_npy(root):
        name = entry.name
        for pattern, rx in _PATTERNS.items():
            m = rx.match(name)
            if m:
                break
        else:
            ignored += 1
            continue
        in_flow = any(p.lower() in FLOW_FOLDERS for p in parts)
        if pattern == "vggish":
            if not take_audio:
                ignored += 1
                continue
            stream, target = "audio", found
        elif in_flow and flow_only_if_marked:
            stream, target = default_stream, marked
        elif in_flow:
            if not take_flow:
                ignored += 1
                continue
            stream, target = "flow", found
        else:
            stream, target = default_stream, found
        st = entry.stat()
        k = int(m.group("k")) if pattern == "crop" else 0
        if k >= MAX_CROPS:  # bounds range(C) and per-crop lists built from these indices
            raise InputError(f"{stream} features: expected crop indices 0..{MAX_CROPS - 1}, got "
                             f"{m.group('k')[:20]} in {'/'.join(parts + (name,))[:200]}")
        rel = "/".join(parts + (name,))
        target.setdefault(stream, {}).setdefault(pattern, _Found()).entries.append(
            (m.group("stem"), k, rel, st.st_size, st.st_mtime_ns))
    if flow_only_if_marked and marked:
        ignored += sum(len(f.entries) for f in found.get(default_stream, {}).values())
        found = {**{s: v for s, v in found.items() if s != default_stream}, **marked}
    return found, ignored


def choose_layout(spec: BenchmarkSpec, stream: str, root: Path, patterns: dict[str, _Found],
                  forced: str) -> tuple[Layout, _Found]:
    """The layout of one stream's files: detected from the name patterns found, or ``forced``.

    Raises InputError when two layouts are mixed (auto) or the files fit no layout of ``spec``.
    """
    allowed = [lay for lay in spec.layouts if lay.audio == (stream == "audio")]
    if stream != "audio" and forced != AUTO:
        lay = LAYOUTS[forced]
        if lay not in allowed:
            raise InputError(f"--layout {forced}: expected a layout of {spec.name} "
                             f"({', '.join(a.name for a in allowed)}), got {forced}")
        if lay.pattern not in patterns:
            raise InputError(f"{stream} features: expected {_EXAMPLE[lay.pattern]} files "
                             f"({lay.name}) under {root}, found none")
        return lay, patterns[lay.pattern]
    if len(patterns) > 1:
        kinds = ", ".join(f"{len(f.entries)} {_EXAMPLE[p]}" for p, f in sorted(patterns.items()))
        raise InputError(f"{stream} features under {root}: expected one layout, found a mix "
                         f"({kinds}); remove the other files or pass --layout")
    (pattern, files), = patterns.items()
    fits = [lay for lay in allowed if lay.pattern == pattern]
    if not fits:
        raise InputError(f"{stream} features under {root}: {_EXAMPLE[pattern]} files are not a "
                         f"{spec.name} layout (expected {', '.join(a.name for a in allowed)})")
    return fits[0], files


def make_index(stream: str, layout: Layout, root: Path, found: _Found, ignored: int) -> StreamIndex:
    """Group one stream's files by stem (paths in crop order) and refuse duplicates.

    C (per-crop layouts) is the most common crop count; :func:`check_crops` then holds every
    needed video to it.
    """
    by_stem: dict[str, dict[int, str]] = {}
    lines = []
    for stem, k, rel, size, mtime in found.entries:
        crops = by_stem.setdefault(stem, {})
        if k in crops:
            what = f"crop {k} of video {stem}" if layout.per_crop else f"video {stem}"
            raise InputError(f"{stream} features: expected one file for {what}, found two: "
                             f"{root / crops[k]} and {root / rel}")
        crops[k] = rel
        lines.append(f"{rel}\t{size}\t{mtime}")
    lines.sort()
    fingerprint = hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()
    files = {stem: tuple(root / c[k] for k in sorted(c)) for stem, c in by_stem.items()}
    crop_sets = {stem: tuple(sorted(c)) for stem, c in by_stem.items()} if layout.per_crop else {}
    if layout.per_crop:
        num_crops = Counter(max(c) + 1 for c in crop_sets.values()).most_common(1)[0][0]
    else:
        num_crops = None if layout.video_crops else 1
    return StreamIndex(stream, layout, root, files, num_crops, fingerprint, ignored, crop_sets)


def check_crops(index: StreamIndex, stems: list[str]) -> None:
    """Every video of ``stems`` has crops exactly 0..C-1 (per-crop layouts), else InputError."""
    if not index.layout.per_crop:
        return
    want = tuple(range(index.num_crops))
    for stem in stems:
        got = index.crop_sets.get(stem)
        if got is None or got == want:
            continue
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        folder = index.files[stem][0].parent
        detail = "; ".join(
            ([f"missing {', '.join(f'{stem}__{k}.npy' for k in missing)}"] if missing else [])
            + ([f"unexpected crop {', '.join(map(str, extra))}"] if extra else []))
        raise InputError(f"{index.stream} features of video {stem} in {folder}: expected crops "
                         f"0..{index.num_crops - 1} (as most videos have), found "
                         f"{_ranges(got)} ({detail})")


def _ranges(ks: tuple[int, ...]) -> str:
    """``(0, 1, 2, 4)`` -> ``"0-2, 4"``."""
    out, start = [], None
    for i, k in enumerate(ks):
        if start is None:
            start = k
        if i + 1 == len(ks) or ks[i + 1] != k + 1:
            out.append(str(start) if start == k else f"{start}-{k}")
            start = None
    return ", ".join(out)


def index_streams(spec: BenchmarkSpec, features: Path, flow: Path | None = None,
                  audio: Path | None = None, layout: str = AUTO) -> dict[str, StreamIndex]:
    """Index the raw trees of one benchmark: stream -> :class:`StreamIndex`.

    ``features``: the RGB tree (its Flow folders and VGGish files are taken too unless ``flow`` /
    ``audio`` are given). ``layout``: a video layout name or ``"auto"`` (detect from file names).
    """
    if layout not in VIDEO_LAYOUT_CHOICES:
        raise InputError(f"layout: expected one of {', '.join(VIDEO_LAYOUT_CHOICES)}, got {layout!r}")
    has_audio = spec.audio_layout is not None
    if audio is not None and not has_audio:
        raise InputError(f"--audio: {spec.name} has no audio stream (its queries are "
                         f"{spec.query_modality})")
    roots = [("features", features), ("flow", flow), ("audio", audio)]
    for what, root in roots:
        if root is not None and not Path(root).is_dir():
            raise InputError(f"--{what}: expected a folder of .npy files, got {root}")
    groups: list[tuple[Path, dict[str, dict[str, _Found]], int]] = []
    found, ignored = scan(Path(features), default_stream="rgb", take_flow=flow is None,
                          take_audio=audio is None and has_audio)
    groups.append((Path(features), found, ignored))
    if flow is not None:
        found, ignored = scan(Path(flow), default_stream="flow", take_flow=True, take_audio=False,
                              flow_only_if_marked=True)
        groups.append((Path(flow), found, ignored))
    if audio is not None:
        found, ignored = scan(Path(audio), default_stream="audio", take_flow=False, take_audio=True)
        groups.append((Path(audio), found, ignored))
    out: dict[str, StreamIndex] = {}
    for root, found, ignored in groups:
        for stream, patterns in found.items():
            if stream == "audio" and not has_audio:
                continue
            lay, files = choose_layout(spec, stream, root, patterns, layout)
            out[stream] = make_index(stream, lay, root, files, ignored)
            log.info("%s features: layout %s, %d videos under %s", stream, lay.name,
                     len(out[stream].files), root)
    if "rgb" not in out:
        raise InputError(f"--features: expected RGB feature files ({', '.join(_EXAMPLE.values())}) "
                         f"under {features}, found none")
    return {s: out[s] for s in STREAMS if s in out}
