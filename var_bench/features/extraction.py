"""``extraction.json``: the identity of features made by ``var-bench extract``, as the store sees
it.

The extract stage writes ``extraction.json`` at the root of each tree it makes
(``{"identity": {...}, "videos": {stem: {...}}}``); ``build`` reads the identities of the trees it
ingests (:func:`tree_identities`), copies them into the store (``<store>/extraction.json``, stream
-> identity) and treats random-weight features like synthetic ones. The file name and the
``random_weights`` flag are defined here, the lower stage, so both sides share one source.
"""

from __future__ import annotations

import json
from pathlib import Path

from var_bench.errors import InputError

EXTRACTION_FILE = "extraction.json"
#: Identity key that marks features made with random-initialised weights (tests, dry runs).
RANDOM_WEIGHTS = "random_weights"


def read_extraction(path: Path) -> dict:
    """The parsed ``extraction.json`` at ``path`` (one-line error when it does not parse)."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(
            f"{path}: expected the JSON written by var-bench extract, it does not parse ({e})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("identity"), dict):
        raise InputError(f"{path}: expected a JSON object with an 'identity' object")
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
    path = Path(store) / EXTRACTION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
