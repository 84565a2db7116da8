"""The types a benchmark unit is declared with: :class:`BenchmarkSpec`, :class:`VideoCollection`,
:class:`ColumnSpec` and :class:`Layout` (pure data; no benchmark lives here).

A :class:`BenchmarkSpec` carries every fact about one benchmark: its tasks (each a task type's
instance, :mod:`var_bench.tasks`), modalities, expected counts, classes, the pinned upstream
files, the column schema, its video collection (raw feature layouts, frame rate), the package
holding its split rule, checksums and published table, and what to cite. Generic code (assembly,
feature store, loaders, scoring, leaderboard, models) reads these fields instead of keying on a
benchmark's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module, resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from var_bench.benchmarks.sources import SourceFile
from var_bench.errors import InputError
from var_bench.tasks.base import Task

#: Splits of every built benchmark, in this order. ``val`` is carved from upstream train.
SPLITS: tuple[str, ...] = ("train", "val", "test")
#: Frames per I3D / VGGish snippet upstream (16 non-overlapping frames).
DEFAULT_SNIPPET_FRAMES = 16


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a built split: ``dtype`` is ``string``, ``bool``, ``int32``, ``list<T>`` or
    ``list<list<T>>`` (turned into Hugging Face features by the assembly stage)."""

    name: str
    dtype: str
    doc: str


#: How a layout stores crops: one ``[T, D]`` file per crop (the crop index in the file name),
#: one ``[T, C, D]`` file per video, or one ``[T, D]`` file per video (no crops).
CROP_FILES, CROP_AXIS, CROP_NONE = "files", "axis", "none"
CROP_KINDS: tuple[str, ...] = (CROP_FILES, CROP_AXIS, CROP_NONE)


@dataclass(frozen=True)
class Layout:
    """One raw feature layout, as data (no code per layout).

    ``file``: the file-name template, ``{stem}`` = the video id and, for ``crops="files"``,
    ``{crop}`` = the crop index k (digits), e.g. ``"{stem}__{crop}.npy"``. ``crop0_file``: the
    name of crop 0 when it differs (PEL4VAD: ``"{stem}.npy"``). ``crops``: ``files`` | ``axis``
    (``[T, C, D]`` per video) | ``none`` (``[T, D]`` per video). ``num_crops``: C expected (None:
    found, the most common count). ``dim``: D expected (None: found in the first file; every
    other file must then agree). ``stream``: the stream its files feed (``rgb``, ``clip``,
    ``text_emb``...). ``flow``: files under a folder named ``Flow``/``FlowTest`` feed ``flow``.
    ``folder``: an fnmatch pattern (any case) a folder above every file must match (VadCLIP XD:
    ``XD*ClipFeatures``). ``audio``: the query-side stream of an audio-query benchmark.
    ``doc``: where the layout comes from (shown in errors and docs).

    ``tree``: the folder tree of the release, as data: where one video's files sit under the
    tree's root. Either one folder template for every stream and split, or a mapping from
    ``"<stream>/<split>"``, ``"<stream>"``, ``"*/<split>"`` or ``"*"`` to a template (the most
    specific key wins); ``<split>`` is the *upstream* split, ``train`` (the built train + val) or
    ``test``. A template is a ``/``-separated relative path ('' = the root) with the fields
    ``{split}`` (``train``/``test``), ``{Split}`` (``Train``/``Test``) and ``{class}`` (the
    video's class folder in the collection, e.g. ``Abuse``,
    ``Training_Normal_Videos_Anomaly``). Writers of raw trees (``var-bench synth``, the
    test trees) derive every path from it (:meth:`path`); detection never reads it (it matches
    file names, Flow folders and ``folder``). Peng Wu's UCF-Crime tree is
    ``{"rgb": "{Split}/RGB/{class}", "flow": "{Split}/Flow/{class}"}``, XD-Violence's
    ``{"rgb/train": "RGB", "rgb/test": "RGBTest", "flow/train": "Flow", "flow/test": "FlowTest"}``.

    >>> lay = Layout("ucf-crops", "{stem}__{crop}.npy", flow=True,
    ...              tree={"rgb": "{Split}/RGB/{class}", "flow": "{Split}/Flow/{class}"})
    >>> lay.path("flow", "test", "Abuse028_x264", 3, "Abuse")
    'Test/Flow/Abuse/Abuse028_x264__3.npy'
    >>> lay.class_folders, Layout("vggish", "{stem}.npy", crops="none",
    ...                           tree="vggish-features/{split}").root("rgb")
    (True, 'vggish-features')
    """

    name: str
    file: str
    dim: int | None = None
    crops: str = CROP_FILES
    num_crops: int | None = None
    stream: str = "rgb"
    crop0_file: str | None = None
    flow: bool = False
    audio: bool = False
    folder: str | None = None
    doc: str = ""
    #: Where the files sit under the tree root, per stream and upstream split (see above). A
    #: template or a mapping when declared; kept as sorted ``(key, template)`` pairs.
    tree: str | Mapping[str, str] | tuple[tuple[str, str], ...] = ""

    def __post_init__(self) -> None:
        if self.crops not in CROP_KINDS:
            raise InputError(
                f"layout {self.name}: crops expected one of {', '.join(CROP_KINDS)}, "
                f"got {self.crops!r}"
            )
        for t in (self.file, self.crop0_file):
            if t is None:
                continue
            if t.count("{stem}") != 1 or t.count("{crop}") > 1:
                raise InputError(
                    f"layout {self.name}: expected {{stem}} once and {{crop}} at most once in "
                    f"a file template, got {t!r}"
                )
            if "{stem}" not in t or not t.endswith(".npy") or "/" in t:
                raise InputError(
                    f"layout {self.name}: expected a file-name template with {{stem}} "
                    f"ending in .npy (no folder), got {t!r}"
                )
        if (self.crops == CROP_FILES) != ("{crop}" in self.file):
            raise InputError(
                f"layout {self.name}: expected {{crop}} in the file template exactly "
                f"when crops = files, got {self.file!r} with crops = {self.crops}"
            )
        for knob in ("dim", "num_crops"):
            v = getattr(self, knob)
            if v is not None and (not isinstance(v, int) or v < 1):
                raise InputError(f"layout {self.name}: {knob} expected an integer >= 1, got {v!r}")
        object.__setattr__(self, "tree", self._checked_tree(self.tree))

    #: The upstream splits a raw tree is laid out by (the built train and val come from train).
    UPSTREAM_SPLITS = ("train", "test")
    #: The fields a folder template of ``tree`` may use.
    TREE_FIELDS = frozenset({"split", "Split", "class"})

    def _checked_tree(self, tree: Any) -> tuple[tuple[str, str], ...]:
        """``tree`` as sorted ``("<stream>/<split>", template)`` pairs, keys and templates
        checked."""
        from string import Formatter

        if isinstance(tree, str):
            tree = {"*": tree}
        elif isinstance(tree, (tuple, list)):
            tree = dict(tree)
        if not isinstance(tree, Mapping):
            raise InputError(
                f"layout {self.name}: tree expected a folder template or a mapping "
                f"of them, got {tree!r}"
            )
        out = {}
        for key, template in tree.items():
            stream, _, split = str(key).partition("/")
            split = split or "*"
            if not (stream == "*" or stream.isidentifier() and stream.islower()) or split not in (
                *self.UPSTREAM_SPLITS,
                "*",
            ):
                raise InputError(
                    f"layout {self.name}: tree keys expected <stream>, <stream>/<split> "
                    f"or */<split> (split train or test), got {key!r}"
                )
            ok = (
                isinstance(template, str)
                and not template.startswith("/")
                and not any(p in ("", ".", "..") for p in (template.split("/") if template else []))
            )
            try:
                fields = (
                    {f for _, f, _, _ in Formatter().parse(template) if f is not None}
                    if ok
                    else set()
                )
            except ValueError:  # an unmatched brace
                ok = False
            if not ok or fields - self.TREE_FIELDS:
                raise InputError(
                    f"layout {self.name}: tree template expected a relative folder "
                    f"with fields among {{split}}, {{Split}}, {{class}}, got {template!r}"
                )
            out[f"{stream}/{split}"] = template
        return tuple(sorted(out.items()))

    def _template(self, stream: str, split: str) -> str:
        """The folder template of ``stream`` in the upstream ``split`` (most specific key first)."""
        if split not in self.UPSTREAM_SPLITS:
            raise InputError(
                f"layout {self.name}: split expected train or test (upstream), got {split!r}"
            )
        tree = dict(self.tree)
        return next(
            (
                tree[k]
                for k in (f"{stream}/{split}", f"{stream}/*", f"*/{split}", "*/*")
                if k in tree
            ),
            "",
        )

    def folder_of(self, stream: str, split: str, class_folder: str = "") -> str:
        """The folder of one video's ``stream`` files under the tree root (``/``-separated, ''
        for the root) in the upstream ``split`` (``train`` or ``test``); ``class_folder``: the
        video's class folder, needed when the tree has ``{class}``."""
        template = self._template(stream, split)
        if "{class}" in template and not class_folder:
            raise InputError(
                f"layout {self.name}: expected the video's class folder (its tree is "
                f"{template!r}), got none"
            )
        return template.format(split=split, Split=split.capitalize(), **{"class": class_folder})

    def path(
        self, stream: str, split: str, stem: str, crop: int = 0, class_folder: str = ""
    ) -> str:
        """The path of crop ``crop`` of video ``stem`` under the tree root (``/``-separated):
        :meth:`folder_of` plus the file name (``crop0_file`` for crop 0 when declared)."""
        name = self.crop0_file if crop == 0 and self.crop0_file else self.file
        name = name.replace("{stem}", stem).replace("{crop}", str(crop))
        folder = self.folder_of(stream, split, class_folder)
        return f"{folder}/{name}" if folder else name

    def root(self, stream: str) -> str:
        """The folder every ``stream`` file lies under in both upstream splits: the literal
        leading folders their templates share ('' when none; ``vggish-features`` for XD's
        VGGish)."""
        literal = []
        for split in self.UPSTREAM_SPLITS:
            template = self._template(stream, split)
            parts = template.split("/") if template else []
            literal.append(parts[: next((i for i, p in enumerate(parts) if "{" in p), len(parts))])
        shared = []
        for a, b in zip(*literal):
            if a != b:
                break
            shared.append(a)
        return "/".join(shared)

    @property
    def class_folders(self) -> bool:
        """The release keeps each video's files in a folder named after its class (``{class}``
        in the tree)."""
        return any("{class}" in t for _, t in self.tree)

    @property
    def per_crop(self) -> bool:
        """One file per crop (``crops == "files"``)."""
        return self.crops == CROP_FILES

    @property
    def video_crops(self) -> bool:
        """One ``[T, C, D]`` file per video (``crops == "axis"``)."""
        return self.crops == CROP_AXIS

    @property
    def templates(self) -> tuple[str, ...]:
        """The file-name templates this layout's files follow (crop 0's first when it differs)."""
        return (self.crop0_file, self.file) if self.crop0_file else (self.file,)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str = "layout") -> Layout:
        """A layout from a mapping (a user's YAML layout file), validated strictly against this
        dataclass's fields (:func:`var_bench.readback.validate`: unknown keys, a non-string
        name, ``flow: 'no'`` or ``dim: true`` are refused in one line naming the field)."""
        from var_bench.readback import validate

        return validate(cls, raw, where)


@dataclass(frozen=True, eq=False)  # identity: one object per collection
class VideoCollection:
    """A collection of source videos (UCF-Crime, XD-Violence) that benchmarks are built on.

    Facts about the videos themselves, shared by every benchmark over them: ``fps`` (frames per
    second, for seconds <-> frames), the raw feature ``layouts`` of the public releases (the video
    layouts, the first the default, and the query-side audio layout, if any), the streams and crops
    per video of the public release, and the frames per snippet of the public features. Feature
    stores are kept per collection (``<home>/features/<collection>/``).
    """

    name: str
    title: str
    fps: float = 30.0
    layouts: tuple[Layout, ...] = ()
    #: Streams of the public feature release (UCF-Crime's I3D release is RGB only).
    public_streams: tuple[str, ...] = ("rgb",)
    #: Crops per video of the public feature release (10 for UCF-Crime I3D, 5 for XD-Violence).
    upstream_crops: int = 1
    #: Frames per snippet of the public features.
    snippet_frames: int = DEFAULT_SNIPPET_FRAMES

    @property
    def video_layouts(self) -> tuple[Layout, ...]:
        return tuple(lay for lay in self.layouts if not lay.audio)

    @property
    def audio_layout(self) -> Layout | None:
        return next((lay for lay in self.layouts if lay.audio), None)


@dataclass(frozen=True, eq=False)  # identity: one spec object per benchmark, usable as a cache key
class BenchmarkSpec:
    """Facts about one benchmark. Counts are numbers of videos; ``version`` is the built data's.

    ``tasks``: what the benchmark is scored on (task instances, :mod:`var_bench.tasks`), the
    default first; ``var-bench score --task NAME`` picks another. Anomaly classes, the upstream
    class counts and a validation split carved from train are optional facts of a benchmark
    built on an anomaly-detection dataset.
    """

    name: str
    title: str
    version: str
    query_modality: str
    gallery_modality: str
    tasks: tuple[Task, ...]
    sources: Mapping[str, str]
    citation: str
    paper: str
    license_note: str
    #: Videos per class and upstream split (train, test), for the build's checks; {}: not stated.
    upstream_class_counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: Classes, in display order (the normal class among them); (): no classes.
    classes: tuple[str, ...] = ()
    normal_class: str | None = None
    columns: tuple[ColumnSpec, ...] = ()
    #: Assembler: ``f(spec, raw_paths_by_role, validation_rule or None) -> kit.Assembled``, or a
    #: lazy ``"module:function"`` reference (keeps importing the registry light; a built-in unit
    #: names its own ``<unit>.assemble:assemble``).
    assembler: Callable[..., Any] | str | None = None
    #: The video collection the benchmark is built on (its raw feature layouts, frame rate, public
    #: release): feature stores are kept per collection, so benchmarks over the same videos share
    #: one. None: a collection of the benchmark's own name with the defaults.
    videos: VideoCollection | None = None
    #: Caption column used as the text query (None for an audio-query benchmark).
    text_column: str | None = None
    #: Package holding ``splits.json`` (rule + id-list checksums) and ``published.json``.
    package: str | None = None
    #: Or a folder holding them: a benchmark declared outside any package (a plug-in, a test).
    resource_dir: str | None = None
    class_codes: Mapping[str, str] = field(default_factory=dict)

    def source(self, role: str) -> SourceFile:
        """The pinned upstream file playing ``role`` (e.g. ``captions_train``)."""
        try:
            return self.sources[role]
        except KeyError:
            raise InputError(
                f"{self.name}: expected a source role among {', '.join(self.sources)}, got {role!r}"
            ) from None

    @property
    def resource_location(self) -> str:
        """Where the benchmark's resource files live (its folder or package), for messages."""
        return self.resource_dir or self.package or "(nowhere)"

    def resource_text(self, name: str) -> str:
        """The text of a file shipped with the benchmark (``splits.json``, ...): from
        ``resource_dir`` when set, else from the package ``package``."""
        if self.resource_dir is not None:
            path = Path(self.resource_dir) / name
            if not path.is_file():
                raise InputError(f"{self.name}: expected {name} in {self.resource_dir}, found none")
            return path.read_text("utf-8")
        if self.package is None:
            raise InputError(
                f"{self.name}: no package or resource folder declared, so no {name} is shipped"
            )
        return resources.files(self.package).joinpath(name).read_text("utf-8")

    def resolve_assembler(self) -> Callable[..., Any]:
        """The assembler as a callable (importing a lazy ``module:function`` reference)."""
        ref = self.assembler
        if ref is None:
            raise InputError(f"{self.name}: the benchmark declares no assembler")
        if callable(ref):
            return ref
        module, _, attr = str(ref).partition(":")
        return getattr(import_module(module), attr)

    def __post_init__(self) -> None:
        if self.videos is None:
            object.__setattr__(self, "videos", VideoCollection(self.name, self.title))
        if not self.tasks:
            raise InputError(f"benchmark {self.name}: expected at least one task, got none")
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise InputError(
                f"benchmark {self.name}: expected distinct task names, got {', '.join(names)}"
            )

    def task(self, name: str | None = None) -> Task:
        """The task called ``name`` (None: the default, the first).

        Raises:
            InputError: the benchmark has no task of that name (the message lists its tasks).
        """
        if name is None:
            return self.tasks[0]
        for t in self.tasks:
            if t.name == name:
                return t
        raise InputError(
            f"{self.name}: expected a task among {', '.join(t.name for t in self.tasks)}"
            f", got {name!r}"
        )

    # The collection's facts, read through the benchmark (they live in the collection only).
    @property
    def layouts(self) -> tuple[Layout, ...]:
        return self.videos.layouts

    @property
    def video_layouts(self) -> tuple[Layout, ...]:
        return self.videos.video_layouts

    @property
    def audio_layout(self) -> Layout | None:
        return self.videos.audio_layout

    @property
    def public_streams(self) -> tuple[str, ...]:
        return self.videos.public_streams

    @property
    def upstream_crops(self) -> int:
        return self.videos.upstream_crops

    @property
    def snippet_frames(self) -> int:
        return self.videos.snippet_frames

    @property
    def fps(self) -> float:
        return self.videos.fps

    @property
    def query_is_text(self) -> bool:
        return self.query_modality == "text"

    @property
    def upstream_counts(self) -> dict[str, int]:
        """Videos per upstream split (train, test): the sums of ``upstream_class_counts``."""
        return {split: sum(c.values()) for split, c in self.upstream_class_counts.items()}

    @property
    def test_videos(self) -> int | None:
        """Videos of the upstream test split (None: not stated)."""
        return self.upstream_counts.get("test")


def frozen(mapping: Mapping) -> Mapping:
    """A read-only (recursively) view of ``mapping``: specs are shared, nobody may edit them."""
    return MappingProxyType(
        {k: frozen(v) if isinstance(v, dict) else v for k, v in mapping.items()}
    )
