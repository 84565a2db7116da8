"""The cross-modal retrieval task type: a score matrix S ranks the gallery for every query.

Groups are *directions* (:class:`Direction`): ``t2v`` ranks S's columns for each row (a caption
query), ``v2t`` ranks S's rows for each column (a video query). A query's true item is its
best-scored positive (:mod:`.counting`); per query the record keeps b (items scoring strictly
higher) and e (items tied with it), from which every metric under every tie rule is recomputed
(:mod:`.ranks`). Metrics: R@1, R@5, R@10 (percent), MdR and MnR (ranks); main score SumR, the sum
of the three recalls over the directions scored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.tasks.base import (
    MEAN,
    MEDIAN,
    MetricSpec,
    PerQuery,
    SummarySpec,
    Task,
    register_task_type,
)
from var_bench.tasks.gold import Gold
from var_bench.tasks.retrieval.counting import count_direction, count_ranks
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import (
    MEAN_RANK,
    MEDIAN_RANK,
    RECALL_KS,
    RECALLS,
    SUMR,
    TIE_RULES,
)
from var_bench.tasks.retrieval.ranks import (
    rank,
    recall_credit,
    recall_curve,
    summarise,
    tied_query_count,
)

#: Share of tied queries from which the counts alone earn a warning (a zero-padded top-k list
#: or quantised scores): real float scores tie almost never.
TIED_SHARE_WARNING = 0.25


@dataclass(frozen=True)
class Direction:
    """One retrieval direction over the submission matrix S (rows = queries of the first direction).

    ``over_rows`` True: each row of S is one query ranking the columns (``t2v``, ``a2v``);
    False: each column of S is one query ranking the rows (``v2t``, ``v2a``).
    """

    name: str
    query: str
    gallery: str
    over_rows: bool

    @property
    def arrow(self) -> str:
        """Display name as the paper writes it, e.g. ``T->V``."""
        return f"{self.query[0].upper()}->{self.gallery[0].upper()}"


#: The gold of a retrieval task: ``identity`` (query i <-> gallery item i, known from the split's
#: size and id checksum) or ``table`` (positives from the built dataset).
GOLD_KINDS: tuple[str, ...] = ("identity", "table")


@register_task_type("retrieval")
@dataclass(frozen=True)
class Retrieval(Task):
    """A retrieval task of a benchmark.

    Args:
        directions: the directions scored, the first one's queries are S's rows (one or more).
        gold: ``identity`` or ``table`` (:data:`GOLD_KINDS`).
        name: the task's name within the benchmark.

    Example:
        >>> t = Retrieval((Direction("t2v", "text", "video", True),
        ...                Direction("v2t", "video", "text", False)))
        >>> t.groups, t.main_score, [m.name for m in t.metrics]
        (('t2v', 'v2t'), 'SumR', ['R@1', 'R@5', 'R@10', 'MdR', 'MnR'])
    """

    metrics = (
        *(
            MetricSpec(
                f"R@{k}", True, MEAN, "%", f"share of queries whose true item ranks in the top {k}"
            )
            for k in RECALL_KS
        ),
        MetricSpec(MEDIAN_RANK, False, MEDIAN, "rank", "median rank of the true item (1 = first)"),
        MetricSpec(MEAN_RANK, False, MEAN, "rank", "mean rank of the true item (1 = first)"),
    )
    summaries = (SummarySpec(SUMR, RECALLS, True, "R@1 + R@5 + R@10 of every direction scored"),)
    main_score = SUMR
    rules = TIE_RULES
    per_query_fields = {"higher": "count", "tied": "count"}
    group_noun = "direction"
    per_query_noun = "per-query ranks"
    percentage_noun = "recall"
    units_note = "R@K in %, MdR/MnR in ranks (1 = first)"
    curve_points = {f"R@{k}": float(k) for k in RECALL_KS}
    difficulty_label = "rank of the true item"
    group_metric = f"R@{RECALL_KS[-1]}"

    directions: tuple[Direction, ...]
    gold: str = "identity"
    name: str = "retrieval"

    def __post_init__(self) -> None:
        if not self.directions:
            raise InputError(f"retrieval task {self.name}: expected at least one direction")
        names = [d.name for d in self.directions]
        if len(set(names)) != len(names):
            raise InputError(
                f"retrieval task {self.name}: expected distinct direction names, "
                f"got {', '.join(names)}"
            )
        if self.gold not in GOLD_KINDS:
            raise InputError(
                f"retrieval task {self.name}: gold expected one of "
                f"{', '.join(GOLD_KINDS)}, got {self.gold!r}"
            )

    # --- facts ------------------------------------------------------------------------------

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.directions)

    @property
    def direction_names(self) -> tuple[str, ...]:
        return self.groups

    def direction(self, name: str) -> Direction:
        for d in self.directions:
            if d.name == name:
                return d
        raise InputError(
            f"unknown direction: expected one of {', '.join(self.groups)}, got {name!r}"
        )

    @property
    def query_modality(self) -> str:
        """What S's rows are (``text``, ``audio``)."""
        d = self.directions[0]
        return d.query if d.over_rows else d.gallery

    @property
    def gallery_modality(self) -> str:
        """What S's columns are (``video``)."""
        d = self.directions[0]
        return d.gallery if d.over_rows else d.query

    def group_title(self, group: str) -> str:
        return f"{self.direction(group).arrow} ({group})"

    def group_label(self, group: str) -> str:
        return self.direction(group).arrow

    def group_description(self, group: str) -> str:
        d = self.direction(group)
        return f"{d.arrow} = {d.query} to {d.gallery}"

    def group_sizes(self, gold: Gold) -> dict[str, int]:
        return {d.name: gold.queries.n if d.over_rows else gold.gallery.n for d in self.directions}

    @property
    def paired(self) -> bool:
        # Identity gold: query i of every direction is test pair i.
        return self.gold == "identity"

    # --- scoring ----------------------------------------------------------------------------

    def read(
        self,
        submission: Any,
        gold: Gold,
        *,
        benchmark: str,
        groups: Sequence[str] | None = None,
        split: str = "test",
        container: Any = None,
    ):
        """The submission as a :class:`~.submission.assemble.Submission` (see
        :func:`~.submission.read.read_submission`)."""
        from var_bench.tasks.retrieval.submission.read import read_submission

        return read_submission(
            submission,
            self,
            gold,
            benchmark=benchmark,
            split=split,
            directions=groups,
            container=container,
        )

    @classmethod
    def infer_benchmark(
        cls, submission: Any, split: str, candidates: Sequence[tuple[Any, Task]]
    ) -> tuple[Any, Any] | None:
        """The benchmark of a matrix from its keys (direction names) or, on the test split, its
        size: among the candidates whose test queries are their videos (an identity gold of a
        declared size). Returns ``(spec, opened container)``.

        Raises:
            InputError: none or several candidates fit (the message names the sizes expected).
        """
        from var_bench.tasks.retrieval.submission import Candidate, infer_benchmark, open_submission
        from var_bench.tasks.retrieval.submission.read import budget

        sized = [(s, t) for s, t in candidates if t.paired and s.test_videos]
        if not sized:
            return None
        options = [Candidate(s.name, t, (s.test_videos, s.test_videos)) for s, t in sized]
        container = open_submission(submission, budget(None, max(c.shape[0] for c in options)))
        try:
            found = infer_benchmark(container, split, options)
        except BaseException:
            container.close()
            raise
        return next(s for s, _ in sized if s.name == found.name), container

    def input_warnings(self, prediction: Any) -> list[str]:
        """Matrices that look normalised over the query set, or padded with zeros."""
        from var_bench.tasks.retrieval.submission import normalisation_warnings
        from var_bench.tasks.retrieval.submission.guards import zero_cell_warnings

        return normalisation_warnings(prediction) + zero_cell_warnings(prediction)

    def score(self, prediction: Any, gold: Gold) -> dict[str, RankCounts]:
        """(b, e) per query for each direction of ``prediction``, in :attr:`groups` order.

        One pass over S for a joint matrix (both directions together), one pass per matrix for
        the per-direction layout. Kernel refusals (NaN, Inf) are prefixed with the submission's
        name.
        """
        sub = prediction
        label = sub.label
        key = None if gold.is_identity else gold
        got: dict[str, RankCounts] = {}
        try:
            if sub.joint is not None:
                if len(sub.directions) == len(self.directions):
                    rows, cols = count_ranks(sub.joint, key)
                    got = {d.name: rows if d.over_rows else cols for d in self.directions}
                else:
                    d = self.direction(sub.directions[0])
                    got[d.name] = count_direction(sub.joint, d.over_rows, key)
            else:
                for name in sub.directions:
                    label = f"{sub.label}[{name!r}]"
                    # Every per-direction matrix holds one query per row: a column-direction
                    # matrix is S.T, whose gold is the transposed one.
                    over_rows = self.direction(name).over_rows
                    g = key if (key is None or over_rows) else _transposed(gold)
                    got[name] = count_direction(sub.by_direction[name], True, g)
        except InputError as e:
            raise InputError(f"{label}: {e}") from None
        except (OSError, EOFError) as e:
            raise InputError(
                f"{label}: expected a readable matrix, got a read error ({e})"
            ) from None
        return {d: got[d] for d in self.groups if d in got}

    def summarise(self, per_query: PerQuery, rule: str | None) -> dict[str, float]:
        return summarise(_counts(per_query), self.check_rule(rule))

    def values(self, per_query: PerQuery, rule: str | None) -> dict[str, np.ndarray]:
        q, rule = _counts(per_query), self.check_rule(rule)
        r = rank(q, rule)
        out = {f"R@{k}": 100.0 * recall_credit(q, k, rule) for k in RECALL_KS}
        out[MEDIAN_RANK] = r
        out[MEAN_RANK] = r
        return {m.name: out[m.name] for m in self.metrics}

    @classmethod
    def per_query_from_json(cls, raw: Any, where: str) -> RankCounts:
        if not isinstance(raw, Mapping) or not {"higher", "tied"} <= set(raw):
            raise InputError(f"{where}: expected an object with 'higher' and 'tied' lists")
        return RankCounts.from_dict(raw)

    @classmethod
    def per_query_to_json(cls, per_query: PerQuery) -> dict[str, list]:
        return _counts(per_query).to_dict()

    def query_count(self, per_query: PerQuery) -> int:
        return len(_counts(per_query))

    def subset(self, per_query: PerQuery, index: Any) -> RankCounts:
        return _counts(per_query).subset(index)

    def difficulty(self, per_query: PerQuery, rule: str | None) -> np.ndarray:
        """The true item's rank (:func:`~.ranks.rank`)."""
        return rank(_counts(per_query), self.check_rule(rule))

    def query_side(self, group: str) -> bool:
        return self.direction(group).over_rows

    def query_scores(self, prediction: Any) -> dict[str, np.ndarray]:
        """(queries x candidates) float64 scores per direction of an open submission (the whole
        matrix in memory: for reports)."""
        sub = prediction
        out = {}
        if sub.joint is not None:
            m = np.asarray(sub.joint.read_rows(0, sub.joint.shape[0]), dtype=np.float64)
            s = m.T if sub.joint.transposed else m
            for d in self.directions:
                if d.name in sub.directions:
                    out[d.name] = s if d.over_rows else s.T
        for name, src in sub.by_direction.items():
            m = np.asarray(src.read_rows(0, src.shape[0]), dtype=np.float64)
            out[name] = m.T if src.transposed else m
        return out

    def curve(self, per_query: PerQuery, rule: str | None) -> tuple[np.ndarray, np.ndarray]:
        """R@K in percent for K = 1..N (:func:`~.ranks.recall_curve`; N: the queries of a paired
        task, else the last rank any query can take)."""
        q = _counts(per_query)
        ks = None if self.paired else np.arange(1, int((q.higher + q.tied).max()) + 2)
        y = np.asarray(recall_curve(q, ks, ties=self.check_rule(rule)), dtype=float)
        return np.arange(1, y.size + 1), y

    def curve_axes(self, group: str, n: int) -> tuple[str, str]:
        return f"K (log scale, 1 to {n})", "R@K (%)"

    def details(self, per_query: Mapping[str, PerQuery]) -> dict[str, Any]:
        return {"tied_queries": {d: tied_query_count(_counts(q)) for d, q in per_query.items()}}

    def checks(self, per_query: Mapping[str, PerQuery], rule: str | None) -> tuple[str, ...]:
        """* a perfect SumR (every true item first in every direction: an oracle or a leak);
        * at least :data:`TIED_SHARE_WARNING` of a direction's queries tied with other items
          (e > 0), which is what a zero-padded top-k list or quantised scores give."""
        found = []
        metrics = {d: self.summarise(q, rule) for d, q in per_query.items()}
        if all(m[r] == 100.0 for m in metrics.values() for r in RECALLS):
            found.append(
                "implausible: perfect SumR (every true item ranked first): an oracle or "
                "a leak of the test answers, not a model"
            )
        for d, q in per_query.items():
            q = _counts(q)
            share = tied_query_count(q) / max(1, len(q))
            if share >= TIED_SHARE_WARNING:
                found.append(
                    f"{d}: {100 * share:.0f}% of the queries are tied with other items "
                    f"(zero-padded top-k lists or quantised scores?)"
                )
        return tuple(found)


def _counts(per_query: Any) -> RankCounts:
    if isinstance(per_query, RankCounts):
        return per_query
    return RankCounts(per_query["higher"], per_query["tied"])


def _transposed(gold: Gold) -> Gold:
    """The gold of S.T: gallery items become the queries, each answered by the queries it
    answers."""
    qi, gj = gold.pairs()
    order = np.lexsort((qi, gj))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(gj, minlength=gold.gallery.n))])
    return Gold(gold.gallery, gold.queries, (indptr, qi[order]), gold.gallery_meta, gold.query_meta)
