"""Type and range checks of a result record read from JSON (a file anyone can edit).

:func:`parse_record_json` refuses what ``json`` would accept but no record holds (NaN and
Infinity literals, nesting deeper than :data:`MAX_DEPTH`, files over :data:`MAX_BYTES`), and
:func:`check_record_dict` checks every field's type and range before a
:class:`~var_bench.scoring.record.ResultRecord` is built, so a mistyped field is one
:class:`~var_bench.errors.InputError` line naming the field, never an internal error later (in the
leaderboard, ``compare`` or ``export``). What is checked: the structure; what the leaderboard
trusts of it (recomputed from ``per_query`` or dropped) is the leaderboard's rule.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from var_bench.errors import InputError

#: Bytes of a record file at most (the largest benchmark's per-query ranks take ~50 KB).
MAX_BYTES = 64 << 20
#: JSON nesting depth at most (a record nests 5 deep).
MAX_DEPTH = 32
#: Per-query counts at most: b and e count gallery items, far below this for any benchmark.
MAX_COUNT = 10_000_000
#: Queries per direction at most.
MAX_QUERIES = 1_000_000
#: A features digest: a sha256 hex digest (docs/features.md "Fingerprint").
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


def as_digest(value: Any) -> str | None:
    """``value`` when it is a features digest (64 lowercase hex), else None."""
    return value if isinstance(value, str) and DIGEST_RE.match(value) else None


def _refuse_constant(name: str) -> Any:
    raise InputError(f"expected finite JSON numbers, got {name}")


def parse_record_json(text: str, label: str) -> Any:
    """``json.loads`` without NaN/Infinity and with a bounded depth; InputError otherwise."""
    if len(text) > MAX_BYTES:
        raise InputError(
            f"{label}: expected a result record of at most {MAX_BYTES} bytes, got {len(text)}"
        )
    depth = _max_depth(text)
    if depth > MAX_DEPTH:
        raise InputError(f"{label}: expected JSON nested at most {MAX_DEPTH} deep, got {depth}")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except InputError as e:
        raise InputError(f"{label}: {e}") from None
    except (ValueError, RecursionError) as e:
        raise InputError(
            f"{label}: expected a result record (JSON), got an unreadable file ({e})"
        ) from None


def _max_depth(text: str) -> int:
    """Bracket depth outside strings (cheap, linear: refuses a 100 000-deep array before
    ``json`` recurses into it)."""
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > best:
                best = depth
                if best > MAX_DEPTH:
                    return best
        elif ch in "]}":
            depth -= 1
    return best


def _fail(field: str, expected: str, value: Any) -> InputError:
    shown = repr(value)
    return InputError(
        f"result record: {field}: expected {expected}, got "
        f"{shown[:80] + '...' if len(shown) > 80 else shown}"
    )


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(field, "a finite number", value)
    return float(value)


def _str(field: str, value: Any, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise _fail(field, "a string" + (" or null" if optional else ""), value)


def _mapping(field: str, value: Any, optional: bool = False) -> bool:
    if value is None and optional:
        return False
    if not isinstance(value, dict):
        raise _fail(field, "an object" + (" or null" if optional else ""), value)
    return True


def _metric_table(field: str, value: Any) -> None:
    _mapping(field, value)
    for d, row in value.items():
        _mapping(f"{field}.{d}", row)
        for k, v in row.items():
            _number(f"{field}.{d}.{k}", v)


def _per_query(field: str, value: Any, kind: str) -> int:
    """A per-query list: ``count`` (integers in [0, MAX_COUNT]) or ``value`` (finite numbers)."""
    what = "integers" if kind == "count" else "numbers"
    if not isinstance(value, list) or len(value) > MAX_QUERIES:
        raise _fail(field, f"a list of at most {MAX_QUERIES} {what}", type(value).__name__)
    for i, v in enumerate(value):
        if kind != "count":
            _number(f"{field}[{i}]", v)
        # Floats are refused, not truncated: a count of 3.9 is not a count.
        elif isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_COUNT:
            raise _fail(f"{field}[{i}]", f"an integer in [0, {MAX_COUNT}]", v)
    return len(value)


def _interval(field: str, value: Any) -> None:
    if not isinstance(value, list) or len(value) != 2:
        raise _fail(field, "an interval [low, high]", value)
    lo, hi = _number(f"{field}[0]", value[0]), _number(f"{field}[1]", value[1])
    if lo > hi:
        raise _fail(field, "low <= high", value)


def _ci(value: Any) -> None:
    if not _mapping("ci", value, optional=True):
        return
    if "level" in value:
        level = _number("ci.level", value["level"])
        if not 0 < level < 1:
            raise _fail("ci.level", "a number in (0, 1)", level)
    for key in ("replicates", "seed"):
        if key in value:
            v = value[key]
            if (
                isinstance(v, bool)
                or not isinstance(v, int)
                or v < (1 if key == "replicates" else 0)
            ):
                raise _fail(
                    f"ci.{key}", "an integer >= " + ("1" if key == "replicates" else "0"), v
                )
    if "method" in value:
        _str("ci.method", value["method"])
    intervals = value.get("intervals", {})
    _mapping("ci.intervals", intervals)
    for d, row in intervals.items():
        if isinstance(row, list):
            _interval(f"ci.intervals.{d}", row)
            continue
        _mapping(f"ci.intervals.{d}", row)
        for k, v in row.items():
            _interval(f"ci.intervals.{d}.{k}", v)


def _figures(field: str, value: Any) -> None:
    _mapping(field, value)
    for k, v in value.items():
        _number(f"{field}.{k}", v)


def _group(field: str, value: Any) -> None:
    if not _mapping(field, value, optional=True):
        return
    n = value.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise _fail(f"{field}.n", "an integer >= 0", n)
    _metric_table(f"{field}.metrics", value.get("metrics"))
    _figures(f"{field}.summary", value.get("summary", {}))


def _by_class(value: Any) -> None:
    if not _mapping("by_class", value, optional=True):
        return
    classes = value.get("classes", {})
    _mapping("by_class.classes", classes)
    for name, group in classes.items():
        _group(f"by_class.classes.{name}", group)
    for key in ("anomalous", "normal"):
        _group(f"by_class.{key}", value.get(key))


def _slices(value: Any) -> None:
    if not _mapping("slices", value, optional=True):
        return
    for name, sl in value.items():
        field = f"slices.{name}"
        _mapping(field, sl)
        n = sl.get("queries")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise _fail(f"{field}.queries", "an integer >= 1", n)
        index = sl.get("index")
        if (
            not isinstance(index, list)
            or len(index) != n
            or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in index)
            or index != sorted(set(index))
        ):
            raise _fail(f"{field}.index", f"{n} increasing query positions", index)
        _metric_table(f"{field}.metrics", sl.get("metrics"))
        _figures(f"{field}.summary", sl.get("summary", {}))
        _str(f"{field}.description", sl.get("description"), optional=True)
        _mapping(f"{field}.bounds", sl.get("bounds", {}))
        if sl.get("ci") is not None:
            _mapping(f"{field}.ci", sl["ci"])


def _contamination(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise _fail("contamination", "a list of overlaps or null", type(value).__name__)
    for i, o in enumerate(value):
        field = f"contamination[{i}]"
        _mapping(field, o)
        for key in ("name", "kind", "status", "note"):
            _str(f"{field}.{key}", o.get(key))
        for key in ("test_videos", "of"):
            v = o.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise _fail(f"{field}.{key}", "an integer >= 0 or null", v)


def upgrade(d: dict) -> dict:
    """A schema-1 record dict (before task types: SumR, tied_queries and ids_sha256 at the top)
    in the current layout; a current one is returned as is. Nothing is checked here."""
    if not isinstance(d, dict) or "summary" in d or "SumR" not in d:
        return d
    out = {k: v for k, v in d.items() if k not in ("SumR", "tied_queries", "ids_sha256")}
    out["summary"] = {"SumR": d["SumR"]}
    out["main_score"] = "SumR"
    out.setdefault("task", "retrieval")
    out.setdefault("task_type", "retrieval")
    if isinstance(d.get("bounds"), dict):
        out["bounds"] = {
            r: (
                {"metrics": b.get("metrics", {}), "summary": {"SumR": b["SumR"]}}
                if isinstance(b, dict) and "SumR" in b
                else b
            )
            for r, b in d["bounds"].items()
        }
    if "tied_queries" in d:
        out["details"] = {"tied_queries": d["tied_queries"]}
    if "ids_sha256" in d:
        out["query_ids_sha256"] = out["gallery_ids_sha256"] = d["ids_sha256"]
    if isinstance(d.get("by_class"), dict):
        out["by_class"] = _upgrade_groups(d["by_class"])
    return out


def _upgrade_groups(by_class: dict) -> dict:
    def one(g: Any) -> Any:
        if isinstance(g, dict) and "SumR" in g and "summary" not in g:
            return {**{k: v for k, v in g.items() if k != "SumR"}, "summary": {"SumR": g["SumR"]}}
        return g

    out = dict(by_class)
    if isinstance(out.get("classes"), dict):
        out["classes"] = {k: one(v) for k, v in out["classes"].items()}
    for key in ("anomalous", "normal"):
        if key in out:
            out[key] = one(out[key])
    return out


def check_record_dict(d: dict) -> None:
    """Every field of a record dict has the type and range a record written by ``score`` has
    (the per-query lists as its task type declares them).

    Raises:
        InputError: one line naming the first field that is not so.
    """
    from var_bench.tasks import get_task_type

    for key in ("benchmark", "split", "main_score", "task", "task_type"):
        if key in ("benchmark", "split", "main_score") or key in d:
            _str(key, d.get(key))
    _str("ties", d.get("ties"), optional=True)
    _metric_table("metrics", d.get("metrics"))
    _figures("summary", d.get("summary"))
    fields = get_task_type(d.get("task_type", "retrieval")).per_query_fields
    per_query = d.get("per_query")
    _mapping("per_query", per_query)
    for group, q in per_query.items():
        _mapping(f"per_query.{group}", q)
        sizes = {_per_query(f"per_query.{group}.{k}", q.get(k), kind) for k, kind in fields.items()}
        if len(sizes) > 1:
            raise _fail(
                f"per_query.{group}", f"{' and '.join(fields)} lists of one length", sorted(sizes)
            )
    if "bounds" in d:
        _mapping("bounds", d["bounds"])
        for rule, b in d["bounds"].items():
            _mapping(f"bounds.{rule}", b)
            if "metrics" in b:
                _metric_table(f"bounds.{rule}.metrics", b["metrics"])
            if "summary" in b:
                _figures(f"bounds.{rule}.summary", b["summary"])
    if "details" in d:
        _mapping("details", d["details"])
        tied = d["details"].get("tied_queries", {})
        _mapping("details.tied_queries", tied)
        for k, v in tied.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise _fail(f"details.tied_queries.{k}", "an integer >= 0", v)
    _ci(d.get("ci"))
    _by_class(d.get("by_class"))
    _slices(d.get("slices"))
    _contamination(d.get("contamination"))
    for key in ("name", "submission", "submission_sha256"):
        _str(key, d.get(key), optional=True)
    digest = d.get("features_digest")
    if digest is not None and as_digest(digest) is None:
        raise _fail(
            "features_digest", "64 lowercase hex (a feature store's set digest) or null", digest
        )
    for key in ("query_ids_sha256", "gallery_ids_sha256", "date"):
        if key in d:
            _str(key, d[key])
    if "disclosure" in d:
        _mapping("disclosure", d["disclosure"])
        for k, v in d["disclosure"].items():
            _str(f"disclosure.{k}", v, optional=True)
    if "warnings" in d:
        w = d["warnings"]
        if not isinstance(w, list) or not all(isinstance(x, str) for x in w):
            raise _fail("warnings", "a list of strings", w)
    if "versions" in d:
        _mapping("versions", d["versions"])
        schema = d["versions"].get("record_schema")
        if schema is not None and (isinstance(schema, bool) or not isinstance(schema, int)):
            raise _fail("versions.record_schema", "an integer", schema)
