"""Raw feature layouts as data: indexing folder trees (or the files list files name), detection.

A layout (:class:`~var_bench.benchmarks.spec.Layout`) is a file-name template, a crop naming
(one file per crop, a ``[T, C, D]`` file per video, or no crops), crops per video and D (declared
or found), and the stream its files feed. The built-in layouts are declared by the benchmark units
(``spec.layouts``); a user adds more with a small YAML file (:func:`load_layout_file`).

Detection, per source folder:

1. every ``*.npy`` file is matched against the templates of the candidate layouts, the most
   specific template winning (the most literal characters: ``<Stem>__vggish.npy`` before
   ``<Stem>__<k>.npy``); catch-all templates (``{stem}.npy``, PEL4VAD's crop 0) only take part
   when their layout is forced with ``--layout``;
2. a file under a folder named ``Flow``/``FlowTest`` (any case, any depth) feeds ``flow`` when the
   layout allows Flow; a file of an audio layout feeds the audio stream; the others feed the
   layout's stream (``rgb``, ``clip``, ``text_emb``, ...), or the name given with ``--stream``;
3. the templates found are grouped (two templates go together when one layout has both), and per
   group the layout is chosen among those with exactly these templates by the first file's
   header: its D (``dim``), its rank and C. So Peng Wu's ``[T, 1024]`` and VadCLIP's ``[T, 512]``
   crop files, which share a name pattern, are told apart by their size; a size no layout declares
   is refused in one line naming the file.

Split membership never comes from folders: it comes from the metadata build's ids. Stream names
and column order are :mod:`.streams`; reading and resolving list files is :mod:`.listfiles`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from var_bench.benchmarks import BenchmarkSpec, Layout
from var_bench.errors import InputError
from var_bench.features.listfiles import read_list, resolve_listed
from var_bench.features.readers import read_header
from var_bench.features.streamindex import StreamIndex
from var_bench.features.streams import (
    check_stream_name,
    order_streams,
    registered_layouts,
    video_streams,
)
from var_bench.features.validators import MAX_CROPS

#: The marker file ``var-bench synth`` writes at the root of a synthetic raw tree; the feature
#: build reads it to mark the store synthetic.
SYNTH_MARKER = "VAR_BENCH_SYNTHETIC.json"

log = logging.getLogger(__name__)

#: The value of ``--layout`` that detects each stream's layout.
AUTO = "auto"


def all_layouts() -> dict[str, Layout]:
    """Every raw layout of the registered benchmarks' video collections, by name (read at each
    call, so a benchmark registered later is included)."""
    return {lay.name: lay for lay in registered_layouts()}


#: Path components (case-insensitive) that put a file in the flow stream.
FLOW_FOLDERS = frozenset({"flow", "flowtest"})


# --- templates ---------------------------------------------------------------------------------


def template_regex(template: str) -> re.Pattern:
    """``"{stem}__{crop}.npy"`` -> a regex with groups ``stem`` (any text) and ``crop`` (digits)."""
    out, pos = [], 0
    for m in re.finditer(r"\{(stem|crop)\}", template):
        out.append(re.escape(template[pos : m.start()]))
        out.append("(?P<stem>.+)" if m.group(1) == "stem" else r"(?P<crop>\d+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def _literal(template: str) -> int:
    return len(re.sub(r"\{(stem|crop)\}", "", template))


def is_catch_all(template: str) -> bool:
    """A template that matches every ``.npy`` name (``{stem}.npy``): only used when forced."""
    return _literal(template) <= len(".npy")


def example(template: str) -> str:
    return template.replace("{stem}", "<Stem>").replace("{crop}", "<k>")


def load_layout_file(path: str | os.PathLike) -> tuple[Layout, ...]:
    """User layouts from a YAML file: one mapping, a list of them, or ``{layouts: [...]}``; keys
    are the fields of :class:`Layout` (``name``, ``file``, ``crops``, ``dim``, ``num_crops``,
    ``stream``, ``crop0_file``, ``flow``, ``folder``, ``tree``, ``doc``)."""
    from var_bench.readback import read_yaml

    path = Path(path)
    try:
        raw = read_yaml(path, "--layout-file")
    except OSError as e:
        raise InputError(
            f"--layout-file {path}: expected a readable YAML file, got "
            f"{' '.join(str(e).split())[:160]}"
        ) from None
    if isinstance(raw, dict) and "layouts" in raw:
        raw = raw["layouts"]
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, item in enumerate(items):
        lay = Layout.from_mapping(item, where=f"--layout-file {path} (layout {i + 1})")
        check_stream_name(lay.stream)
        out.append(lay)
    if not out:
        raise InputError(f"--layout-file {path}: expected at least one layout, got none")
    names = [lay.name for lay in out]
    if len(set(names)) != len(names):
        raise InputError(f"--layout-file {path}: expected distinct layout names, got {names}")
    return tuple(out)


# --- indexing ----------------------------------------------------------------------------------


@dataclass
class _Entry:
    template: str
    stem: str
    crop: int
    rel: str
    parts: tuple[str, ...]
    size: int
    mtime: int


@dataclass
class _Group:
    """Files of one source that feed one stream (``stream`` None: the chosen layout's)."""

    root: Path
    stream: str | None
    kind: str  # "video", "flow" or "audio": which layouts may read it
    entries: list[_Entry] = field(default_factory=list)
    list_files: tuple[Path, ...] = ()


def walk_npy(root: Path) -> Iterator[tuple[tuple[str, ...], os.DirEntry]]:
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
            raise InputError(
                f"features folder: expected a readable folder, got {folder} ({e.strerror})"
            ) from None
        with it:
            for entry in it:
                if entry.is_dir():
                    stack.append((entry.path, parts + (entry.name,)))
                elif entry.name.endswith(".npy") and entry.is_file():
                    yield parts, entry


class _Matcher:
    """Matches a file name against the templates of ``layouts``, most specific first."""

    def __init__(self, layouts: Sequence[Layout], forced: Layout | None) -> None:
        templates = {
            t
            for lay in layouts
            for t in lay.templates
            if not is_catch_all(t) or (forced is not None and t in forced.templates)
        }
        self.templates = sorted(templates, key=lambda t: (-_literal(t), t))
        self.rx = [(t, template_regex(t)) for t in self.templates]
        self.audio = {t for lay in layouts if lay.audio for t in lay.templates}

    def match(self, name: str) -> tuple[str, str, int] | None:
        for t, rx in self.rx:
            m = rx.match(name)
            if m:
                crop = int(m.group("crop")) if "crop" in rx.groupindex else 0
                if crop >= MAX_CROPS:  # bounds range(C) and per-crop lists built from these indices
                    raise InputError(
                        f"features: expected crop indices 0..{MAX_CROPS - 1}, got "
                        f"{m.group('crop')[:20]} in {name[:200]}"
                    )
                return t, m.group("stem"), crop
        return None


def _entries(pairs: Iterable[tuple[tuple[str, ...], str, str]], matcher: _Matcher):
    """``(parts, name, full path)`` -> matched :class:`_Entry` items and the unmatched count."""
    out, ignored = [], 0
    for parts, name, full in pairs:
        got = matcher.match(name)
        if got is None:
            ignored += 1
            continue
        st = os.stat(full)
        out.append(
            _Entry(
                got[0], got[1], got[2], "/".join(parts + (name,)), parts, st.st_size, st.st_mtime_ns
            )
        )
    return out, ignored


def _walk_pairs(root: Path):
    for parts, entry in walk_npy(root):
        yield parts, entry.name, entry.path


def _list_pairs(list_files: Sequence[Path], root: Path, matcher: _Matcher):
    """The files of the videos the lists name (a video named in several lists is taken once):
    each listed file's folder is read once and every file of a listed stem in it is taken (a
    list naming crop 0 or crop 5 selects the video, the crop policy then picks crops)."""
    want: dict[str, set[str]] = {}
    by_name: dict[str, str | None] | None = None
    for list_file in list_files:
        listed = read_list(list_file)
        missing = []
        for no, text in listed:
            try:
                p = resolve_listed(text, root, list_file.parent)
            except InputError as e:
                raise InputError(f"--list {list_file} line {no}: {e}") from None
            if p is None:
                # Last resort: the file name anywhere under root (one walk, only when needed;
                # a name found twice is ambiguous and stays missing).
                if by_name is None:
                    by_name = {}
                    for _, entry in walk_npy(root):
                        by_name[entry.name] = None if entry.name in by_name else entry.path
                found = by_name.get(PurePosixPath(text).name)
                p = Path(found) if found else None
            if p is None:
                missing.append(f"line {no}: {text}")
                continue
            got = matcher.match(p.name)
            if got is None:
                raise InputError(
                    f"--list {list_file} line {no}: expected a feature file name "
                    f"({', '.join(example(t) for t in matcher.templates)}), got {p.name}"
                )
            want.setdefault(str(p.parent), set()).add(got[1])
        if missing:
            raise InputError(
                f"--list {list_file}: expected every listed file under {root} (paths "
                f"are re-rooted there), {len(missing)} of {len(listed)} not found "
                f"({'; '.join(missing[:3])}{'; ...' if len(missing) > 3 else ''})"
            )
    for folder, stems in want.items():
        try:
            rel_parts = Path(folder).resolve().relative_to(root.resolve()).parts
        except ValueError:
            rel_parts = (Path(folder).name,)
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.endswith(".npy") and entry.is_file():  # never a FIFO
                    got = matcher.match(entry.name)
                    if got is not None and got[1] in stems:
                        yield tuple(rel_parts), entry.name, entry.path


def _scan(
    root: Path,
    stream: str | None,
    matcher: _Matcher,
    *,
    kind: str,
    take_flow: bool,
    take_audio: bool,
    flow_only_if_marked: bool = False,
    list_files: tuple[Path, ...] = (),
) -> tuple[list[_Group], int]:
    """Group one source's files: (default group, flow group, audio group), unmatched count."""
    pairs = _list_pairs(list_files, root, matcher) if list_files else _walk_pairs(root)
    entries, ignored = _entries(pairs, matcher)
    main = _Group(root, stream, kind, list_files=list_files)
    flow = _Group(root, "flow", "flow")
    audio = _Group(root, None, "audio")
    marked = []
    for e in entries:
        in_flow = kind in ("video", "flow") and any(p.lower() in FLOW_FOLDERS for p in e.parts)
        if e.template in matcher.audio and kind != "audio":
            if take_audio:
                audio.entries.append(e)
            else:
                ignored += 1
        elif in_flow and flow_only_if_marked:
            marked.append(e)
        elif in_flow and stream is None:
            if take_flow:
                flow.entries.append(e)
            else:
                ignored += 1
        else:
            main.entries.append(e)
    if flow_only_if_marked and marked:
        ignored += len(main.entries)
        main.entries = marked
    return [g for g in (main, flow, audio) if g.entries], ignored


def _clusters(templates: set[str], layouts: Sequence[Layout]) -> list[set[str]]:
    """Templates found, grouped: two go together when one layout has both."""
    groups = [{t} for t in sorted(templates)]
    for lay in layouts:
        ts = set(lay.templates) & templates
        hit = [g for g in groups if g & ts]
        if len(hit) > 1:
            merged = set().union(*hit)
            groups = [g for g in groups if not (g & ts)] + [merged]
    return groups


def _header_shape(path: Path) -> tuple[tuple[int, ...], str]:
    h = read_header(path, path.stem, "features")
    return h.shape, str(h.dtype)


def _allowed(group: _Group, layouts: Sequence[Layout]) -> list[Layout]:
    if group.kind == "audio":
        return [lay for lay in layouts if lay.audio]
    if group.kind == "flow":
        return [lay for lay in layouts if lay.flow and not lay.audio]
    return [lay for lay in layouts if not lay.audio]


def _describe(lay: Layout) -> str:
    shape = {"files": "[T, D] per crop", "axis": "[T, C, D]", "none": "[T, D]"}[lay.crops]
    d = f"D = {lay.dim}" if lay.dim else "any D"
    c = f", C = {lay.num_crops}" if lay.num_crops else ""
    return f"{lay.name} ({example(lay.file)}, {shape}, {d}{c})"


def _pick(
    group: _Group,
    cluster: set[str],
    entries: list[_Entry],
    cands: list[Layout],
    what: str,
    user: frozenset[str] = frozenset(),
) -> tuple[Layout, int | None, int]:
    """The layout of one cluster of templates, by the first file's header: (layout, C, D).
    Of the layouts the header fits, a user layout (names in ``user``) wins, then one that
    declares D, then one whose folder pattern matches, then the first declared."""
    first = min(entries, key=lambda e: (e.stem, e.crop, e.rel))
    shape, dtype = _header_shape(
        group.root / first.rel if not os.path.isabs(first.rel) else Path(first.rel)
    )
    found_c = None
    if any(lay.per_crop for lay in cands):
        per: dict[str, set[int]] = {}
        for e in entries:
            per.setdefault(e.stem, set()).add(e.crop)
        found_c = Counter(max(c) + 1 for c in per.values()).most_common(1)[0][0]
    fits = []
    for lay in cands:
        ndim = 3 if lay.video_crops else 2
        if len(shape) != ndim or (lay.dim is not None and shape[-1] != lay.dim):
            continue
        c = shape[1] if lay.video_crops else (found_c if lay.per_crop else 1)
        if lay.num_crops is not None and c != lay.num_crops:
            continue
        folder_ok = lay.folder is None or any(
            fnmatch.fnmatch(p.lower(), lay.folder.lower()) for p in first.parts
        )
        fits.append(
            (lay.name not in user, lay.dim is None, not folder_ok, cands.index(lay), lay, c)
        )
    if not fits:
        raise InputError(
            f"{what} features under {group.root}: expected "
            f"{' or '.join(_describe(c) for c in cands)}, found shape {list(shape)} "
            f"{dtype} in {group.root / first.rel}"
        )
    fits.sort(key=lambda f: f[:4])
    lay, c = fits[0][4], fits[0][5]
    return lay, c, int(shape[-1])


def make_index(
    stream: str,
    layout: Layout,
    root: Path,
    entries: list[_Entry],
    ignored: int,
    num_crops: int | None,
    dim: int | None,
    list_files: tuple[Path, ...] = (),
) -> StreamIndex:
    """Group one stream's files by stem (paths in crop order) and refuse duplicates."""
    by_stem: dict[str, dict[int, str]] = {}
    lines = []
    for e in entries:
        crops = by_stem.setdefault(e.stem, {})
        if e.crop in crops:
            what = f"crop {e.crop} of video {e.stem}" if layout.per_crop else f"video {e.stem}"
            raise InputError(
                f"{stream} features: expected one file for {what}, found two: "
                f"{root / crops[e.crop]} and {root / e.rel}"
            )
        crops[e.crop] = e.rel
        lines.append(f"{e.rel}\t{e.size}\t{e.mtime}")
    lines.sort()
    digest = hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()
    files = {stem: tuple(root / c[k] for k in sorted(c)) for stem, c in by_stem.items()}
    crop_sets = {stem: tuple(sorted(c)) for stem, c in by_stem.items()} if layout.per_crop else {}
    return StreamIndex(
        stream, layout, root, files, num_crops, digest, ignored, crop_sets, dim, tuple(list_files)
    )


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
            + ([f"unexpected crop {', '.join(map(str, extra))}"] if extra else [])
        )
        raise InputError(
            f"{index.stream} features of video {stem} in {folder}: expected crops "
            f"0..{index.num_crops - 1} (as most videos have), found "
            f"{_ranges(got)} ({detail})"
        )


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


def candidate_layouts(spec: BenchmarkSpec, user: Sequence[Layout] = ()) -> list[Layout]:
    """The layouts a build of ``spec`` considers: the user's first, then the benchmark's."""
    names = {lay.name for lay in user}
    return [*user, *(lay for lay in spec.layouts if lay.name not in names)]


def index_streams(
    spec: BenchmarkSpec,
    features: Path | None,
    flow: Path | None = None,
    audio: Path | None = None,
    layout: str = AUTO,
    *,
    streams: Mapping[str, Path] | None = None,
    user_layouts: Sequence[Layout] = (),
    lists: Mapping[str, Path | Sequence[Path]] | None = None,
) -> dict[str, StreamIndex]:
    """Index the raw trees of one benchmark: stream -> :class:`StreamIndex`.

    ``features``: the main tree (its Flow folders and audio files are taken too unless ``flow`` /
    ``audio`` are given); its files feed the detected layout's stream (rgb for I3D, clip for
    VadCLIP, text_emb for TEVAD captions). ``streams``: more sources, name -> folder (every file
    feeds that stream). ``layout``: a layout name or ``"auto"``; ``user_layouts``: layouts from a
    ``--layout-file`` (tried first). ``lists``: stream (``rgb`` = the main tree) -> a list file
    or several (e.g. VadCLIP's train and test CSVs) naming the videos to take from that
    stream's folder; the videos taken are the union of the lists.
    """
    cands = candidate_layouts(spec, user_layouts)
    user_names = frozenset(lay.name for lay in user_layouts)
    by_name = {lay.name: lay for lay in cands}
    if layout != AUTO and layout not in by_name:
        choices = [n for n, lay in by_name.items() if not lay.audio]
        if layout in all_layouts():
            raise InputError(
                f"--layout {layout}: expected a layout of {spec.name} "
                f"({', '.join(choices)}), got {layout}"
            )
        raise InputError(f"layout: expected one of {', '.join([AUTO, *choices])}, got {layout!r}")
    forced = None if layout == AUTO else by_name[layout]
    has_audio = any(lay.audio for lay in cands)
    if audio is not None and not has_audio:
        raise InputError(
            f"--audio: {spec.name} has no audio stream (its queries are {spec.query_modality})"
        )
    streams = dict(streams or {})
    for name in streams:
        check_stream_name(name)
    lists = {
        k: ((Path(v),) if isinstance(v, (str, os.PathLike)) else tuple(map(Path, v)))
        for k, v in (lists or {}).items()
    }
    roots = [
        ("features", features),
        ("flow", flow),
        ("audio", audio),
        *((f"stream {n}", p) for n, p in streams.items()),
    ]
    for what, root in roots:
        if root is not None and not Path(root).is_dir():
            raise InputError(f"--{what}: expected a folder of .npy files, got {root}")
    if features is None and not streams:
        raise InputError("features: expected --features DIR or --stream NAME=DIR, got neither")
    matcher = _Matcher(cands, forced)
    known_list_keys = {
        "rgb",
        *(["flow"] if flow is not None else []),
        *(["audio"] if audio is not None else []),
        *streams,
    }
    unknown = sorted(set(lists) - known_list_keys)
    if unknown:
        raise InputError(
            f"--list {unknown[0]}=FILE: expected a stream with its own folder "
            f"({', '.join(sorted(known_list_keys))}), got {unknown[0]}"
        )

    groups: list[tuple[_Group, int]] = []

    def add(root, stream, **kw):
        gs, ignored = _scan(Path(root), stream, matcher, **kw)
        groups.extend((g, ignored) for g in gs)

    if features is not None:
        add(
            features,
            None,
            kind="video",
            take_flow=flow is None,
            take_audio=audio is None and has_audio,
            list_files=lists.get("rgb", ()),
        )
    if flow is not None:
        add(
            flow,
            "flow",
            kind="flow",
            take_flow=True,
            take_audio=False,
            flow_only_if_marked=True,
            list_files=lists.get("flow", ()),
        )
    if audio is not None:
        add(
            audio,
            None,
            kind="audio",
            take_flow=False,
            take_audio=True,
            list_files=lists.get("audio", ()),
        )
    for name, root in streams.items():
        add(
            root,
            name,
            kind="video",
            take_flow=False,
            take_audio=False,
            list_files=lists.get(name, ()),
        )

    out: dict[str, StreamIndex] = {}
    origin: dict[str, _Group] = {}
    for group, ignored in groups:
        if group.kind == "audio" and not has_audio:
            continue
        allowed = _allowed(group, cands)
        templates = {e.template for e in group.entries}
        picked: list[tuple[str, Layout, list[_Entry], int | None, int]] = []
        for cluster in _clusters(templates, allowed):
            entries = [e for e in group.entries if e.template in cluster]
            fit = [
                lay
                for lay in allowed
                if cluster <= set(lay.templates) and lay.templates[0] in cluster
            ]
            applies = forced is not None and (
                group.stream is None or (group.kind == "flow" and forced.flow)
            )
            if applies:
                if forced in fit:
                    fit = [forced]
                elif any(lay.stream == forced.stream for lay in fit) or group.kind == "flow":
                    ignored += len(entries)  # the forced stream's other layouts: not read
                    continue
            if not fit:
                raise InputError(
                    f"{group.stream or 'video'} features under {group.root}: "
                    f"{', '.join(example(t) for t in sorted(cluster))} files are not "
                    f"a {spec.name} layout (expected "
                    f"{', '.join(lay.name for lay in allowed)})"
                )
            what = group.stream or fit[0].stream
            lay, c, d = _pick(group, cluster, entries, fit, what, user_names)
            stream = group.stream or lay.stream
            picked.append((stream, lay, entries, c, d))
        if (
            forced is not None
            and group.kind == "video"
            and group.stream is None
            and not any(lay is forced for _, lay, *_ in picked)
        ):
            raise InputError(
                f"{forced.stream} features: expected {example(forced.templates[0])} "
                f"files ({forced.name}) under {group.root}, found none"
            )
        streams_here = Counter(s for s, *_ in picked)
        for stream, n in streams_here.items():
            if n > 1:
                kinds = ", ".join(
                    f"{len(e)} {example(lay.file)}" for s, lay, e, *_ in picked if s == stream
                )
                raise InputError(
                    f"{stream} features under {group.root}: expected one layout, "
                    f"found a mix ({kinds}); remove the other files or pass --layout"
                )
        for stream, lay, entries, c, d in picked:
            if stream in out:
                raise InputError(
                    f"{stream} features: expected one source, found two: "
                    f"{origin[stream].root} ({out[stream].layout.name}) and "
                    f"{group.root} ({lay.name}); name one with --stream NAME=DIR"
                )
            out[stream] = make_index(
                stream, lay, group.root, entries, ignored, c, d, group.list_files
            )
            origin[stream] = group
            log.info(
                "%s features: layout %s (D = %d), %d videos under %s",
                stream,
                lay.name,
                d,
                len(out[stream].files),
                group.root,
            )
    if not video_streams(out):
        names = sorted(
            {
                example(t)
                for lay in cands
                if not lay.audio
                for t in lay.templates
                if not is_catch_all(t)
            }
        )
        raise InputError(
            f"--features: expected video feature files ({', '.join(names)}) "
            f"under {features}, found none"
        )
    return {s: out[s] for s in order_streams(out)}
