"""Score a submission into a :class:`~var_bench.scoring.record.ResultRecord`, and compare two of them.

``score`` reads and checks the submission (:mod:`var_bench.tasks.retrieval.submission`), counts (b, e) for every
query in one pass over S (:mod:`var_bench.tasks.retrieval.counting`), and derives every metric under the
chosen tie rule plus the optimistic and pessimistic bounds (:mod:`var_bench.tasks.retrieval.ranks`).
Scoring a plain matrix needs no built dataset: the id-list checksum ships with the package
(:mod:`var_bench.data.splits`). Id-bound containers and ``by_class`` need the canonical ids and
classes, from ``ids=``/``metadata=`` or the built dataset (:mod:`var_bench.data.prepare`).
"""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from var_bench._version import __version__
from var_bench.benchmarks import SPLITS, BenchmarkSpec, get_benchmark
from var_bench.scoring.stats.breakdown import by_class as breakdown_by_class
from var_bench.errors import InputError, VarBenchWarning
from var_bench.fsutil import sha256_file, sha256_lines
from var_bench.tasks.retrieval.counting import count_direction, count_ranks
from var_bench.tasks.retrieval.counts import QueryRanks
from var_bench.scoring.stats.compare import METHODS as COMPARE_METHODS
from var_bench.scoring.stats.compare import Comparison, paired_compare
from var_bench.tasks.retrieval.names import DEFAULT_TIES, SUMR, TIE_RULES
from var_bench.tasks.retrieval.ranks import sum_recall, summarise, tied_query_count
from var_bench.scoring.record import DISCLOSURE_KEYS, RECORD_DISCLOSURE_KEYS, RECORD_SCHEMA, ResultRecord
from var_bench.scoring.record_checks import as_digest
from var_bench.tasks.retrieval.submission import Canon, Submission, normalisation_warnings, read_submission
from var_bench.tasks.retrieval.submission.guards import zero_cell_warnings

#: The bounds reported beside the chosen rule: every tie rule but the official one.
BOUND_RULES: tuple[str, ...] = tuple(r for r in TIE_RULES if r != DEFAULT_TIES)


def score(
    submission: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    ties: str = DEFAULT_TIES,
    direction: str | None = None,
    split: str = "test",
    ids: Sequence[str] | None = None,
    metadata: Any = None,
    by_class: bool = False,
    ci: bool = False,
    replicates: int = 10_000,
    seed: int = 0,
    name: str | None = None,
    disclosure: Mapping[str, str | None] | None = None,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
) -> ResultRecord:
    """Score ``submission`` on ``benchmark`` and return its result record.

    ``submission``: a path (``.npy``, ``.npz``, ``.pt``/``.pth``, ``.h5``/``.hdf5``), an ndarray,
    np.memmap, torch tensor, or dict of direction name -> matrix (plus optional id arrays); see
    ``docs/protocol.md``. ``benchmark`` None: inferred from N (290 -> ucfcrime-ar, 800 ->
    xdviolence-ar). ``ties``: ``expected`` (official), ``optimistic`` or ``pessimistic``.
    ``direction``: score only this one (SumR then sums its three recalls only).
    ``ids``/``metadata``: the canonical ids / a table with ``video_id``, ``class``, ``anomalous``
    in canonical order, instead of the built dataset (``home``/``mirror``). ``by_class``: add the
    per-class breakdown; ``ci``: add 95% bootstrap intervals (``replicates``, ``seed``).
    ``name``/``disclosure``: leaderboard fields (disclosure keys: ``record.DISCLOSURE_KEYS``). A
    ``.npz`` written by ``var-bench evaluate`` carries its provenance (reference model, features,
    checkpoint selection, name): it fills the disclosure keys and the name left unstated, and is
    kept in ``record.provenance``.

    Metric values: R@K in percent, MdR/MnR in ranks (1 = first); nothing is rounded. Warnings about
    the input (float16, normalised columns) are issued as :class:`VarBenchWarning` and listed in
    ``record.warnings``.
    """
    _check_choice("ties", ties, TIE_RULES)
    _check_choice("split", split, SPLITS)
    disclosed = _disclosure(disclosure)
    data = _DataAccess(split, ids, metadata, home, mirror)
    spec = get_benchmark(benchmark) if benchmark is not None else None
    n = len(data.canonical_ids(spec)) if spec is not None and split != "test" else None
    with read_submission(submission, spec, split=split, direction=direction, canon=data.canon(),
                         n=n) as sub:
        spec = sub.spec
        data.check_size(spec, sub.n)
        per_query = count_submission(sub)
        notes = list(sub.warnings) + normalisation_warnings(sub) + zero_cell_warnings(sub)
        digest = sha256_file(sub.path) if sub.path else None
        provenance = getattr(sub, "provenance", None)
    if provenance is not None:
        disclosed = _with_provenance(disclosed, provenance)
        name = name if name is not None else provenance.get("name")
    for note in notes:
        warnings.warn(note, VarBenchWarning, stacklevel=2)

    metrics = {d: summarise(q, ties) for d, q in per_query.items()}
    bounds = {}
    for rule in BOUND_RULES:
        m = {d: summarise(q, rule) if rule != ties else dict(metrics[d]) for d, q in per_query.items()}
        bounds[rule] = {"metrics": m, SUMR: sum_recall(m)}
    return ResultRecord(
        benchmark=spec.name,
        split=split,
        ties=ties,
        metrics=metrics,
        SumR=sum_recall(metrics),
        bounds=bounds,
        tied_queries={d: tied_query_count(q) for d, q in per_query.items()},
        per_query=per_query,
        ids_sha256=data.canon().sha256(spec),
        versions={"var_bench": __version__, "benchmark": spec.version, "record_schema": RECORD_SCHEMA},
        date=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        submission=Path(sub.path).name if sub.path else None,
        submission_sha256=digest,
        ci=_bootstrap(per_query, ties, replicates, seed) if ci else None,
        by_class=(breakdown_by_class(per_query, data.metadata(spec), ties, classes=spec.classes)
                  if by_class else None),
        name=name,
        disclosure=disclosed,
        warnings=notes,
        provenance=provenance,
        features_digest=provenance_digest(provenance),
    )


def count_submission(sub: Submission) -> dict[str, QueryRanks]:
    """(b, e) per query for each direction of ``sub``, in the spec's direction order.

    One pass over S for a joint matrix (both directions together), one pass per matrix for the
    per-direction layout. Kernel refusals (NaN, Inf) are prefixed with the submission's name.
    """
    spec = sub.spec
    label = sub.label
    got: dict[str, QueryRanks] = {}
    try:
        if sub.joint is not None:
            if len(sub.directions) == len(spec.directions):
                rows, cols = count_ranks(sub.joint)
                got = {d.name: rows if d.over_rows else cols for d in spec.directions}
            else:
                d = spec.direction(sub.directions[0])
                got[d.name] = count_direction(sub.joint, d.over_rows)
        else:
            for name in sub.directions:
                label = f"{sub.label}[{name!r}]"
                # Every per-direction matrix holds one query per row.
                got[name] = count_direction(sub.by_direction[name], True)
    except InputError as e:
        raise InputError(f"{label}: {e}") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{label}: expected a readable matrix, got a read error ({e})") from None
    return {d: got[d] for d in spec.direction_names if d in got}


def compare(
    a: Any,
    b: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    ties: str = DEFAULT_TIES,
    method: str = "permutation",
    replicates: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
    split: str = "test",
    ids: Sequence[str] | None = None,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
) -> Comparison:
    """Paired comparison of two entries, per metric and direction and for SumR.

    ``a``, ``b``: result records, paths of result-record JSON files, or submissions (scored with
    :func:`score` first). Both must be of the same benchmark, split and id list (sha256) and
    cover the same directions. Per-query counts are re-read under ``ties``, then
    :func:`var_bench.scoring.stats.compare.paired_compare` runs a paired ``method`` test
    (``permutation`` or ``bootstrap``) with ``replicates`` and ``seed``; returns its Comparison.
    """
    _check_choice("ties", ties, TIE_RULES)
    _check_choice("method", method, COMPARE_METHODS)
    spec = None if benchmark is None else get_benchmark(benchmark)
    ra = as_record(a, "A", spec, ties=ties, split=split, ids=ids, home=home, mirror=mirror)
    rb = as_record(b, "B", spec, ties=ties, split=split, ids=ids, home=home, mirror=mirror)
    check_comparable(ra, rb, spec)
    return paired_compare(ra.per_query, rb.per_query, ties, method=method, replicates=replicates,
                          level=level, seed=seed)


def as_record(entry: Any, label: str, benchmark: str | BenchmarkSpec | None = None, **score_kw: Any
              ) -> ResultRecord:
    """``entry`` as a result record: records pass through, JSON files are loaded, anything else
    is scored with :func:`score` (``score_kw``)."""
    if isinstance(entry, ResultRecord):
        return entry
    if isinstance(entry, (str, os.PathLike)) and _is_record_file(Path(entry)):
        return ResultRecord.load(entry)
    if isinstance(entry, Mapping) and "per_query" in entry:
        try:
            return ResultRecord.from_dict(dict(entry))
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{label}: expected a result record, got a malformed one ({e})") from None
    return score(entry, benchmark, **score_kw)


def check_comparable(a: ResultRecord, b: ResultRecord, spec: BenchmarkSpec | None = None) -> None:
    """Refuse two records that do not rank the same queries of the same split (and, given
    ``spec``, of that benchmark)."""
    if spec is not None:
        want = spec.name
        for label, r in (("A", a), ("B", b)):
            if r.benchmark != want:
                raise InputError(f"{label}: expected a {want} entry, got a {r.benchmark} record")
    for key in ("benchmark", "split", "ids_sha256"):
        if getattr(a, key) != getattr(b, key):
            raise InputError(f"compare: expected A and B of the same {key}, got "
                             f"{getattr(a, key)!r} and {getattr(b, key)!r}")
    if list(a.per_query) != list(b.per_query):
        raise InputError(f"compare: expected A and B to cover the same directions, got "
                         f"{', '.join(a.per_query)} and {', '.join(b.per_query)}")
    for d in a.per_query:
        if len(a.per_query[d]) != len(b.per_query[d]):
            raise InputError(f"compare: expected the same number of {d} queries, got "
                             f"{len(a.per_query[d])} and {len(b.per_query[d])}")


# --------------------------------------------------------------------------------------------

def _check_choice(what: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InputError(f"{what}: expected one of {', '.join(choices)}, got {value!r}")


def _disclosure(disclosure: Mapping[str, str | None] | None) -> dict[str, str | None]:
    out: dict[str, str | None] = {k: None for k in DISCLOSURE_KEYS}
    for key, value in (disclosure or {}).items():
        if key not in out:
            raise InputError(f"disclosure: expected keys {', '.join(DISCLOSURE_KEYS)}, got {key!r}")
        out[key] = None if value is None else str(value)
    return out


def provenance_digest(provenance: Mapping[str, Any] | None) -> str | None:
    """The feature store's set digest a submission's provenance names (``features`` ->
    ``features_digest``, as ``var-bench evaluate`` writes it), else None (also when it is not a
    64-hex digest: a hand-edited file does not get to name one)."""
    identity = (provenance or {}).get("features")
    return as_digest(identity.get("features_digest")) if isinstance(identity, Mapping) else None


def _with_provenance(disclosed: dict[str, str | None], provenance: Mapping[str, Any]
                     ) -> dict[str, str | None]:
    """The caller's disclosure, completed from the submission's provenance: a key the caller left
    unstated (None) takes the file's value; keys beyond ``RECORD_DISCLOSURE_KEYS`` stay in the
    provenance only."""
    out = dict(disclosed)
    for key, value in (provenance.get("disclosure") or {}).items():
        if key in RECORD_DISCLOSURE_KEYS and out.get(key) is None and value is not None:
            out[key] = str(value)
    return out


def _bootstrap(per_query: dict[str, QueryRanks], ties: str, replicates: int, seed: int) -> dict:
    from var_bench.scoring.stats.bootstrap import bootstrap_ci

    for name, value, low in (("replicates", replicates, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"{name}: expected an integer >= {low}, got {value!r}")
    return bootstrap_ci(per_query, ties, replicates=replicates, seed=seed)


def _is_record_file(path: Path) -> bool:
    if path.suffix.lower() == ".json":
        return True
    try:
        with open(path, "rb") as f:
            return f.read(64).lstrip()[:1] == b"{"
    except OSError:
        return False


class _DataAccess:
    """Canonical ids and metadata of one split: from the caller, else the built dataset, fetched
    at most once and only when needed (a plain matrix needs neither)."""

    def __init__(self, split: str, ids: Sequence[str] | None, metadata: Any,
                 home: str | os.PathLike | None, mirror: str | None) -> None:
        self.split, self.home, self.mirror = split, home, mirror
        self._ids = [str(i) for i in ids] if ids is not None else None
        self._metadata = metadata
        if metadata is not None:
            try:
                table_ids = [str(v) for v in list(metadata["video_id"])]
            except (KeyError, TypeError, IndexError):
                raise InputError("metadata: expected a 'video_id' column, got none") from None
            if self._ids is not None and table_ids != self._ids:
                raise InputError("metadata: expected its video_id column to equal ids, got a "
                                 "different list")
            self._ids = table_ids

    def canon(self) -> Canon:
        if self._ids is not None:
            digest = sha256_lines(self._ids)
            return Canon(sha256=lambda spec: digest, ids=self.canonical_ids)
        from var_bench.data.splits import expected_ids_sha256

        return Canon(sha256=lambda spec: expected_ids_sha256(spec, self.split), ids=self.canonical_ids)

    def canonical_ids(self, spec: BenchmarkSpec) -> list[str]:
        if self._ids is None:
            from var_bench.data.prepare import ids as load_ids

            self._ids = list(load_ids(spec.name, self.split, home=self.home, mirror=self.mirror))
        return self._ids

    def check_size(self, spec: BenchmarkSpec, n: int) -> None:
        if self._ids is not None and len(self._ids) != n:
            raise InputError(f"ids: expected {n} canonical ids for the {spec.name} {self.split} "
                             f"split, got {len(self._ids)}")

    def metadata(self, spec: BenchmarkSpec) -> Any:
        if self._metadata is None:
            from var_bench.data.prepare import load_table

            self._metadata = load_table(spec.name, self.split, home=self.home, mirror=self.mirror)
            table_ids = [str(v) for v in self._metadata["video_id"]]
            if self._ids is not None and table_ids != self._ids:
                raise InputError(f"ids: expected the canonical {spec.name} {self.split} ids of the "
                                 f"built dataset, got a different list (pass metadata= as well)")
        return self._metadata

