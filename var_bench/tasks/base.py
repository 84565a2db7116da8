"""What a task type is: its metrics, its main score, how it reads a submission and scores it.

A *task type* (``retrieval``; later moment retrieval, grounding) is one folder under
``var_bench/tasks/`` holding a :class:`Task` subclass registered with :func:`register_task_type`
(or through the ``var_bench.tasks`` entry-point group). A benchmark names its tasks as instances
of those classes, with the facts the type needs (a retrieval task's directions), as MTEB's
``TaskMetadata`` names its ``type`` and ``main_score`` and lm-eval's task YAML its
``output_type`` and ``metric_list``.

Everything above this layer (scoring, records, bootstrap intervals, paired tests, tiers, the
leaderboard, reports, platform exports, checkpoint selection) reads the metric list, the groups
and the main score from the task, and never names a metric itself.

Vocabulary:

* **group**: a set of queries scored together (a retrieval direction, ``t2v``); every metric is
  reported per group;
* **per-query counts**: what the scorer keeps of each query (retrieval: b and e), from which every
  metric under every rule is recomputed (:meth:`Task.summarise`, :meth:`Task.values`);
* **summary**: a task-level figure, the sum of some metrics over every group (:class:`SummarySpec`;
  SumR); the **main score** names a summary or, for a one-group task, a metric;
* **rule**: a variant of the metrics a task may define (retrieval's tie rules); the first is the
  official one, the others are reported as bounds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from var_bench.errors import InputError
from var_bench.registry import Registry

#: How per-query values combine into a metric.
MEAN, MEDIAN = "mean", "median"
AGGREGATIONS: tuple[str, ...] = (MEAN, MEDIAN)
#: Entry-point group through which other packages add task types.
ENTRY_POINT_GROUP = "var_bench.tasks"

#: Per-query counts of one group: named 1-D arrays of equal length (task-defined names).
PerQuery = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class MetricSpec:
    """One metric of a task type (lm-eval's ``MetricSpec``, torchmetrics' ``higher_is_better``).

    Args:
        name: as printed and stored (``R@1``, ``MdR``).
        higher_is_better: the direction of improvement.
        aggregation: ``mean`` or ``median`` of the per-query values (:meth:`Task.values`).
        unit: ``%`` (a percentage of queries: 100 x a mean of per-query credits in [0, 1], so
            binomial intervals apply to it), ``rank`` or another word for tables.
        doc: one line for docs and table notes.
    """

    name: str
    higher_is_better: bool
    aggregation: str = MEAN
    unit: str = "%"
    doc: str = ""

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise InputError(
                f"metric {self.name}: aggregation expected one of "
                f"{', '.join(AGGREGATIONS)}, got {self.aggregation!r}"
            )

    @property
    def is_percentage(self) -> bool:
        """A percentage of queries (binomial intervals apply)."""
        return self.unit == "%"


@dataclass(frozen=True)
class SummarySpec:
    """A task-level figure: ``terms`` summed over every group scored (SumR = R@1 + R@5 + R@10 of
    both directions). Each term must be a mean-type metric, so the summary is a mean of per-query
    values too and paired tests and bootstrap intervals apply to it."""

    name: str
    terms: tuple[str, ...]
    higher_is_better: bool = True
    doc: str = ""


class Task(ABC):
    """One task of a benchmark: the type's metrics and scorer, with the benchmark's facts.

    Subclasses (one per task type, in ``var_bench/tasks/<type>/``) set the class attributes and
    implement the abstract methods; instances are frozen dataclasses carrying the facts one
    benchmark gives the type (``name`` within the benchmark, e.g. ``retrieval``).
    """

    #: The registered type name (set by :func:`register_task_type`).
    type_name: ClassVar[str] = ""
    #: Every metric reported per group, in display order.
    metrics: ClassVar[tuple[MetricSpec, ...]] = ()
    #: Task-level figures (sums over groups).
    summaries: ClassVar[tuple[SummarySpec, ...]] = ()
    #: The metric or summary that ranks entries and selects checkpoints.
    main_score: ClassVar[str] = ""
    #: Rules the metrics can be computed under, the official one first ((): none).
    rules: ClassVar[tuple[str, ...]] = ()
    #: The per-query arrays a record keeps of every group, and what each holds: ``count`` (a
    #: non-negative integer) or ``value`` (a finite number); the record reader checks them.
    per_query_fields: ClassVar[Mapping[str, str]] = {}
    #: Words for tables and notes: what a group is, what the per-query counts are, the units.
    group_noun: ClassVar[str] = "group"
    per_query_noun: ClassVar[str] = "per-query values"
    percentage_noun: ClassVar[str] = "percentage"
    units_note: ClassVar[str] = ""
    #: Metric -> x of a curve through it (retrieval: R@K -> K), for plotting published rows
    #: beside :meth:`curve`; {}: the task has no curve.
    curve_points: ClassVar[Mapping[str, float]] = {}
    #: What :meth:`difficulty` measures (reports: "rank of the true item").
    difficulty_label: ClassVar[str] = "difficulty"
    #: The percentage metric reports break down per class (None: the first percentage metric).
    group_metric: ClassVar[str | None] = None

    name: str

    # --- facts ------------------------------------------------------------------------------

    @property
    @abstractmethod
    def groups(self) -> tuple[str, ...]:
        """The groups a full submission is scored in (retrieval: direction names)."""

    def group_title(self, group: str) -> str:
        """How tables show a group (retrieval: ``T->V (t2v)``)."""
        return group

    def group_label(self, group: str) -> str:
        """A short column prefix for a group (retrieval: ``T->V``)."""
        return group

    def group_description(self, group: str) -> str:
        """One phrase for notes (retrieval: ``T->V = text to video``)."""
        return group

    def group_sizes(self, gold: Any) -> dict[str, int]:
        """Queries per group of a full submission, from the gold."""
        return {g: gold.queries.n for g in self.groups}

    @property
    def paired(self) -> bool:
        """Whether query i of every group belongs to one test item i, so that resampling draws
        items (all groups at once) rather than each group's queries on their own."""
        return False

    @property
    def official_rule(self) -> str | None:
        """The rule figures are stated under by default (None: the task has no rules)."""
        return self.rules[0] if self.rules else None

    def check_rule(self, rule: str | None) -> str | None:
        """``rule`` (None: the official one) when the task knows it, else InputError."""
        if rule is None:
            return self.official_rule
        if rule not in self.rules:
            raise InputError(
                f"ties: expected one of {', '.join(self.rules) or 'none'}, got {rule!r}"
            )
        return rule

    def metric(self, name: str) -> MetricSpec | SummarySpec:
        """The metric or summary spec called ``name``."""
        for m in (*self.metrics, *self.summaries):
            if m.name == name:
                return m
        raise InputError(
            f"{self.type_name}: expected a metric among "
            f"{', '.join(m.name for m in (*self.metrics, *self.summaries))}, "
            f"got {name!r}"
        )

    def higher_is_better(self, name: str) -> bool:
        return self.metric(name).higher_is_better

    def arrow(self, name: str) -> str:
        """↑ where higher is better, ↓ where lower is, for table heads."""
        return "↑" if self.higher_is_better(name) else "↓"

    @property
    def mean_metrics(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics if m.aggregation == MEAN)

    @property
    def median_metrics(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics if m.aggregation == MEDIAN)

    @property
    def main_is_summary(self) -> bool:
        return any(s.name == self.main_score for s in self.summaries)

    # --- scoring ----------------------------------------------------------------------------

    @abstractmethod
    def read(
        self, submission: Any, gold: Any, *, benchmark: str, groups: Sequence[str] | None = None
    ) -> Prediction:
        """Open and check ``submission`` against ``gold`` (a :class:`~var_bench.tasks.gold.Gold`)
        as a :class:`Prediction` (a context manager releasing open files); ``groups`` None: every
        group the submission holds. Refusals are one InputError line."""

    @classmethod
    def infer_benchmark(
        cls, submission: Any, split: str, candidates: Sequence[tuple[Any, Task]]
    ) -> tuple[Any, Any] | None:
        """Which of ``candidates`` (``(spec, task)`` pairs of this type) a submission is for, when
        the type can tell from the submission itself: ``(spec, opened)``, ``opened`` being what
        :meth:`read` may take as ``container`` (None: the type cannot tell)."""
        return None

    def input_warnings(self, prediction: Prediction) -> list[str]:
        """Warnings on a read submission's values (legal to score, but suspicious)."""
        return []

    @abstractmethod
    def score(self, prediction: Prediction, gold: Any) -> dict[str, PerQuery]:
        """Per-query counts of every group of ``prediction``, in :attr:`groups` order."""

    @abstractmethod
    def summarise(self, per_query: PerQuery, rule: str | None) -> dict[str, float]:
        """Every metric of one group, in :attr:`metrics` order, exactly as stated in records."""

    @abstractmethod
    def values(self, per_query: PerQuery, rule: str | None) -> dict[str, np.ndarray]:
        """Per metric, the per-query values whose aggregation (mean or median) is the metric: what
        bootstrap intervals, paired tests and breakdowns resample."""

    @classmethod
    @abstractmethod
    def per_query_from_json(cls, raw: Any, where: str) -> PerQuery:
        """One group's per-query counts from a record's JSON (checked: one line on a bad field)."""

    @classmethod
    def per_query_to_json(cls, per_query: PerQuery) -> dict[str, list]:
        """One group's per-query counts as JSON lists."""
        return {k: np.asarray(v).tolist() for k, v in per_query.items()}

    def query_count(self, per_query: PerQuery) -> int:
        """Queries in one group."""
        return len(next(iter(per_query.values())))

    def subset(self, per_query: PerQuery, index: Any) -> PerQuery:
        """The per-query counts of the queries selected by ``index``."""
        return {k: np.asarray(v)[index] for k, v in per_query.items()}

    def summary(self, metrics: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
        """Every summary from the per-group metrics: the sum of its terms over the groups given,
        in group order then term order."""
        out = {}
        for s in self.summaries:
            total = 0.0
            for group, values in metrics.items():
                missing = [t for t in s.terms if t not in values]
                if missing:
                    raise InputError(
                        f"{s.name}: expected {', '.join(s.terms)} for {group}, got no "
                        f"{', '.join(missing)}"
                    )
                total += sum(float(values[t]) for t in s.terms)
            out[s.name] = total
        return out

    def main_value(
        self, metrics: Mapping[str, Mapping[str, float]], summary: Mapping[str, float]
    ) -> float:
        """The main score's value from a record's metrics and summary."""
        if self.main_is_summary:
            return float(summary[self.main_score])
        (group,) = metrics
        return float(metrics[group][self.main_score])

    def difficulty(self, per_query: PerQuery, rule: str | None) -> np.ndarray:
        """Per query, how badly it was answered (higher = harder; reports list the hardest):
        by default minus its share of the main score."""
        values = self.values(per_query, rule)
        terms = next(
            (s.terms for s in self.summaries if s.name == self.main_score), (self.main_score,)
        )
        return -np.sum([values[t] for t in terms], axis=0)

    def breakdown_metric(self) -> str | None:
        """The percentage metric reports show per class (:attr:`group_metric`)."""
        if self.group_metric is not None:
            return self.group_metric
        return next((m.name for m in self.metrics if m.is_percentage), None)

    def query_side(self, group: str) -> bool:
        """True when the group's queries are the gold's queries (S's rows), False when they are
        its gallery items (retrieval's column directions)."""
        return True

    def query_scores(self, prediction: Prediction) -> dict[str, np.ndarray] | None:
        """Per group, every query's scores over its candidates (queries x candidates), for
        reports that show what was retrieved; None when the task has no such scores."""
        return None

    def curve(self, per_query: PerQuery, rule: str | None) -> tuple[np.ndarray, np.ndarray] | None:
        """A curve of one group for plots (retrieval: R@K for K = 1..N), or None."""
        return None

    def curve_axes(self, group: str, n: int) -> tuple[str, str]:
        """(x label, y label) of :meth:`curve`'s plot."""
        return "", ""

    def details(self, per_query: Mapping[str, PerQuery]) -> dict[str, Any]:
        """Task-specific figures a record keeps beside the metrics (retrieval: tied queries)."""
        return {}

    def checks(self, per_query: Mapping[str, PerQuery], rule: str | None) -> tuple[str, ...]:
        """Warnings the per-query counts support on their own (an oracle-perfect score, ...)."""
        return ()


class Prediction(AbstractContextManager):
    """A checked submission, ready for :meth:`Task.score`; releases open files on exit.

    ``groups``: the groups it answers; ``label``: its name in messages; ``path``: its file (None
    in memory); ``warnings``: notes about the input; ``provenance``: what the file says about how
    it was made (``var-bench evaluate``), else None.
    """

    groups: tuple[str, ...] = ()
    label: str = ""
    path: str | None = None
    warnings: list[str]
    provenance: dict | None = None

    def close(self) -> None:
        """Release open files."""

    def __exit__(self, *exc: Any) -> None:
        self.close()


#: The registered task types: type name -> :class:`Task` subclass.
TASK_TYPES: Registry[type] = Registry("task type", ENTRY_POINT_GROUP)


def register_task_type(name: str):
    """Class decorator: register a :class:`Task` subclass as task type ``name`` (sets its
    ``type_name``); its metric list and main score are checked here, once.

    Raises:
        InputError: the main score names no metric or summary, a summary names a median metric or
            an unknown one, or another class holds the name.
    """

    def decorate(cls: type) -> type:
        names = [m.name for m in cls.metrics]
        means = {m.name for m in cls.metrics if m.aggregation == MEAN}
        for s in cls.summaries:
            bad = [t for t in s.terms if t not in means]
            if bad:
                raise InputError(
                    f"task type {name}: summary {s.name} expected mean-type metric "
                    f"terms, got {', '.join(bad)}"
                )
        if cls.main_score not in names + [s.name for s in cls.summaries]:
            raise InputError(
                f"task type {name}: main_score expected one of its metrics or "
                f"summaries, got {cls.main_score!r}"
            )
        TASK_TYPES.register(
            name,
            cls,
            same=lambda a, b: (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__),
        )
        cls.type_name = name
        return cls

    return decorate
