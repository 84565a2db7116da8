"""Reading back the files the toolkit (or a user) wrote: one declared schema per file type.

Every file read back (``index.json``, ``extraction.json``, manifests, layouts, sweep grids, list
files, records) goes through here: a regular file only (a FIFO or a device is refused before it is
opened), at most :func:`~var_bench.limits.bound` ``("readback_bytes")`` bytes, UTF-8, then parsed
(JSON / YAML) and validated against the file type's schema with pydantic (:func:`validate`), so a
tampered or truncated field is one :class:`~var_bench.errors.InputError` line naming the file and
the field. The schema is the file type's own dataclass (its annotations are the fields and types,
validated strictly: no ``"no"`` for a boolean, no ``true`` for an integer, no NaN); constraints
beyond types go in ``Annotated[..., pydantic.Field(...)]`` or the dataclass's ``__post_init__``.
Paths named inside such files are confined to their folder (:func:`confined`).

>>> from dataclasses import dataclass
>>> @dataclass
... class Point:
...     x: int
...     label: str = ""
>>> validate(Point, {"x": 3}, "p.json")
Point(x=3, label='')
>>> try:
...     validate(Point, {"x": True}, "p.json")
... except InputError as e:
...     print(e)
p.json: field x: expected a valid integer, got True
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import stat
from pathlib import Path
from typing import Any, TypeVar

from var_bench.errors import InputError
from var_bench.limits import bound, refuse

T = TypeVar("T")

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def require_regular(path: str | os.PathLike, what: str) -> os.stat_result:
    """The ``stat`` of ``path`` (links followed) when it is a regular file; InputError naming
    what it is otherwise (a FIFO would block the reader forever). FileNotFoundError passes."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise InputError(f"{what}: expected a regular file, {path} is {kind}")
    return st


def read_bytes(path: str | os.PathLike, what: str) -> bytes:
    """The bytes of a regular file of at most the ``readback_bytes`` bound."""
    st = require_regular(path, what)
    if st.st_size > bound("readback_bytes"):
        raise refuse("readback_bytes", f"{what} {path}", f"{st.st_size} bytes")
    with open(path, "rb") as f:
        return f.read(bound("readback_bytes") + 1)


def read_text(path: str | os.PathLike, what: str, encoding: str = "utf-8") -> str:
    """The text of a regular, bounded, UTF-8 file (``utf-8-sig`` drops a byte-order mark)."""
    data = read_bytes(path, what)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise InputError(
            f"{what} {path}: expected UTF-8 text, got byte {data[e.start]:#04x} at offset {e.start}"
        ) from None


def read_json(path: str | os.PathLike, what: str) -> Any:
    """A JSON file (see :func:`read_text`); InputError when it does not parse."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise InputError(f"{what} {path}: expected JSON, got {_short(e)}") from None


def read_yaml(path: str | os.PathLike, what: str) -> Any:
    """A YAML file, safe-loaded (no tags that build objects); InputError when it does not
    parse."""
    import yaml

    text = read_text(path, what, "utf-8-sig")
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as e:
        raise InputError(f"{what} {path}: expected YAML, got {_short(e)}") from None


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:200] or type(e).__name__


#: Core-schema node types made strict (no "no" for a bool, no "3" for an int, no tuple coercion).
_STRICT = frozenset(
    {"int", "float", "str", "bool", "list", "dict", "tuple", "set", "frozenset", "bytes"}
)


def _harden(node: Any) -> Any:
    """A copy of a pydantic core schema with every scalar and container node strict, floats
    finite and unknown dataclass fields refused; dataclass nodes themselves stay lax, so a
    dataclass (nested ones too) is built from a mapping (its ``__post_init__`` runs)."""
    if isinstance(node, list):
        return [_harden(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _harden(v) for k, v in node.items()}
    kind = out.get("type")
    if kind in _STRICT:
        out["strict"] = True
    if kind == "float":
        out["allow_inf_nan"] = False
    if kind == "dataclass":
        out["strict"] = False
    if kind == "dataclass-args":
        out["extra_behavior"] = "forbid"
    return out


@functools.cache
def _validator(schema: Any):
    """A strict pydantic validator of ``schema`` (:func:`_harden`)."""
    from pydantic import TypeAdapter
    from pydantic_core import SchemaValidator

    return SchemaValidator(_harden(TypeAdapter(schema).core_schema))


#: Union branch tags pydantic puts in an error's location (not field names).
_TAGS = frozenset({"int", "str", "float", "bool", "list", "dict", "tuple", "none"})


def _loc(loc: tuple) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p in _TAGS))]
    return ".".join(parts) or "(top level)"


def _msg(err: dict) -> str:
    msg = str(err.get("msg", "")).replace(
        "String should match pattern", "Input should be a string matching"
    )
    for noun in ("String", "List", "Dictionary"):  # "String should have at least 1 character"
        if msg.startswith(f"{noun} should have "):
            msg = f"expected a {noun.lower()} with " + msg[len(noun) + 13 :]
    for prefix in ("Input should be ", "Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = ("expected " if prefix == "Input should be " else "") + msg[len(prefix) :]
    if err.get("type") == "unexpected_keyword_argument":
        msg = "expected no such field"
    elif err.get("type") == "missing_keyword_argument" or err.get("type") == "missing":
        return "expected a value, got none"
    got = repr(err.get("input"))
    return f"{msg}, got {got[:80]}{'...' if len(got) > 80 else ''}"


def validate(schema: type[T], data: Any, where: str | os.PathLike) -> T:
    """``data`` (parsed JSON / YAML) as an instance of ``schema``, validated strictly; one
    InputError line ``<where>: field <a.b.0>: expected ..., got ...`` on the first bad field.
    ``InputError`` / ``ValueError`` / ``TypeError`` raised by the schema's own checks become the
    same kind of line."""
    from pydantic import ValidationError

    is_dc = dataclasses.is_dataclass(schema)
    try:
        if is_dc and not isinstance(data, dict):
            raise InputError(
                f"{where}: expected a mapping of {schema.__name__} fields, got "
                f"{type(data).__name__}"
            )
        return _validator(schema).validate_python(data)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        if is_dc and err.get("type") == "unexpected_keyword_argument" and len(err["loc"]) == 1:
            known = ", ".join(f.name for f in dataclasses.fields(schema))
            raise InputError(
                f"{where}: expected fields among {known}, got {_loc(err['loc'])[:80]}"
            ) from None
        raise InputError(f"{where}: field {_loc(err['loc'])}: {_msg(err)}") from None
    except InputError as e:
        text = str(e)
        raise InputError(text if text.startswith(str(where)) else f"{where}: {text}") from None
    except (ValueError, TypeError) as e:
        raise InputError(f"{where}: {_short(e)}") from None


def confined(folder: str | os.PathLike, name: str, what: str) -> Path:
    """``folder / name`` for a ``name`` read from a file in ``folder``: a relative path with no
    ``..``, no empty part and no backslash, that does not leave ``folder`` through a link.
    InputError naming the file and the name otherwise."""
    folder = Path(folder)
    parts = name.split("/") if isinstance(name, str) else []
    if (
        not parts
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise InputError(
            f"{what}: expected a relative path inside {folder} (no '..', not absolute), got "
            f"{str(name)[:120]!r}"
        )
    path = folder.joinpath(*parts)
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        raise InputError(
            f"{what}: expected a path inside {folder}, {name!r} leads outside it (a link)"
        ) from None
    return path
