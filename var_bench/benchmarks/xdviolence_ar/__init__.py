"""XDViolence-AR (video <-> audio): every fact about the benchmark, in one unit.

Split rule and id-list checksums: ``splits.json``; the paper's Table III: ``published.json``
(both beside this module). The assembler and its parsers of the upstream files: ``assemble.py``
(``lists.py``: the VGGish lists and label codes; ``annotations.py``: the temporal annotations),
imported only when a build runs.
"""

from __future__ import annotations

from var_bench.benchmarks.collections import XD_VIOLENCE
from var_bench.benchmarks.common import PAPER, VAR_BIB
from var_bench.benchmarks.sources import NO_LICENSE, SourceFile
from var_bench.benchmarks.spec import BenchmarkSpec, ColumnSpec, frozen
from var_bench.tasks.retrieval import Direction, Retrieval

_XDVIODET = ("Roc-Ng", "XDVioDet", "f846d8cfc454943ec165bd2489b71e7dc0a1064d")
_XDV = ("Roc-Ng", "XD-Violence", "3d4db78b15db767d31b1799be08b33a7bead9219")

_LIST_TRAIN = SourceFile(
    *_XDVIODET,
    "list/audio.list",
    389711,
    "8cf666783b12f9a5a679a91f3c0a6a28f8b65a8f919172ba9e2892ca988db1d2",
    NO_LICENSE,
    "XD-Violence VGGish train list (3954 videos; canonical train order)",
)
_LIST_TEST = SourceFile(
    *_XDVIODET,
    "list/audio_test.list",
    79193,
    "42efb26f799c7528bd26cc579ce32ddf7ec1a18d3c0c19ff67f825d01f2dc761",
    NO_LICENSE,
    "XD-Violence VGGish test list (800 videos; canonical test order)",
)
_ANNOTATION_TEST = SourceFile(
    *_XDV,
    "images/annotations.txt",
    33061,
    "27b583ba06fe2e096d7e3d281845365c3b24de7e30797ae5c1ec771667e04c2f",
    NO_LICENSE,
    "official XD-Violence test temporal annotations (violent videos, frames at 24 fps)",
)

_XD_BIB = """@inproceedings{wu2020not,
  title     = {Not only Look, but also Listen: Learning Multimodal Violence Detection under Weak Supervision},
  author    = {Wu, Peng and Liu, Jing and Shi, Yujia and Sun, Yujia and Shao, Fangtao and Wu, Zhaoyang and Yang, Zhiwei},
  booktitle = {European Conference on Computer Vision (ECCV)},
  pages     = {322--339},
  year      = {2020}
}"""  # noqa: E501

_XD_CODES = {
    "A": "Normal",
    "B1": "Fighting",
    "B2": "Shooting",
    "B4": "Riot",
    "B5": "Abuse",
    "B6": "Car accident",
    "G": "Explosion",
}


SPEC = BenchmarkSpec(
    name="xdviolence-ar",
    title="XDViolence-AR",
    version="1.0.0",
    query_modality="audio",
    gallery_modality="video",
    tasks=(
        Retrieval(
            (Direction("a2v", "audio", "video", True), Direction("v2a", "video", "audio", False))
        ),
    ),
    # 3954 train, 800 test (500 violent + 300 normal).
    # Per class of the first label code (the class the validation rule and breakdowns use).
    upstream_class_counts=frozen(
        {
            "train": {
                "Normal": 2049,
                "Fighting": 445,
                "Shooting": 336,
                "Riot": 381,
                "Abuse": 36,
                "Car accident": 393,
                "Explosion": 314,
            },
            "test": {
                "Normal": 300,
                "Fighting": 120,
                "Shooting": 84,
                "Riot": 101,
                "Abuse": 8,
                "Car accident": 96,
                "Explosion": 91,
            },
        }
    ),
    classes=tuple(_XD_CODES.values()),
    normal_class="Normal",
    sources=frozen(
        {
            "list_train": _LIST_TRAIN,
            "list_test": _LIST_TEST,
            "annotation_test": _ANNOTATION_TEST,
        }
    ),
    columns=(
        ColumnSpec(
            "video_id",
            "string",
            "Canonical id: the video stem, verbatim (contains # = - . @: quote it in URLs).",
        ),
        ColumnSpec(
            "class",
            "string",
            "Class of the first label code "
            "(Normal, Fighting, Shooting, Riot, Abuse, Car accident, Explosion).",
        ),
        ColumnSpec("anomalous", "bool", "True for violent videos (label code other than A)."),
        ColumnSpec(
            "labels",
            "list<string>",
            "Label codes in id order, 0 padding dropped (A, B1, B2, B4, B5, B6, G; no B3).",
        ),
        ColumnSpec("label_names", "list<string>", "Class names of the label codes."),
        ColumnSpec(
            "segments",
            "list<list<int32>>",
            "Temporal anomaly segments [[start, end], ...] in frame numbers, half-open "
            "(start <= frame < end) at 24 fps; [] for a test video with no anomaly; null on "
            "train/val (no temporal annotation upstream).",
        ),
        ColumnSpec(
            "upstream_index",
            "int32",
            "0-based line of the video in its upstream audio list (train lines for train and val).",
        ),
    ),
    assembler="var_bench.benchmarks.xdviolence_ar.assemble:assemble",
    videos=XD_VIOLENCE,
    package=__name__,
    citation="\n\n".join([VAR_BIB, _XD_BIB]),
    paper=PAPER,
    license_note=(
        "XD-Violence lists and annotations (Roc-Ng) carry no licence file: research use, cite the "
        "papers. var_bench downloads from upstream and never redistributes videos or features."
    ),
    class_codes=frozen(_XD_CODES),
)
