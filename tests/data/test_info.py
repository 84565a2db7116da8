from var_bench.data.info import benchmark_info


def test_info_counts_and_caption_lengths(built_home):
    i = benchmark_info("ucfcrime-ar", download=False)
    assert i.counts == {k: len(v) for k, v in built_home["ucfcrime-ar"].expected.items()}
    assert i.class_counts["test"]["Abuse"] == 1 and i.class_counts["test"]["Robbery"] == 0
    assert i.anomalous_counts["test"] == 1
    assert i.caption_lengths["caption_en"].unit == "words"
    assert i.annotated_test_videos == 1
    assert "sultani2018real" in i.citation


def test_info_xd_has_no_caption_stats_and_counts_annotated_videos(built_home):
    i = benchmark_info("xdviolence-ar", download=False)
    assert i.caption_lengths == {}
    assert i.annotated_test_videos == 2
    assert i.class_counts["test"]["Explosion"] == 1 and i.anomalous_counts["test"] == 2
    assert [s["key"] for s in i.sources][0] == "Roc-Ng-XDVioDet/audio.list"
