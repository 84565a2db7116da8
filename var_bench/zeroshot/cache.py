"""The embedding cache: per-video frame embeddings on disk, so a rerun encodes nothing.

An entry is keyed by two digests:

- the **model key**: sha256 of the JSON of (model id, weights revision or sha256, the whole
  sampling manifest, the var_bench version); it names a folder ``<root>/<model key[:16]>/``
  (with ``key.json`` saying what it stands for), so changing any of these re-encodes every video
  and nothing else is confused with it;
- the **video key**: sha256 of (absolute path, size in bytes, mtime in ns) under
  ``identity="stat"`` (the default: no reading), or of the file's bytes under
  ``identity="sha256"`` (survives copies and ``touch``); it names the file
  ``<video key>.npz`` holding the ``(T, d)`` float32 frame embeddings (``emb``) and, when known,
  each frame's time in seconds (``times``). A changed video misses alone.

Writes are atomic (a crash leaves no half entry); a corrupt entry is a miss and is rewritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.fsutil import atomic_path, atomic_write_text, sha256_file

log = logging.getLogger(__name__)

IDENTITIES = ("stat", "sha256")


def model_key(sampling: Any, toolkit: str | None = None) -> dict[str, Any]:
    """The model key's fields: model id, weights, the manifest and the toolkit version."""
    from var_bench._version import __version__

    manifest = sampling.to_json() if hasattr(sampling, "to_json") else dict(sampling)
    return {
        "model_id": manifest["model_id"],
        "weights": manifest["weights"],
        "sampling": manifest,
        "var_bench": toolkit or __version__,
    }


def digest_of(obj: Any) -> str:
    """sha256 of ``obj`` as canonical JSON (sorted keys, no spaces).

    >>> digest_of({"b": 1, "a": [1, 2]})[:12]
    '94a786c3662b'
    """
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def video_key(path: str | os.PathLike, identity: str = "stat") -> str:
    """The video key of the file at ``path`` (module docstring)."""
    p = Path(path)
    if identity == "sha256":
        return digest_of(["sha256", sha256_file(p)])
    if identity != "stat":
        raise InputError(
            f"cache identity: expected one of {', '.join(IDENTITIES)}, got {identity!r}"
        )
    st = p.stat()
    return digest_of(["stat", str(p.resolve()), st.st_size, st.st_mtime_ns])


@dataclass
class EmbeddingCache:
    """Frame embeddings of one model key under ``root`` (None: a cache that stores nothing).

    ``hits`` / ``misses`` count lookups since construction.
    """

    root: Path | None
    key: dict[str, Any]
    identity: str = "stat"
    hits: int = 0
    misses: int = 0
    _folder: Path | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.identity not in IDENTITIES:
            raise InputError(
                f"cache identity: expected one of {', '.join(IDENTITIES)}, got {self.identity!r}"
            )
        if self.root is not None:
            self.root = Path(self.root)
            self._folder = self.root / digest_of(self.key)[:16]

    @property
    def folder(self) -> Path | None:
        """``<root>/<model key[:16]>`` (None without a root)."""
        return self._folder

    def entry(self, video: str | os.PathLike) -> Path | None:
        """The file an entry of ``video`` lives in (None without a root)."""
        if self._folder is None:
            return None
        return self._folder / f"{video_key(video, self.identity)}.npz"

    def get(self, video: str | os.PathLike) -> np.ndarray | None:
        """The cached ``(T, d)`` embeddings of ``video``, or None (a miss)."""
        found = self.get_entry(video)
        return None if found is None else found[0]

    def get_entry(self, video: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The cached ``(embeddings, times or None)`` of ``video``, or None (a miss)."""
        path = self.entry(video)
        if path is not None and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    emb = z["emb"]
                    times = z["times"] if "times" in z.files else None
            except (OSError, ValueError, KeyError) as e:
                log.warning("embedding cache: %s unreadable (%s), encoding again", path, e)
            else:
                if emb.ndim == 2 and emb.dtype == np.float32:
                    self.hits += 1
                    return emb, times
        self.misses += 1
        return None

    def put(
        self, video: str | os.PathLike, emb: np.ndarray, times: np.ndarray | None = None
    ) -> None:
        """Store ``video``'s ``(T, d)`` embeddings and the frames' times in seconds (atomically;
        nothing without a root)."""
        path = self.entry(video)
        if path is None:
            return
        keyfile = path.parent / "key.json"
        if not keyfile.is_file():
            atomic_write_text(keyfile, json.dumps(self.key, indent=1, sort_keys=True) + "\n")
        arrays = {"emb": np.ascontiguousarray(emb, dtype=np.float32)}
        if times is not None:
            arrays["times"] = np.asarray(times, dtype=np.float64)
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, **arrays)
