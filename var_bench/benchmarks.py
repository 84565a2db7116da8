"""Benchmark specifications: the one place the facts about each benchmark live.

A :class:`BenchmarkSpec` names the benchmark, its retrieval directions, modalities, expected
counts, classes, the upstream files it is built from and what to cite. Everything else (build,
scoring, leaderboard, CLI) reads these objects instead of repeating the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .errors import InputError

#: Splits of every built benchmark, in this order. ``val`` is carved from upstream train.
SPLITS: tuple[str, ...] = ("train", "val", "test")


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


@dataclass(frozen=True)
class BenchmarkSpec:
    """Facts about one benchmark. Counts are numbers of videos; ``version`` is the built data's."""

    name: str
    title: str
    version: str
    query_modality: str
    gallery_modality: str
    directions: tuple[Direction, Direction]
    upstream_class_counts: Mapping[str, Mapping[str, int]]
    classes: tuple[str, ...]
    normal_class: str
    sources: Mapping[str, str]
    citation: str
    paper: str
    license_note: str
    class_codes: Mapping[str, str] = field(default_factory=dict)
    val_fraction_denominator: int = 10

    @property
    def direction_names(self) -> tuple[str, str]:
        return (self.directions[0].name, self.directions[1].name)

    def direction(self, name: str) -> Direction:
        for d in self.directions:
            if d.name == name:
                return d
        raise InputError(
            f"unknown direction for {self.name}: expected one of {', '.join(self.direction_names)}, "
            f"got {name!r}"
        )

    @property
    def upstream_counts(self) -> dict[str, int]:
        """Videos per upstream split (train, test): the sums of ``upstream_class_counts``."""
        return {split: sum(c.values()) for split, c in self.upstream_class_counts.items()}

    @property
    def test_size(self) -> int:
        """N: the test split has N queries and N gallery items, one positive each."""
        return self.upstream_counts["test"]


_VAR_BIB = """@article{wu2024var,
  title   = {Towards Video Anomaly Retrieval from Video Anomaly Detection: New Benchmarks and Model},
  author  = {Wu, Peng and Liu, Jing and He, Xiangteng and Peng, Yuxin and Wang, Peng and Zhang, Yanning},
  journal = {IEEE Transactions on Image Processing},
  volume  = {33},
  pages   = {2213--2225},
  year    = {2024},
  note    = {arXiv:2307.12545}
}"""

_UCF_BIB = """@inproceedings{sultani2018real,
  title     = {Real-World Anomaly Detection in Surveillance Videos},
  author    = {Sultani, Waqas and Chen, Chen and Shah, Mubarak},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {6479--6488},
  year      = {2018}
}"""

_URDMU_BIB = """@inproceedings{zhou2023dual,
  title     = {Dual Memory Units with Uncertainty Regulation for Weakly Supervised Video Anomaly Detection},
  author    = {Zhou, Hang and Yu, Junqing and Yang, Wei},
  booktitle = {AAAI Conference on Artificial Intelligence},
  year      = {2023}
}"""

_XD_BIB = """@inproceedings{wu2020not,
  title     = {Not only Look, but also Listen: Learning Multimodal Violence Detection under Weak Supervision},
  author    = {Wu, Peng and Liu, Jing and Shi, Yujia and Sun, Yujia and Shao, Fangtao and Wu, Zhaoyang and Yang, Zhiwei},
  booktitle = {European Conference on Computer Vision (ECCV)},
  pages     = {322--339},
  year      = {2020}
}"""

_UCF_CLASSES = (
    "Abuse", "Arrest", "Arson", "Assault", "Burglary", "Explosion", "Fighting", "RoadAccidents",
    "Robbery", "Shooting", "Shoplifting", "Stealing", "Vandalism", "Normal",
)

_XD_CODES = {
    "A": "Normal", "B1": "Fighting", "B2": "Shooting", "B4": "Riot", "B5": "Abuse",
    "B6": "Car accident", "G": "Explosion",
}


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(
        {k: _frozen(v) if isinstance(v, dict) else v for k, v in mapping.items()}
    )


UCFCRIME_AR = BenchmarkSpec(
    name="ucfcrime-ar",
    title="UCFCrime-AR",
    version="1.0.0",
    query_modality="text",
    gallery_modality="video",
    directions=(Direction("t2v", "text", "video", True), Direction("v2t", "video", "text", False)),
    # 1610 train (810 anomalous + 800 normal), 290 test (140 + 150).
    upstream_class_counts=_frozen({
        "train": {"Abuse": 48, "Arrest": 45, "Arson": 41, "Assault": 47, "Burglary": 87,
                  "Explosion": 29, "Fighting": 45, "RoadAccidents": 127, "Robbery": 145,
                  "Shooting": 27, "Shoplifting": 29, "Stealing": 95, "Vandalism": 45, "Normal": 800},
        "test": {"Abuse": 2, "Arrest": 5, "Arson": 9, "Assault": 3, "Burglary": 13,
                 "Explosion": 21, "Fighting": 5, "RoadAccidents": 23, "Robbery": 5,
                 "Shooting": 23, "Shoplifting": 21, "Stealing": 5, "Vandalism": 5, "Normal": 150},
    }),
    classes=_UCF_CLASSES,
    normal_class="Normal",
    sources=_frozen({
        "captions_train": "Roc-Ng-VAR/ucf_crime_train.xlsx",
        "captions_test": "Roc-Ng-VAR/ucf_crime_test.xlsx",
        "split_train": "WaqasSultani-AnomalyDetectionCVPR2018/Anomaly_Train.txt",
        "annotation_test": "WaqasSultani-AnomalyDetectionCVPR2018/Temporal_Anomaly_Annotation.txt",
        "frames_test": "henrryzh1-UR-DMU/UCF_Annotation.txt",
    }),
    citation="\n\n".join([_VAR_BIB, _UCF_BIB, _URDMU_BIB]),
    paper="Wu et al., Towards Video Anomaly Retrieval from Video Anomaly Detection, IEEE TIP 33 (2024)",
    license_note=(
        "Captions (Roc-Ng/VAR) and UCF-Crime lists carry no licence file: research use, cite the "
        "papers. UR-DMU frame counts: MIT. var_bench downloads from upstream and never "
        "redistributes captions or videos."
    ),
)

XDVIOLENCE_AR = BenchmarkSpec(
    name="xdviolence-ar",
    title="XDViolence-AR",
    version="1.0.0",
    query_modality="audio",
    gallery_modality="video",
    directions=(Direction("a2v", "audio", "video", True), Direction("v2a", "video", "audio", False)),
    # 3954 train, 800 test (500 violent + 300 normal).
    # Per class of the first label code (the class the validation rule and breakdowns use).
    upstream_class_counts=_frozen({
        "train": {"Normal": 2049, "Fighting": 445, "Shooting": 336, "Riot": 381, "Abuse": 36,
                  "Car accident": 393, "Explosion": 314},
        "test": {"Normal": 300, "Fighting": 120, "Shooting": 84, "Riot": 101, "Abuse": 8,
                 "Car accident": 96, "Explosion": 91},
    }),
    classes=tuple(_XD_CODES.values()),
    normal_class="Normal",
    sources=_frozen({
        "list_train": "Roc-Ng-XDVioDet/audio.list",
        "list_test": "Roc-Ng-XDVioDet/audio_test.list",
        "annotation_test": "Roc-Ng-XD-Violence/annotations.txt",
    }),
    citation="\n\n".join([_VAR_BIB, _XD_BIB]),
    paper="Wu et al., Towards Video Anomaly Retrieval from Video Anomaly Detection, IEEE TIP 33 (2024)",
    license_note=(
        "XD-Violence lists and annotations (Roc-Ng) carry no licence file: research use, cite the "
        "papers. var_bench downloads from upstream and never redistributes videos or features."
    ),
    class_codes=_frozen(_XD_CODES),
)

BENCHMARKS: Mapping[str, BenchmarkSpec] = MappingProxyType(
    {b.name: b for b in (UCFCRIME_AR, XDVIOLENCE_AR)}
)


def benchmarks() -> list[str]:
    """Names of the available benchmarks."""
    return list(BENCHMARKS)


def get_benchmark(name: str | BenchmarkSpec) -> BenchmarkSpec:
    """The spec for ``name`` (case-insensitive; ``_`` and ``-`` are interchangeable)."""
    if isinstance(name, BenchmarkSpec):
        return name
    key = str(name).strip().lower().replace("_", "-")
    try:
        return BENCHMARKS[key]
    except KeyError:
        raise InputError(
            f"unknown benchmark: expected one of {', '.join(BENCHMARKS)}, got {name!r}"
        ) from None
