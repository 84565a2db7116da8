"""Small synthetic raw upstream files with every quirk of the real ones, for build tests.

``make_ucf(folder)`` / ``make_xd(folder)`` write files laid out like a mirror and return a
:class:`RawFixture`: the spec to build with (the real spec with the fixture's class counts), the
raw paths by role, a SplitInfo whose checksums are computed here from the expected id lists, and
those expected lists.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path

import openpyxl

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR, BenchmarkSpec, source
from var_bench.benchmarks.kit import ValidationRule
from var_bench.data.splits import SplitInfo
from var_bench.fsutil import sha256_lines

RULE = ValidationRule("train", "class", 10)


@dataclass
class RawFixture:
    spec: BenchmarkSpec
    raw: dict[str, Path]
    info: SplitInfo
    expected: dict[str, list[str]]


def _val(ids_by_class: dict[str, list[str]]) -> set[str]:
    """The rule written out independently: per class the ceil(n/10) smallest sha256 digests."""
    out = set()
    for ids in ids_by_class.values():
        ranked = sorted(ids, key=lambda v: hashlib.sha256(v.encode()).hexdigest())
        out.update(ranked[: math.ceil(len(ids) / 10)])
    return out


def _path(folder: Path, spec: BenchmarkSpec, role: str) -> Path:
    p = folder / source(spec.sources[role]).key
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def _xlsx(path: Path, sheet: str, rows: list[tuple], extra_cols: int = 0) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["Video Name", "Chinese Text", "English Text"] + [None] * extra_cols)
    for r in rows:
        ws.append(list(r) + [None] * extra_cols)
    wb.save(path)


UCF_TRAIN = [  # (folder/name, zh, en); most names end in a stray newline, like upstream
    ("Abuse/Abuse001_x264.mp4\n", "男子殴打妇女。", "A man hit a woman."),
    ("Abuse/Abuse002_x264.mp4\n", "两名男子打架。", "Two men   fought\nin the street."),
    ("Abuse/Abuse003_x264.mp4", "男子踢狗。", "A man kicked a dog."),
    ("Arrest/Arrest001_x264.mp4\n", "警察逮捕男子。", "Police arrested a man."),
    ("Training_Normal_Videos_Anomaly/Normal_Videos001_x264.mp4\n", "街道。", "An empty street."),
    ("Training_Normal_Videos_Anomaly/Normal_Videos002_x264.mp4\n", "街道。", "An empty street."),
    ("Training_Normal_Videos_Anomaly/Normal_Videos003_x264.mp4\n", "商店。", "People shop."),
]
UCF_TEST = [
    ("Abuse/Abuse028_x264.mp4\n", "男子打狗。", "A man beat a dog."),
    ("Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4\n", "路口。", "Cars pass."),
    ("Testing_Normal_Videos_Anomaly/Normal_Videos_006_x264.mp4", "路口。", "Cars pass."),
]


def make_ucf(folder: Path) -> RawFixture:
    spec = replace(
        UCFCRIME_AR,
        upstream_class_counts={
            "train": {"Abuse": 3, "Arrest": 1, "Normal": 3},
            "test": {"Abuse": 1, "Normal": 2},
        },
    )
    raw = {role: _path(folder, spec, role) for role in spec.sources}
    _xlsx(raw["captions_train"], "sheet1", UCF_TRAIN)
    _xlsx(raw["captions_test"], "Sheet1", UCF_TEST, extra_cols=2)
    raw["split_train"].write_text("".join(n.strip() + "\n" for n, _, _ in UCF_TRAIN))
    raw["annotation_test"].write_text(
        "Abuse028_x264.mp4  Abuse  165  240  -1  -1  \n"
        "Normal_Videos_003_x264.mp4  Normal  -1  -1  -1  -1  \n"
        "Normal_Videos_006_x264.mp4\tNormal\t-1\t-1\t-1\t-1\n"
    )
    raw["frames_test"].write_text(  # 230 frames: the segment end (240) runs past it
        "Abuse/Abuse028_x264.mp4 230 Abuse 165 240 -1 -1 \n"
        "Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4 530 Normal -1 -1 -1 -1 \n"
        "Testing_Normal_Videos_Anomaly/Normal_Videos_006_x264.mp4 1799 Normal -1 -1 -1 -1 \n"
    )
    stems = [Path(n.strip()).stem for n, _, _ in UCF_TRAIN]
    by_class = {"Abuse": stems[:3], "Arrest": stems[3:4], "Normal": stems[4:]}
    val = _val(by_class)
    expected = {
        "train": [s for s in stems if s not in val],
        "val": [s for s in stems if s in val],
        "test": [Path(n.strip()).stem for n, _, _ in UCF_TEST],
    }
    info = SplitInfo(spec.name, RULE, {k: sha256_lines(v) for k, v in expected.items()})
    return RawFixture(spec, raw, info, expected)


XD_TRAIN = [
    "Bad.Boys.1995__#00-26-51_00-27-53_label_B2-0-0",
    "Bad.Boys.1995__#00-38-16_00-38-50_label_B1-B2-0",
    "v=abc__#1_label_G-0-0",
    "v=def=@x__#00-01-00_00-02-00_label_B4-B6-G",
    "wangted.2008__#01-23-38_01-24-25_label_A",
    "wangted.2008__#01-26-25_01-27-00_label_A",
]
XD_TEST = [
    "Bad.Boys.1995__#01-11-55_01-12-40_label_G-B2-B6",
    "v=-fOWSLV6Esw__#1_label_B4-0-0",
    "Normal.Film__#00-00-00_00-01-00_label_A",
]


def make_xd(folder: Path) -> RawFixture:
    spec = replace(
        XDVIOLENCE_AR,
        upstream_class_counts={
            "train": {"Shooting": 1, "Fighting": 1, "Explosion": 1, "Riot": 1, "Normal": 2},
            "test": {"Explosion": 1, "Riot": 1, "Normal": 1},
        },
    )
    raw = {role: _path(folder, spec, role) for role in spec.sources}
    raw["list_train"].write_text(
        "".join(f"/media/peng/Samsung_T5/vggish-features/train/{v}__vggish.npy\n" for v in XD_TRAIN)
    )
    raw["list_test"].write_text(
        "".join(  # Windows separators and CRLF, as some lists have
            f"G:\\vggish-features\\test\\{v}__vggish.npy\r\n" for v in XD_TEST
        )
    )
    raw["annotation_test"].write_text(f"{XD_TEST[0]}.mp4 157 180 185 244\n{XD_TEST[1]} 20 772\n")
    by_class = {
        "Shooting": XD_TRAIN[:1],
        "Fighting": XD_TRAIN[1:2],
        "Explosion": XD_TRAIN[2:3],
        "Riot": XD_TRAIN[3:4],
        "Normal": XD_TRAIN[4:],
    }
    val = _val(by_class)
    expected = {
        "train": [v for v in XD_TRAIN if v not in val],
        "val": [v for v in XD_TRAIN if v in val],
        "test": list(XD_TEST),
    }
    info = SplitInfo(spec.name, RULE, {k: sha256_lines(v) for k, v in expected.items()})
    return RawFixture(spec, raw, info, expected)
