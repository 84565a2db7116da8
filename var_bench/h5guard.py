"""HDF5 files from others are read from the file given and nothing else.

HDF5 resolves three kinds of object by opening *other* files on its own: external links
(``h5py.ExternalLink``), virtual datasets (a layout mapping other files' datasets) and datasets with
external raw storage (byte segments of arbitrary files, e.g. ``/etc/passwd``). A hosted scorer
that followed them would read any file it can read, and the per-query ranks it publishes would
leak those bytes (red-team F-1). :func:`check_self_contained` walks every link of a file without
resolving it and refuses, in one :class:`~var_bench.errors.InputError` line naming the object:

- any link that is not a hard link (external links; soft links too, dangling or not: nothing we
  write uses them, and they are how a file would alias objects behind a check);
- any dataset with a virtual layout or external storage.

Call it right after opening, before touching any dataset's data.
"""

from __future__ import annotations

from typing import Any

from var_bench.errors import InputError

#: Objects walked at most: bounds the work a hostile file can ask for (a feature export of the
#: largest benchmark has ~5 000 videos x 4 objects).
MAX_OBJECTS = 200_000


def check_self_contained(f: Any, label: str) -> None:
    """Refuse ``f`` (an open ``h5py.File``) unless every object lives in the file itself."""
    import h5py

    seen: set = set()
    count = 0
    stack = [("", f)]
    while stack:
        prefix, group = stack.pop()
        key = _object_key(group)
        if key in seen:
            continue
        seen.add(key)
        for name in list(group.keys()):
            count += 1
            if count > MAX_OBJECTS:
                raise InputError(f"{label}: expected at most {MAX_OBJECTS} HDF5 objects, got more")
            where = f"{prefix}/{name}"
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise InputError(
                    f"{label}: refused HDF5 external link {where} -> "
                    f"{link.filename}:{link.path} (the file must hold its own data)"
                )
            if isinstance(link, h5py.SoftLink):
                raise InputError(
                    f"{label}: refused HDF5 soft link {where} -> {link.path} "
                    f"(expected hard links only)"
                )
            if not isinstance(link, h5py.HardLink):
                raise InputError(
                    f"{label}: refused HDF5 link {where} of kind {type(link).__name__}"
                )
            obj = group.get(name)
            if isinstance(obj, h5py.Group):
                stack.append((where, obj))
            elif isinstance(obj, h5py.Dataset):
                check_dataset(obj, f"{label}[{where!r}]")


def check_dataset(ds: Any, label: str) -> None:
    """Refuse a virtual dataset or one whose bytes are stored in other files."""
    if ds.is_virtual:
        sources = ", ".join(sorted({s.file_name for s in ds.virtual_sources()}))[:200]
        raise InputError(
            f"{label}: refused HDF5 virtual dataset (maps data of {sources or 'other files'})"
        )
    if ds.id.get_create_plist().get_external_count() > 0:
        raise InputError(
            f"{label}: refused HDF5 dataset with external storage (its bytes live in other files)"
        )


def _object_key(obj: Any) -> Any:
    try:
        return hash(obj.id)  # h5py hashes an ObjectID by (file, object address)
    except Exception:  # pragma: no cover - h5py internals differ by version
        return id(obj)
