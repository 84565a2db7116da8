"""``extraction.json``: the identity of features made by ``var-bench extract``, as the store sees
it.

The extract stage writes ``extraction.json`` at the root of each tree it makes
(``{"identity": {...}, "videos": {stem: {...}}}``); ``build`` reads the identities of the trees it
ingests (:func:`tree_identities`), copies them into the store (``<store>/extraction.json``, stream
-> identity) and treats random-weight features like synthetic ones. The file name and the
``random_weights`` flag are defined here, the lower stage, so both sides share one source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from var_bench.errors import InputError

EXTRACTION_FILE = "extraction.json"
#: Identity key that marks features made with random-initialised weights (tests, dry runs).
RANDOM_WEIGHTS = "random_weights"


class ExtractionIdentity(TypedDict, total=False):
    """The identity keys the store reads (every other key is kept as written)."""

    model: str
    stream: str
    dim: int
    snippet_frames: int
    random_weights: bool
    weights: dict[str, Any]
    benchmark: str


@dataclass
class ExtractionFile:
    """The schema ``extraction.json`` is read back with (:func:`var_bench.readback.validate`):
    the tree's ``identity`` and its ``videos`` (stem -> counts)."""

    identity: ExtractionIdentity
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frames = self.identity.get("snippet_frames")
        if frames is not None and frames < 1:
            raise InputError(f"field identity.snippet_frames: expected >= 1, got {frames}")


def read_extraction(path: Path) -> dict:
    """The parsed ``extraction.json`` at ``path``, validated against :class:`ExtractionFile`
    (one-line error naming the file and the field); returned as written."""
    from var_bench.readback import read_json, validate

    try:
        data = read_json(path, "extraction.json")
    except OSError as e:
        raise InputError(
            f"{path}: expected the JSON written by var-bench extract, got {e}"
        ) from None
    validate(ExtractionFile, data, path)
    return data


def tree_identities(roots: list[Path]) -> dict[str, dict]:
    """Stream -> identity of every ``extraction.json`` at a root or one folder below it (the
    extract stage puts Flow under ``Flow/`` and VGGish under ``VGGish/``)."""
    found: dict[str, dict] = {}
    for root in roots:
        root = Path(root)
        for path in [root / EXTRACTION_FILE, *sorted(root.glob(f"*/{EXTRACTION_FILE}"))]:
            if path.is_file():
                ident = read_extraction(path)["identity"]
                found.setdefault(str(ident.get("stream", "rgb")), ident)
    return found


def random_marker(identities: dict[str, dict]) -> dict | None:
    """A synthetic-store marker when any identity was made with random weights, else None."""
    random = [s for s, ident in identities.items() if ident.get(RANDOM_WEIGHTS)]
    if not random:
        return None
    return {
        "generator": "var_bench.extract with random weights (" + ", ".join(random) + ")",
        "seed": identities[random[0]].get("weights", {}).get("seed"),
        "snippet_frames": identities[random[0]].get("snippet_frames"),
    }


def read_store_identities(store: Path) -> dict[str, dict] | None:
    """Stream -> identity copied into a built store, None when the store has none."""
    from var_bench.readback import read_json, validate

    path = Path(store) / EXTRACTION_FILE
    if not path.is_file():
        return None
    try:
        data = read_json(path, "extraction.json")
    except OSError as e:
        raise InputError(f"{path}: expected a readable extraction.json, got {e}") from None
    validate(dict[str, ExtractionIdentity], data, path)
    return data


def identity_line(stream: str, ident: dict) -> str:
    """One Markdown line naming what made a stream (for the store card's notes)."""
    w = ident.get("weights") or {}
    weights = (
        "random-initialised weights (not for results)"
        if ident.get(RANDOM_WEIGHTS)
        else f"weights {w.get('file')} sha256 {w.get('sha256')}"
    )
    flow = ident.get("flow") or {}
    parts = [
        f"model {ident.get('model')}",
        weights,
        f"recipe {ident.get('recipe', {}).get('name')}",
        f"fps {ident.get('fps') or 'native'}",
        f"short side {ident.get('resize')}",
        f"{ident.get('crops')} crops",
        f"{ident.get('snippet_frames')}-frame snippets",
    ]
    if flow:
        parts.append(f"flow {flow.get('method')}")
    dec = ident.get("decoder") or {}
    if dec:
        parts.append(f"decoder {dec.get('name')} {dec.get('version')}")
    parts.append(f"precision {ident.get('precision')}")
    return f"{stream}: extracted by var-bench extract ({', '.join(parts)})"


def identity_notes(identities: dict[str, dict]) -> list[str]:
    """The card notes for the extraction identities (one per stream)."""
    return [identity_line(s, identities[s]) for s in sorted(identities)]
