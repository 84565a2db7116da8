"""UCFCrime-AR (video <-> text): every fact about the benchmark, in one unit.

Split rule and id-list checksums: ``splits.json``; the paper's Table II: ``published.json``
(both beside this module). The assembler and its parsers of the upstream files: ``assemble.py``
(``captions.py``: the xlsx captions; ``annotations.py``: the temporal annotations), imported only
when a build runs.
"""

from __future__ import annotations

from var_bench.benchmarks.collections import UCF_CRIME
from var_bench.benchmarks.common import PAPER, VAR_BIB
from var_bench.benchmarks.sources import NO_LICENSE, SourceFile
from var_bench.benchmarks.spec import BenchmarkSpec, ColumnSpec, frozen
from var_bench.tasks.moments import MomentRetrieval
from var_bench.tasks.retrieval import Direction, Retrieval

_VAR = ("Roc-Ng", "VAR", "a724ee1f248a38383a29a1c256a1f3672cb15466")
_SULTANI = ("WaqasSultani", "AnomalyDetectionCVPR2018", "8aa957cdaa7eac821e07115fe63920c3b07da59d")
_URDMU = ("henrryzh1", "UR-DMU", "40cfdf5f8bebbc3b59373935f9d6ca00e2f32bbc")

_CAPTIONS_TRAIN = SourceFile(
    *_VAR,
    "ucf_crime_train.xlsx",
    142895,
    "c502ae84404af24c5737fbf6ece366d0880ef8623fc9b2826ba86de9883eb0cc",
    NO_LICENSE,
    "UCFCrime-AR captions, train (1610 rows; Video Name, Chinese Text, English Text)",
)
_CAPTIONS_TEST = SourceFile(
    *_VAR,
    "ucf_crime_test.xlsx",
    42880,
    "86638212e509b8ba0e9d5e9c81af5b3d5b6f427bd33a9c0b5ba36f202e998a85",
    NO_LICENSE,
    "UCFCrime-AR captions, test (290 rows)",
)
_SPLIT_TRAIN = SourceFile(
    *_SULTANI,
    "Anomaly_Train.txt",
    70394,
    "ea91e03de7581bfa6b139e663ebb7511ab1651c33427f85741d3f497a2027744",
    NO_LICENSE,
    "official UCF-Crime anomaly-detection train split (1610 Class/Name.mp4)",
)
_ANNOTATION_TEST = SourceFile(
    *_SULTANI,
    "Temporal_Anomaly_Annotation.txt",
    15574,
    "3b9542413f2ed9e94f73bf0488c151b3d7d595a8d2ad30f524e9243a2ae2a17c",
    NO_LICENSE,
    "official UCF-Crime test temporal annotation (290 lines, frames)",
)
_FRAMES_TEST = SourceFile(
    *_URDMU,
    "list/UCF_Annotation.txt",
    21149,
    "bdf45085ca9d13904b00c60e6cb2ba903f5836f854626fd4350b3d748e58d189",
    "MIT",
    "UCF-Crime test annotation with per-video frame counts",
)

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
}"""  # noqa: E501

_UCF_CLASSES = (
    "Abuse",
    "Arrest",
    "Arson",
    "Assault",
    "Burglary",
    "Explosion",
    "Fighting",
    "RoadAccidents",
    "Robbery",
    "Shooting",
    "Shoplifting",
    "Stealing",
    "Vandalism",
    "Normal",
)

SPEC = BenchmarkSpec(
    name="ucfcrime-ar",
    title="UCFCrime-AR",
    version="1.0.0",
    query_modality="text",
    gallery_modality="video",
    tasks=(
        Retrieval(
            (Direction("t2v", "text", "video", True), Direction("v2t", "video", "text", False))
        ),
        # The anomaly-moment track: the 140 anomalous test captions retrieve (video, segment)
        # among the 290 test videos; gold = the temporal annotation, frames / fps (test only).
        MomentRetrieval("moments", query_filter="anomalous", segment_unit="frames"),
    ),
    # 1610 train (810 anomalous + 800 normal), 290 test (140 + 150).
    upstream_class_counts=frozen(
        {
            "train": {
                "Abuse": 48,
                "Arrest": 45,
                "Arson": 41,
                "Assault": 47,
                "Burglary": 87,
                "Explosion": 29,
                "Fighting": 45,
                "RoadAccidents": 127,
                "Robbery": 145,
                "Shooting": 27,
                "Shoplifting": 29,
                "Stealing": 95,
                "Vandalism": 45,
                "Normal": 800,
            },
            "test": {
                "Abuse": 2,
                "Arrest": 5,
                "Arson": 9,
                "Assault": 3,
                "Burglary": 13,
                "Explosion": 21,
                "Fighting": 5,
                "RoadAccidents": 23,
                "Robbery": 5,
                "Shooting": 23,
                "Shoplifting": 21,
                "Stealing": 5,
                "Vandalism": 5,
                "Normal": 150,
            },
        }
    ),
    classes=_UCF_CLASSES,
    normal_class="Normal",
    sources=frozen(
        {
            "captions_train": _CAPTIONS_TRAIN,
            "captions_test": _CAPTIONS_TEST,
            "split_train": _SPLIT_TRAIN,
            "annotation_test": _ANNOTATION_TEST,
            "frames_test": _FRAMES_TEST,
        }
    ),
    columns=(
        ColumnSpec(
            "video_id",
            "string",
            "Canonical id: the video file stem, verbatim "
            "(e.g. Abuse028_x264, Normal_Videos_003_x264).",
        ),
        ColumnSpec("class", "string", "UCF-Crime class: one of the 13 anomaly classes or Normal."),
        ColumnSpec("anomalous", "bool", "True unless the class is Normal."),
        ColumnSpec(
            "caption_en",
            "string",
            "English caption (the one the paper uses); whitespace runs folded.",
        ),
        ColumnSpec("caption_zh", "string", "Chinese caption; whitespace runs folded."),
        ColumnSpec(
            "video_path",
            "string",
            "Upstream relative path <folder>/<file>.mp4 "
            "(folder Training_/Testing_Normal_Videos_Anomaly for normals).",
        ),
        ColumnSpec(
            "num_frames",
            "int32",
            "Frame count of the video (test split, from UR-DMU's list); null where unknown.",
        ),
        ColumnSpec(
            "segments",
            "list<list<int32>>",
            "Temporal anomaly segments [[start, end], ...] in frame numbers, half-open "
            "(start <= frame < end), about 30 fps; ends past num_frames clipped to it; "
            "[] for a test video with no anomaly; null on "
            "train/val (no temporal annotation upstream).",
        ),
        ColumnSpec(
            "upstream_index",
            "int32",
            "0-based row of the video in its upstream file (train rows for train and val).",
        ),
    ),
    assembler="var_bench.benchmarks.ucfcrime_ar.assemble:assemble",
    videos=UCF_CRIME,
    text_column="caption_en",
    package=__name__,
    citation="\n\n".join([VAR_BIB, _UCF_BIB, _URDMU_BIB]),
    paper=PAPER,
    license_note=(
        "Captions (Roc-Ng/VAR) and UCF-Crime lists carry no licence file: research use, cite the "
        "papers. UR-DMU frame counts: MIT. var_bench downloads from upstream and never "
        "redistributes captions or videos."
    ),
)
