"""UCA (UCF-Crime Annotation; Yuan et al., CVPR 2024): sentences with start/end in seconds over
UCF-Crime videos, in one unit.

Every upstream video carries a duration and a list of (sentence, [start_s, end_s]) pairs; the
built splits hold one row per sentence (``query_id`` = ``<video_id>#<upstream index>``) and a
video table per split (the gallery: the split's videos with their durations). UCA ships its own
train / val / test split (1,165 / 379 / 310 videos), so no validation rule applies. Video ids are
UCF-Crime's file stems, the id space of UCFCrime-AR (the ``ucf-crime`` collection), so the two
benchmarks' splits can be crossed (``var_bench.data.overlap``). Tasks: corpus moment retrieval
(``moments``, the default) and single-video grounding (``grounding``), both of
:mod:`var_bench.tasks.moments`. The assembler (``assemble.py``) is imported only when a build runs.
"""

from __future__ import annotations

from var_bench.benchmarks.collections import UCF_CRIME
from var_bench.benchmarks.sources import SourceFile
from var_bench.benchmarks.spec import BenchmarkSpec, ColumnSpec
from var_bench.benchmarks.ucfcrime_ar import SPEC as UCFCRIME_AR
from var_bench.tasks.moments import Grounding, MomentRetrieval

_UCA = ("Xuange923", "Surveillance-Video-Understanding", "e478cb5b2277c6b7cf6a1dc4691021592003e216")
_LICENSE = "Apache-2.0 (stated in the upstream README; academic and research purposes)"


#: Sentences and videos per split as published upstream (before the build drops exact repeats).
UPSTREAM_COUNTS = {
    "train": {"videos": 1165, "sentences": 15677},
    "val": {"videos": 379, "sentences": 3534},
    "test": {"videos": 310, "sentences": 4331},
}

_UCA_BIB = """@inproceedings{yuan2024uca,
  title     = {Towards Surveillance Video-and-Language Understanding: New Dataset, Baselines, and Challenges},
  author    = {Yuan, Tongtong and Zhang, Xuange and Liu, Kun and Liu, Bo and Chen, Chen and Jin, Jian and Jiao, Zhenzhen},
  booktitle = {IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2024}
}"""  # noqa: E501

SPEC = BenchmarkSpec(
    name="uca",
    title="UCA",
    version="1.0.0",
    query_modality="text",
    gallery_modality="video",
    tasks=(MomentRetrieval("moments"), Grounding("grounding")),
    classes=UCFCRIME_AR.classes,  # UCF-Crime's 13 anomaly classes and Normal
    normal_class="Normal",
    sources={
        "train": SourceFile(
            *_UCA,
            "UCF Annotation/json/UCFCrime_Train.json",
            3091246,
            "0df6a6e5e1e1b17b87e229edb865c9dea3e23505fd29256a894660687ff4eba2",
            _LICENSE,
            "UCA train: 1165 videos / 15677 sentences with start/end in seconds",
        ),
        "val": SourceFile(
            *_UCA,
            "UCF Annotation/json/UCFCrime_Val.json",
            678678,
            "f93720c911d0bfb3e8da168c7da43538227f0edcf90258a407856913fcacf559",
            _LICENSE,
            "UCA val: 379 videos / 3534 sentences",
        ),
        "test": SourceFile(
            *_UCA,
            "UCF Annotation/json/UCFCrime_Test.json",
            842652,
            "8912bc02c1871e177ffc7f45ed54395c0e34e1a8007a474b91309ce8a816f981",
            _LICENSE,
            "UCA test: 310 videos / 4331 sentences",
        ),
    },
    columns=(
        ColumnSpec("query_id", "string", "<video_id>#<i>: the i-th (0-based) sentence upstream."),
        ColumnSpec("video_id", "string", "UCF-Crime file stem (e.g. Abuse037_x264)."),
        ColumnSpec("sentence", "string", "English sentence; whitespace runs folded, ends trimmed."),
        ColumnSpec("start_s", "float64", "Moment start in seconds (0 <= start_s < end_s)."),
        ColumnSpec("end_s", "float64", "Moment end in seconds (end_s <= duration_s)."),
        ColumnSpec("duration_s", "float64", "Duration of the video in seconds (upstream)."),
        ColumnSpec("video_ids", "list<string>", "The query's positive videos: [video_id]."),
        ColumnSpec("class", "string", "UCF-Crime class of the video (from its id)."),
        ColumnSpec("anomalous", "bool", "True unless the class is Normal."),
        ColumnSpec("upstream_index", "int32", "0-based index of the sentence in its video."),
    ),
    assembler="var_bench.benchmarks.uca.assemble:assemble",
    videos=UCF_CRIME,
    text_column="sentence",
    package=__name__,
    citation=_UCA_BIB,
    paper=(
        "Yuan et al., Towards Surveillance Video-and-Language Understanding: New Dataset, "
        "Baselines, and Challenges, CVPR 2024"
    ),
    license_note=(
        "UCA annotations: Apache-2.0 as stated in the upstream README (academic and research "
        "purposes). UCF-Crime videos carry no licence. var_bench downloads the annotations "
        "from upstream and never redistributes them."
    ),
)
