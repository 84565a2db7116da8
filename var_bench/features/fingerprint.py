"""Content fingerprints of feature sets: per file, per stream, per store.

Definitions (docs/features.md, "Fingerprint"):

- a **file line** is ``<file name>\\t<shape>\\t<dtype>\\t<h>`` with ``h`` the first 16 hex digits
  of sha256 over the file's first :data:`HEAD_ROWS` rows (axis 0) as stored (raw bytes after the
  ``.npy`` header). Only the file name counts, never its folder, so two copies of a release
  arranged in other folders (or addressed through a list file) have the same lines;
- a **stream digest** is sha256 over the stream's sorted file lines, one per line, each ending in
  ``\\n``; it covers the files of the videos the store holds (or, for a folder, of the videos of
  the benchmark found in it);
- the **set digest** (``features_digest``) is sha256 over the sorted ``<stream>=<stream digest>``
  lines: the whole feature set, the key a leaderboard groups results by.

Changing one value in the first rows of any file, a shape, a dtype or the set of files changes the
digest; values past the first rows are not hashed (reading a 35 GB release twice is what the
fingerprint avoids), so it identifies a release, it does not verify every byte of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text

#: Rows hashed at the start of every file.
HEAD_ROWS = 4
#: File of a store holding its fingerprint.
FINGERPRINT_FILE = "fingerprint.json"
#: File of a benchmark unit listing known fingerprints (beside splits.json).
KNOWN_FILE = "fingerprints.json"
FORMAT = 1


def file_line(name: str, shape: Sequence[int], dtype: str, head: bytes) -> str:
    """One file's fingerprint line (see the module docstring)."""
    return f"{name}\t{'x'.join(map(str, shape))}\t{dtype}\t{hashlib.sha256(head).hexdigest()[:16]}"


def digest_lines(lines: Iterable[str]) -> str:
    """sha256 over the sorted lines, each ending in a newline."""
    h = hashlib.sha256()
    for line in sorted(lines):
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


@dataclass
class StreamFingerprint:
    """One stream: its digest, layout, number of files, D and dtypes, and the file lines."""

    digest: str
    layout: str
    files: int
    dim: int | None
    dtypes: list[str]
    lines: list[str] = field(default_factory=list, repr=False)


@dataclass
class Fingerprint:
    """A feature set: ``digest`` (the set digest) and ``streams`` (stream -> fingerprint)."""

    digest: str
    streams: dict[str, StreamFingerprint]
    format: int = FORMAT

    @classmethod
    def from_lines(
        cls,
        lines: Mapping[str, Sequence[str]],
        layouts: Mapping[str, str],
        dims: Mapping[str, int | None],
    ) -> Fingerprint:
        streams = {}
        for s, ls in lines.items():
            dtypes = sorted({ln.split("\t")[2] for ln in ls})
            streams[s] = StreamFingerprint(
                digest_lines(ls), layouts.get(s, ""), len(ls), dims.get(s), dtypes, sorted(ls)
            )
        return cls(set_digest({s: f.digest for s, f in streams.items()}), streams)

    def to_dict(self, with_lines: bool = True) -> dict:
        d = asdict(self)
        if not with_lines:
            for s in d["streams"].values():
                s.pop("lines")
        return d

    @classmethod
    def from_dict(cls, raw: Mapping) -> Fingerprint:
        try:
            streams = {s: StreamFingerprint(**v) for s, v in raw["streams"].items()}
            return cls(str(raw["digest"]), streams, int(raw.get("format", FORMAT)))
        except (KeyError, TypeError, AttributeError) as e:
            raise InputError(
                f"fingerprint: expected digest and streams, got {type(e).__name__}: {e}"
            ) from None

    def write(self, folder: Path) -> None:
        atomic_write_text(
            Path(folder) / FINGERPRINT_FILE, json.dumps(self.to_dict(), indent=1) + "\n"
        )

    @classmethod
    def read(cls, folder: Path) -> Fingerprint | None:
        path = Path(folder) / FINGERPRINT_FILE
        if not path.is_file():
            return None
        from var_bench.readback import read_json, validate

        try:
            raw = read_json(path, "fingerprint")
        except OSError as e:
            raise InputError(f"{path}: expected a readable fingerprint JSON, got {e}") from None
        return validate(cls, raw, path)


def set_digest(stream_digests: Mapping[str, str]) -> str:
    """The set digest over ``<stream>=<digest>`` lines."""
    return digest_lines(f"{s}={d}" for s, d in stream_digests.items())


@dataclass(frozen=True)
class KnownFingerprint:
    """One entry of a benchmark's ``fingerprints.json``: a published release of one stream."""

    name: str
    stream: str
    digest: str
    files: int | None = None
    layout: str | None = None
    source: str | None = None


def parse_known(text: str, where: str = KNOWN_FILE) -> list[KnownFingerprint]:
    """Entries of a ``fingerprints.json`` (a JSON list of objects with name, stream, digest)."""
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise InputError(f"{where}: expected a JSON list, it does not parse ({e})") from None
    if not isinstance(raw, list):
        raise InputError(
            f"{where}: expected a JSON list of known fingerprints, got {type(raw).__name__}"
        )
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(KnownFingerprint(**item))
        except TypeError as e:
            raise InputError(
                f"{where} entry {i + 1}: expected name, stream, digest (optional "
                f"files, layout, source), got {item!r} ({e})"
            ) from None
    return out


def known_fingerprints(spec) -> list[KnownFingerprint]:
    """The known fingerprints shipped in ``spec``'s unit ([] when it ships none)."""
    try:
        text = spec.resource_text(KNOWN_FILE)
    except (InputError, OSError):
        return []
    return parse_known(text, f"{spec.name} {KNOWN_FILE}")


def compare(
    fp: Fingerprint, known: Sequence[KnownFingerprint]
) -> dict[str, KnownFingerprint | None]:
    """Stream -> the known release its digest equals (None: no known release matches)."""
    by_digest = {(k.stream, k.digest): k for k in known}
    any_stream = {k.digest: k for k in known}
    return {
        s: by_digest.get((s, f.digest)) or any_stream.get(f.digest) for s, f in fp.streams.items()
    }


def match_lines(fp: Fingerprint, known: Sequence[KnownFingerprint], benchmark: str) -> list[str]:
    """One line per stream: "rgb matches the <release>" or says that none matches."""
    found = compare(fp, known)
    out = []
    for s, k in found.items():
        if k is not None:
            out.append(f"{s} matches the {k.name}")
        else:
            n = sum(1 for x in known if x.stream == s)
            out.append(
                f"{s} matches no known {benchmark} release ({n} known for {s}; "
                f"digest {fp.streams[s].digest[:16]})"
            )
    return out


def fingerprint_index(index: Mapping, stems: Iterable[str] | None = None) -> Fingerprint:
    """The fingerprint of indexed raw trees (stream -> ``StreamIndex``), over the videos of
    ``stems`` (default: every video found). The same lines a build writes for those videos."""
    from var_bench.features.readers import video_headers

    keep = None if stems is None else set(stems)
    lines: dict[str, list[str]] = {}
    for s, ix in index.items():
        out = lines.setdefault(s, [])
        for stem in sorted(ix.files):
            if keep is not None and stem not in keep:
                continue
            for h in video_headers(ix, stem, HEAD_ROWS):
                out.append(file_line(h.path.name, h.shape, h.dtype.str, h.head))
    return Fingerprint.from_lines(
        lines,
        {s: ix.layout.name for s, ix in index.items()},
        {s: ix.dim for s, ix in index.items()},
    )


def fingerprint_target(
    target,
    benchmark=None,
    *,
    flow=None,
    audio=None,
    streams=None,
    layout: str = "auto",
    layout_file=None,
    lists=None,
    home=None,
) -> tuple[Fingerprint, list[str]]:
    """``var-bench fingerprint``: a store's recorded fingerprint (a folder with ``manifest.json``)
    or a raw folder's, computed with ``benchmark``'s layouts over the benchmark's videos (all
    videos found when its metadata is not built). Returns it with one match line per stream
    against the benchmark's known fingerprints."""
    from var_bench.benchmarks import get_benchmark
    from var_bench.features.manifest import MANIFEST, FeatureManifest

    target = Path(target)
    if (target / MANIFEST).is_file():
        m = FeatureManifest.read(target)
        fp = Fingerprint.read(target)
        if m is None or fp is None:
            raise InputError(
                f"{target}: expected a feature store of this var_bench (manifest.json "
                f"and {FINGERPRINT_FILE}), found an older or broken one; rebuild it"
            )
        spec = get_benchmark(m.benchmark)
        return fp, match_lines(fp, known_fingerprints(spec), spec.name)
    if benchmark is None:
        raise InputError(
            f"{target}: expected --benchmark NAME for a raw feature folder (it has "
            f"no manifest.json, so it is not a store)"
        )
    from var_bench.features.layouts import index_streams, load_layout_file

    spec = get_benchmark(benchmark)
    user = load_layout_file(layout_file) if layout_file is not None else ()
    index = index_streams(
        spec,
        target,
        None if flow is None else Path(flow),
        None if audio is None else Path(audio),
        layout,
        streams={k: Path(v) for k, v in (streams or {}).items()},
        user_layouts=user,
        lists=lists,
    )
    stems = None
    from var_bench.data.prepare import ids
    from var_bench.errors import NotBuiltError

    try:
        stems = [
            v
            for s in ("train", "val", "test")
            for v in ids(spec.name, s, home=home, download=False)
        ]
    except NotBuiltError:  # no metadata build: fingerprint every video found
        stems = None
    fp = fingerprint_index(index, stems)
    lines = match_lines(fp, known_fingerprints(spec), spec.name)
    if stems is None:
        lines.append(
            f"(metadata of {spec.name} not built: every video found was fingerprinted, "
            f"a store holds only the benchmark's)"
        )
    return fp, lines
