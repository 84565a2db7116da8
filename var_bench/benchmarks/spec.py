"""The types a benchmark unit is declared with: :class:`BenchmarkSpec`, :class:`Direction`,
:class:`ColumnSpec` and :class:`Layout` (pure data; no benchmark lives here).

A :class:`BenchmarkSpec` carries every fact about one benchmark: its retrieval directions,
modalities, expected counts, classes, the pinned upstream files, the column schema, its raw
feature layouts and streams, the snippet length, the package holding its split rule, checksums
and published table, and what to cite. Generic code (assembly, feature store, loaders, scoring,
leaderboard, models) reads these fields instead of keying on a benchmark's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module, resources
from types import MappingProxyType
from typing import Any, Callable, Mapping

from var_bench.benchmarks.sources import SourceFile
from var_bench.errors import InputError

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


@dataclass(frozen=True)
class Layout:
    """One raw feature layout: its file-name pattern and array shape.

    ``pattern``: a key of the feature stage's file-name patterns (``crop``, ``i3d``, ``vggish``).
    ``per_crop``: one ``[T, D]`` file per crop (else one file per video, ``[T, C, D]`` when
    ``video_crops`` else ``[T, D]``). ``dim``: the feature dimension D. ``flow``: a Flow tree of
    the same layout exists upstream. ``class_folders``: files sit in ``<Class>/`` folders upstream.
    """

    name: str
    pattern: str
    dim: int
    per_crop: bool
    video_crops: bool
    audio: bool = False
    flow: bool = False
    #: The upstream release keeps each video's files in a folder named after its class.
    class_folders: bool = False


@dataclass(frozen=True)
class Direction:
    """One retrieval direction over the submission matrix S (rows = queries of the first direction).

    ``over_rows`` True: each row of S is one query ranking the columns (``t2v``, ``a2v``);
    False: each column of S is one query ranking the rows (``v2t``, ``v2a``).
    """

    name: str
    query: str
    gallery: str
    over_rows: bool

    @property
    def arrow(self) -> str:
        """Display name as the paper writes it, e.g. ``T->V``."""
        return f"{self.query[0].upper()}->{self.gallery[0].upper()}"


@dataclass(frozen=True, eq=False)  # identity: one spec object per benchmark, usable as a cache key
class BenchmarkSpec:
    """Facts about one benchmark. Counts are numbers of videos; ``version`` is the built data's."""

    name: str
    title: str
    version: str
    query_modality: str
    gallery_modality: str
    directions: tuple[Direction, Direction]
    upstream_class_counts: Mapping[str, Mapping[str, int]]
    classes: tuple[str, ...]
    normal_class: str
    sources: Mapping[str, str]
    citation: str
    paper: str
    license_note: str
    columns: tuple[ColumnSpec, ...] = ()
    #: Assembler: ``f(spec, raw_paths_by_role, validation_rule) -> Assembled``, or a lazy
    #: ``"module:function"`` reference (keeps importing the registry light).
    assembler: Callable[..., Any] | str | None = None
    #: Raw feature layouts: the video layouts (the first is the default) and the query-side
    #: (audio) layout, if any.
    layouts: tuple[Layout, ...] = ()
    #: Streams of the public feature release (UCF-Crime's I3D release is RGB only).
    public_streams: tuple[str, ...] = ("rgb",)
    #: Crops per video of the public feature release (10 for UCF-Crime I3D, 5 for XD-Violence).
    upstream_crops: int = 1
    #: Frames per snippet of the public features.
    snippet_frames: int = DEFAULT_SNIPPET_FRAMES
    #: Frame rate of the videos (frames per second), for seconds <-> frames.
    fps: float = 30.0
    #: Caption column used as the text query (None for an audio-query benchmark).
    text_column: str | None = None
    #: Package holding ``splits.json`` (rule + id-list checksums) and ``published.json``.
    package: str | None = None
    class_codes: Mapping[str, str] = field(default_factory=dict)
    val_fraction_denominator: int = 10

    def source(self, role: str) -> SourceFile:
        """The pinned upstream file playing ``role`` (e.g. ``captions_train``)."""
        try:
            return self.sources[role]
        except KeyError:
            raise InputError(f"{self.name}: expected a source role among {', '.join(self.sources)}, "
                             f"got {role!r}") from None

    def resource_text(self, name: str) -> str:
        """The text of a file shipped in the benchmark's package (``splits.json``, ...)."""
        if self.package is None:
            raise InputError(f"{self.name}: no package declared, so no {name} is shipped")
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

    @property
    def video_layouts(self) -> tuple[Layout, ...]:
        return tuple(lay for lay in self.layouts if not lay.audio)

    @property
    def audio_layout(self) -> Layout | None:
        return next((lay for lay in self.layouts if lay.audio), None)

    @property
    def query_is_text(self) -> bool:
        return self.query_modality == "text"

    @property
    def direction_names(self) -> tuple[str, str]:
        return (self.directions[0].name, self.directions[1].name)

    def direction(self, name: str) -> Direction:
        for d in self.directions:
            if d.name == name:
                return d
        raise InputError(
            f"unknown direction for {self.name}: expected one of {', '.join(self.direction_names)}, "
            f"got {name!r}"
        )

    @property
    def upstream_counts(self) -> dict[str, int]:
        """Videos per upstream split (train, test): the sums of ``upstream_class_counts``."""
        return {split: sum(c.values()) for split, c in self.upstream_class_counts.items()}

    @property
    def test_size(self) -> int:
        """N: the test split has N queries and N gallery items, one positive each."""
        return self.upstream_counts["test"]




def frozen(mapping: Mapping) -> Mapping:
    """A read-only (recursively) view of ``mapping``: specs are shared, nobody may edit them."""
    return MappingProxyType(
        {k: frozen(v) if isinstance(v, dict) else v for k, v in mapping.items()}
    )
