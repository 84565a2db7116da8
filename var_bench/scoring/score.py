"""Score a submission into a :class:`~var_bench.scoring.record.ResultRecord`, and compare two of
them, for any task type.

``score`` resolves the benchmark and its task (:meth:`BenchmarkSpec.task`), loads the task's gold
for the split (:func:`var_bench.data.gold.load_gold`: for today's benchmarks the identity, known
from the shipped id checksum, so a plain matrix needs no built dataset), lets the task read and
check the submission and count its per-query values (retrieval: b and e in one pass over S,
:mod:`var_bench.tasks.retrieval.counting`), then derives every metric under the chosen rule, the
bounds under the others and the summaries (the task's :meth:`~var_bench.tasks.base.Task.summarise`
and :meth:`~var_bench.tasks.base.Task.summary`). Id-bound containers and ``by_class`` need the
canonical ids and classes, from ``ids=``/``metadata=`` or the built dataset.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from var_bench._version import __version__
from var_bench.benchmarks import BENCHMARKS, SPLITS, BenchmarkSpec, get_benchmark
from var_bench.errors import InputError, VarBenchWarning
from var_bench.fsutil import sha256_file
from var_bench.scoring.record import (
    DISCLOSURE_KEYS,
    OPTIONAL_DISCLOSURE_KEYS,
    RECORD_DISCLOSURE_KEYS,
    RECORD_SCHEMA,
    ResultRecord,
)
from var_bench.scoring.record_checks import as_digest
from var_bench.scoring.slices import record_slices, slice_index, source_masks
from var_bench.scoring.stats.breakdown import by_class as breakdown_by_class
from var_bench.scoring.stats.compare import METHODS as COMPARE_METHODS
from var_bench.scoring.stats.compare import Comparison, paired_compare
from var_bench.tasks import Gold, IdList, Task


def score(
    submission: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    task: str | None = None,
    ties: str | None = None,
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
    slices: bool = True,
) -> ResultRecord:
    """Score ``submission`` on a task of ``benchmark`` and return its result record.

    Args:
        submission: what the task reads; for retrieval a path (``.npy``, ``.npz``,
            ``.pt``/``.pth``, ``.h5``/``.hdf5``), an ndarray, np.memmap, torch tensor, or dict of
            direction name -> matrix (plus optional id arrays); see ``docs/protocol.md``.
        benchmark: a name or spec; None: inferred from the matrix (290 x 290 -> ucfcrime-ar,
            800 x 800 -> xdviolence-ar).
        task: the benchmark's task to score (None: its default, the first).
        ties: the rule (retrieval: ``expected``, the official one, ``optimistic`` or
            ``pessimistic``); None: the task's official rule.
        direction: score only this group (the main score then sums over it alone).
        split: ``train``, ``val`` or ``test``.
        ids, metadata: the canonical ids / a table with ``video_id``, ``class``, ``anomalous`` in
            canonical order, instead of the built dataset (``home``/``mirror``).
        by_class: add the per-class breakdown. ci: add 95% bootstrap intervals
            (``replicates``, ``seed``).
        name, disclosure: leaderboard fields (disclosure keys: ``record.DISCLOSURE_KEYS`` and
            the optional ``model_written_test_descriptions``). ``training_data`` and
            ``extra_training_data`` are resolved (:func:`var_bench.data.contamination.
            training_overlaps`: a registered benchmark, else a contamination-registry entry,
            built or fetched when needed) into ``record.contamination``. A
            ``.npz`` written by ``var-bench evaluate`` carries its provenance (reference model,
            features, checkpoint selection, name): it fills the disclosure keys and the name left
            unstated, and is kept in ``record.provenance``.
        slices: add the figures on the source-unseen and source-seen test queries
            (:mod:`var_bench.scoring.slices`) when the benchmark's names carry sources and its
            built dataset is in ``home`` (or ``mirror`` is given to build it).

    Returns:
        The :class:`ResultRecord`: metrics per group (retrieval: R@K in percent, MdR/MnR in
        ranks, 1 = first; nothing rounded), the summaries, the main score's name, bounds and the
        per-query counts. Warnings about the input (float16, normalised columns) are issued as
        :class:`VarBenchWarning` and listed in ``record.warnings``.

    Raises:
        InputError: bad input, in one line (what was expected, what arrived).

    Example:
        >>> import numpy as np
        >>> S = np.eye(290, dtype=np.float32)
        >>> r = score(S, "ucfcrime-ar")
        >>> r.main_score, r.main_value, r.metrics["t2v"]["R@1"]
        ('SumR', 600.0, 100.0)
    """
    _check_choice("split", split, SPLITS)
    disclosed = _disclosure(disclosure)
    data = _TableAccess(split, ids, metadata, home, mirror)
    spec = get_benchmark(benchmark) if benchmark is not None else None
    container = None
    if spec is None:
        spec, container = _infer(submission, split)
    t = spec.task(task)
    ties = t.check_rule(ties)
    gold = data.gold(spec, t)
    with t.read(
        submission,
        gold,
        benchmark=spec.name,
        split=split,
        groups=(direction,) if direction else None,
        container=container,
    ) as sub:
        per_query = t.score(sub, gold)
        notes = list(sub.warnings) + t.input_warnings(sub)
        digest = sha256_file(sub.path) if sub.path else None
        provenance = getattr(sub, "provenance", None)
    if provenance is not None:
        disclosed = _with_provenance(disclosed, provenance)
        name = name if name is not None else provenance.get("name")
    for note in notes:
        warnings.warn(note, VarBenchWarning, stacklevel=2)

    metrics = {g: t.summarise(q, ties) for g, q in per_query.items()}
    bounds = {}
    for rule in t.rules[1:]:
        m = {
            g: t.summarise(q, rule) if rule != ties else dict(metrics[g])
            for g, q in per_query.items()
        }
        bounds[rule] = {"metrics": m, "summary": t.summary(m)}
    masks = source_masks(spec, gold, split, home=home, mirror=mirror) if slices else None
    declared = " + ".join(
        v for v in (disclosed.get("training_data"), disclosed.get("extra_training_data")) if v
    )
    overlaps = None
    if declared:
        from var_bench.data.contamination import training_overlaps

        found = training_overlaps(
            spec,
            declared,
            split=split,
            home=home,
            mirror=mirror,
            download=_may_fetch(spec, home, mirror),
        )
        overlaps = [o.to_dict() for o in found] or None
    return ResultRecord(
        benchmark=spec.name,
        task=t.name,
        task_type=t.type_name,
        split=split,
        ties=ties,
        metrics=metrics,
        summary=t.summary(metrics),
        main_score=t.main_score,
        bounds=bounds,
        details=t.details(per_query),
        per_query=per_query,
        query_ids_sha256=gold.queries.sha256,
        gallery_ids_sha256=gold.gallery.sha256,
        versions={
            "var_bench": __version__,
            "benchmark": spec.version,
            "record_schema": RECORD_SCHEMA,
        },
        date=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        submission=Path(sub.path).name if sub.path else None,
        submission_sha256=digest,
        ci=_bootstrap(t, per_query, ties, replicates, seed) if ci else None,
        by_class=(
            breakdown_by_class(t, per_query, data.metadata(spec, gold), ties, classes=spec.classes)
            if by_class
            else None
        ),
        slices=(
            record_slices(t, per_query, masks, ties, ci=ci, replicates=replicates, seed=seed)
            if masks
            else None
        ),
        contamination=overlaps,
        name=name,
        disclosure=disclosed,
        warnings=notes,
        provenance=provenance,
        features_digest=provenance_digest(provenance),
    )


def score_matrix(
    spec: BenchmarkSpec, S: Any, gold: Gold | None = None, task: Task | None = None
) -> tuple[dict[str, dict[str, float]], float]:
    """Metrics of every group of ``task`` (default: the benchmark's first) on S, and its main
    score (SumR for retrieval), under the official rule.

    Args:
        spec: the benchmark.
        S: the queries x gallery scores.
        gold: the positives (default: the identity, query i <-> video i, for a square S).
        task: the task scored.
    """
    task = task or spec.task()
    if gold is None:
        gold = Gold.identity(IdList(S.shape[0], ""))
    with task.read(S, gold, benchmark=spec.name) as sub:
        per_query = task.score(sub, gold)
    metrics = {g: task.summarise(q, None) for g, q in per_query.items()}
    return metrics, task.main_value(metrics, task.summary(metrics))


def read_submission(
    submission: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    task: str | None = None,
    split: str = "test",
    direction: str | None = None,
    ids: Sequence[str] | None = None,
    gold: Gold | None = None,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
) -> Any:
    """Open and check a submission for a benchmark task, without scoring it: the task's
    :class:`~var_bench.tasks.base.Prediction` (a context manager; retrieval: the
    :class:`~var_bench.tasks.retrieval.submission.Submission` with its matrices in canonical
    order).

    Args:
        submission, benchmark, task, split, direction, ids, home, mirror: as for :func:`score`.
        gold: the gold to read against (default: the task's gold for ``split``).

    Raises:
        InputError: bad input, in one line.

    Example:
        >>> import numpy as np
        >>> with read_submission({"t2v": np.eye(290)}, "ucfcrime-ar") as sub:
        ...     sub.directions, sub.shape
        (('t2v',), (290, 290))
    """
    spec = get_benchmark(benchmark) if benchmark is not None else None
    container = None
    if spec is None:
        spec, container = _infer(submission, split)
    t = spec.task(task)
    if gold is None:
        gold = _TableAccess(split, ids, None, home, mirror).gold(spec, t)
    return t.read(
        submission,
        gold,
        benchmark=spec.name,
        split=split,
        groups=(direction,) if direction else None,
        container=container,
    )


def _infer(submission: Any, split: str) -> tuple[BenchmarkSpec, Any]:
    """The benchmark a submission is for, told by the task types of the registered benchmarks'
    default tasks (:meth:`~var_bench.tasks.base.Task.infer_benchmark`; retrieval: from the
    matrix's shape or keys), and what the type opened to tell (handed to its reader)."""
    by_type: dict[type, list[tuple[BenchmarkSpec, Task]]] = {}
    for s in BENCHMARKS.values():
        by_type.setdefault(type(s.task()), []).append((s, s.task()))
    for cls, candidates in by_type.items():
        found = cls.infer_benchmark(submission, split, candidates)
        if found is not None:
            return found
    raise InputError(f"{submission!r}: cannot tell the benchmark; name it (--benchmark)")


def compare(
    a: Any,
    b: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    task: str | None = None,
    ties: str | None = None,
    method: str = "permutation",
    replicates: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
    split: str = "test",
    ids: Sequence[str] | None = None,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
    slice: str | None = None,
) -> Comparison:
    """Paired comparison of two entries, per metric and group and for every summary.

    Args:
        a, b: result records, paths of result-record JSON files, or submissions (scored with
            :func:`score` first). Both must be of the same benchmark, task, split and id lists
            (sha256) and cover the same groups.
        slice: compare on the queries of this slice of the records (``source_unseen``, ...,
            :mod:`var_bench.scoring.slices`) instead of all queries.
        benchmark, task, split, ids, home, mirror: as for :func:`score`.
        ties: the rule the per-query counts are re-read under (None: the task's official one).
        method: ``permutation`` or ``bootstrap`` (:func:`~var_bench.scoring.stats.compare.
            paired_compare`), with ``replicates``, ``level`` and ``seed``.

    Returns:
        The :class:`~var_bench.scoring.stats.compare.Comparison`.

    Raises:
        InputError: entries that do not rank the same queries, or bad options.

    Example:
        >>> import numpy as np
        >>> r = np.random.default_rng(0)
        >>> good = score(r.standard_normal((290, 290)) + 3 * np.eye(290), "ucfcrime-ar")
        >>> poor = score(r.standard_normal((290, 290)), "ucfcrime-ar")
        >>> c = compare(good, poor, replicates=500)
        >>> c.rows[-1].metric, c.rows[-1].better
        ('SumR', 'a')
    """
    _check_choice("method", method, COMPARE_METHODS)
    spec = None if benchmark is None else get_benchmark(benchmark)
    kw = dict(task=task, ties=ties, split=split, ids=ids, home=home, mirror=mirror)
    ra = as_record(a, "A", spec, **kw)
    rb = as_record(b, "B", spec, **kw)
    check_comparable(ra, rb, spec)
    t = record_task(ra)
    qa, qb = ra.per_query, rb.per_query
    if slice is not None:
        index = slice_index(ra, slice)
        if not np.array_equal(index, slice_index(rb, slice)):
            raise InputError(f"compare: expected A and B to hold the same {slice} queries")
        qa = {g: t.subset(q, index) for g, q in qa.items()}
        qb = {g: t.subset(q, index) for g, q in qb.items()}
    result = paired_compare(
        t,
        qa,
        qb,
        t.check_rule(ties),
        method=method,
        replicates=replicates,
        level=level,
        seed=seed,
    )
    result.notes.extend(sampling_notes(ra, rb))
    return result


def sampling_notes(a: ResultRecord, b: ResultRecord) -> list[str]:
    """One line when two records' sampling manifests (``provenance["sampling"]``, what
    ``var-bench zeroshot`` records: decoder, fps, frames, resize, normalisation, prompt, model,
    weights) differ, naming each field that differs; none when they are equal or neither has one.

    >>> from types import SimpleNamespace as R
    >>> a = R(provenance={"sampling": {"fps": 1.0, "max_frames": 32}})
    >>> b = R(provenance={"sampling": {"fps": 2.0, "max_frames": 32}})
    >>> sampling_notes(a, b)
    ['sampling differs: fps 1.0 (A) vs 2.0 (B)']
    >>> sampling_notes(a, R(provenance=None))
    ['sampling differs: A records a sampling manifest (zero-shot, raw video), B none']
    """
    sa, sb = ((getattr(r, "provenance", None) or {}).get("sampling") for r in (a, b))
    sa = sa if isinstance(sa, Mapping) else None
    sb = sb if isinstance(sb, Mapping) else None
    if sa is None and sb is None:
        return []
    if sa is None or sb is None:
        has, other = ("A", "B") if sa is not None else ("B", "A")
        return [
            f"sampling differs: {has} records a sampling manifest (zero-shot, raw video), "
            f"{other} none"
        ]
    keys = [k for k in dict.fromkeys([*sa, *sb]) if sa.get(k) != sb.get(k)]
    if not keys:
        return []
    return [
        "sampling differs: "
        + "; ".join(f"{k} {sa.get(k)!r} (A) vs {sb.get(k)!r} (B)" for k in keys)
    ]


def record_task(record: ResultRecord) -> Task:
    """The task a record was scored on: its benchmark's task of that name when the benchmark is
    registered, else one built from the record's task type."""
    spec = BENCHMARKS.get(record.benchmark)
    if spec is not None:
        try:
            return spec.task(record.task)
        except InputError:
            pass
    raise InputError(
        f"result record: expected a task of a registered benchmark, got "
        f"{record.benchmark}/{record.task} (install the plug-in that declares it)"
    )


def as_record(
    entry: Any, label: str, benchmark: str | BenchmarkSpec | None = None, **score_kw: Any
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
            raise InputError(
                f"{label}: expected a result record, got a malformed one ({e})"
            ) from None
    return score(entry, benchmark, **score_kw)


def check_comparable(a: ResultRecord, b: ResultRecord, spec: BenchmarkSpec | None = None) -> None:
    """Refuse two records that do not rank the same queries of the same split and task (and,
    given ``spec``, of that benchmark)."""
    if spec is not None:
        want = spec.name
        for label, r in (("A", a), ("B", b)):
            if r.benchmark != want:
                raise InputError(f"{label}: expected a {want} entry, got a {r.benchmark} record")
    for key in ("benchmark", "task", "split", "query_ids_sha256", "gallery_ids_sha256"):
        if getattr(a, key) != getattr(b, key):
            shown = "ids_sha256" if key == "query_ids_sha256" else key
            raise InputError(
                f"compare: expected A and B of the same {shown}, got "
                f"{getattr(a, key)!r} and {getattr(b, key)!r}"
            )
    if list(a.per_query) != list(b.per_query):
        raise InputError(
            f"compare: expected A and B to cover the same directions, got "
            f"{', '.join(a.per_query)} and {', '.join(b.per_query)}"
        )
    t = record_task(a)
    for g in a.per_query:
        na, nb = t.query_count(a.per_query[g]), t.query_count(b.per_query[g])
        if na != nb:
            raise InputError(f"compare: expected the same number of {g} queries, got {na} and {nb}")


# --------------------------------------------------------------------------------------------


def _check_choice(what: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InputError(f"{what}: expected one of {', '.join(choices)}, got {value!r}")


def _disclosure(disclosure: Mapping[str, str | None] | None) -> dict[str, str | None]:
    out: dict[str, str | None] = {k: None for k in DISCLOSURE_KEYS}
    for key, value in (disclosure or {}).items():
        if key not in out and key not in OPTIONAL_DISCLOSURE_KEYS:
            raise InputError(
                f"disclosure: expected keys "
                f"{', '.join(DISCLOSURE_KEYS + OPTIONAL_DISCLOSURE_KEYS)}, got {key!r}"
            )
        out[key] = None if value is None else str(value)
    return out


def provenance_digest(provenance: Mapping[str, Any] | None) -> str | None:
    """The feature store's set digest a submission's provenance names (``features`` ->
    ``features_digest``, as ``var-bench evaluate`` writes it), else None (also when it is not a
    64-hex digest: a hand-edited file does not get to name one)."""
    identity = (provenance or {}).get("features")
    return as_digest(identity.get("features_digest")) if isinstance(identity, Mapping) else None


def _may_fetch(spec: BenchmarkSpec, home: str | os.PathLike | None, mirror: str | None) -> bool:
    """Whether resolving a training-data disclosure may build datasets and fetch annotation files:
    with a mirror, or when the scored benchmark is built here (a user who works online); never
    for a bare matrix scored with nothing at hand."""
    from var_bench.data.prepare import ensure_built
    from var_bench.errors import NotBuiltError

    if mirror is not None:
        return True
    try:
        ensure_built(spec, home=home, download_missing=False)
    except NotBuiltError:
        return False
    return True


def _with_provenance(
    disclosed: dict[str, str | None], provenance: Mapping[str, Any]
) -> dict[str, str | None]:
    """The caller's disclosure, completed from the submission's provenance: a key the caller left
    unstated (None) takes the file's value; keys beyond ``RECORD_DISCLOSURE_KEYS`` stay in the
    provenance only."""
    out = dict(disclosed)
    for key, value in (provenance.get("disclosure") or {}).items():
        if key in RECORD_DISCLOSURE_KEYS and out.get(key) is None and value is not None:
            out[key] = str(value)
    return out


def _bootstrap(
    task: Task, per_query: dict[str, Any], ties: str | None, replicates: int, seed: int
) -> dict:
    from var_bench.scoring.stats.bootstrap import bootstrap_ci

    for name, value, low in (("replicates", replicates, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"{name}: expected an integer >= {low}, got {value!r}")
    return bootstrap_ci(task, per_query, ties, replicates=replicates, seed=seed)


def _is_record_file(path: Path) -> bool:
    """A result record: a JSON object with per-query counts (a moment submission is JSON too)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()[:1]
            if head != b"{":
                return path.suffix.lower() == ".json" and head != b"["
            f.seek(0)
            data = f.read()
            return b'"per_query"' in data or b'"predictions"' not in data
    except OSError:
        return path.suffix.lower() == ".json"


class _TableAccess:
    """The gold and the class table of one split: from the caller (``ids``, ``metadata``), else
    the shipped checksums and the built dataset, each fetched at most once and only when needed
    (a plain matrix needs neither the ids nor the table)."""

    def __init__(
        self,
        split: str,
        ids: Sequence[str] | None,
        metadata: Any,
        home: str | os.PathLike | None,
        mirror: str | None,
    ) -> None:
        self.split, self.home, self.mirror = split, home, mirror
        self._ids = [str(i) for i in ids] if ids is not None else None
        self._metadata = metadata
        if metadata is not None:
            try:
                table_ids = [str(v) for v in list(metadata["video_id"])]
            except (KeyError, TypeError, IndexError):
                raise InputError("metadata: expected a 'video_id' column, got none") from None
            if self._ids is not None and table_ids != self._ids:
                raise InputError(
                    "metadata: expected its video_id column to equal ids, got a different list"
                )
            self._ids = table_ids

    def gold(self, spec: BenchmarkSpec, task: Task) -> Gold:
        from var_bench.data.gold import load_gold

        return load_gold(spec, task, self.split, ids=self._ids, home=self.home, mirror=self.mirror)

    def metadata(self, spec: BenchmarkSpec, gold: Gold) -> Any:
        """The table of classes per query: the caller's, else the built split's (its ids must
        be the caller's ids, when given)."""
        if self._metadata is None:
            from var_bench.data.prepare import load_table

            self._metadata = load_table(spec.name, self.split, home=self.home, mirror=self.mirror)
            table_ids = [str(v) for v in self._metadata["video_id"]]
            if self._ids is not None and table_ids != self._ids:
                raise InputError(
                    f"ids: expected the canonical {spec.name} {self.split} ids of the "
                    f"built dataset, got a different list (pass metadata= as well)"
                )
        return self._metadata
