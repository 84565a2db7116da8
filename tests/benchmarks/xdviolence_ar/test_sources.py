import pytest

from var_bench.benchmarks.xdviolence_ar.lists import read_xd_list
from var_bench.benchmarks.xdviolence_ar.sources import FILM, YOUTUBE, xd_clip
from var_bench.errors import DataError


@pytest.mark.parametrize(
    "vid, source, kind, span",
    [
        # films with dots, one- and two-digit hours
        ("Bad.Boys.1995__#00-26-51_00-27-53_label_B2-0-0", "Bad.Boys.1995", FILM, (1611, 1673)),
        ("Deadpool.2.2018__#0-01-55_0-02-34_label_G-0-0", "Deadpool.2.2018", FILM, (115, 154)),
        (
            "Crank.Dircut.2006__#0-59-02_1-00-32_label_B2-0-0",
            "Crank.Dircut.2006",
            FILM,
            (3542, 3632),
        ),
        ("Taken.3.2014__#01-20-10_01-21-30_label_A", "Taken.3.2014", FILM, (4810, 4890)),
        # YouTube ids with dashes and underscores, with a span or a clip number
        ("v=UK--hvgP2uY__#1_label_G-0-0", "v=UK--hvgP2uY", YOUTUBE, None),
        ("v=3lSHv_DUbJs__#1_label_A", "v=3lSHv_DUbJs", YOUTUBE, None),
        ("v=gp_D8r-2hwk__#1_label_G-0-0", "v=gp_D8r-2hwk", YOUTUBE, None),
        ("v=Y43UkfAe_bc__#00-00-00_00-01-40_label_B4-0-0", "v=Y43UkfAe_bc", YOUTUBE, (0, 100)),
        ("v=VEF11DADed__#1_label_A", "v=VEF11DADed", YOUTUBE, None),
    ],
)
def test_source_of_every_name_pattern(vid, source, kind, span):
    clip = xd_clip(vid)
    assert (clip.video_id, clip.source, clip.kind) == (vid, source, kind)
    got = None if clip.start_s is None else (clip.start_s, clip.end_s)
    assert got == span


@pytest.mark.parametrize(
    "vid, match",
    [
        ("Bad.Boys.1995_label_A", "__#"),
        ("Film__#00-10-00_00-09-00_label_A", "ends after"),
        ("Film__#ab_label_A", "clip number"),
    ],
)
def test_names_off_the_rule_are_refused(vid, match):
    with pytest.raises(DataError, match=match):
        xd_clip(vid)


def test_every_name_of_the_real_lists_parses(shared_data):
    folder = shared_data / "Roc-Ng-XDVioDet"
    for name in ("audio.list", "audio_test.list"):
        for vid in read_xd_list(folder / name):
            clip = xd_clip(vid)
            assert vid.startswith(clip.source + "__#")
