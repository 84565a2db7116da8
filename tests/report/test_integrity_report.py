import json

import numpy as np
import pytest

from var_bench.data.integrity import source_report
from var_bench.data.prepare import load_integrity
from var_bench.report import write_report


@pytest.fixture
def xd_home(shared_data, tmp_path, monkeypatch):
    from var_bench.data.prepare import download

    home = tmp_path / "home"
    download("xdviolence-ar", home=home, mirror=str(shared_data), progress=False)
    monkeypatch.setenv("VAR_BENCH_HOME", str(home))
    return home


def test_report_shows_seen_vs_unseen_and_same_source_confusions(xd_home, tmp_path):
    facts = load_integrity("xdviolence-ar", home=xd_home)
    r = source_report(facts.clips)
    ids = list(r.video_ids)
    # every query ranks first another clip of its own source (when it has one), then itself
    S = np.random.default_rng(0).random((800, 800)).astype(np.float32) * 0.1
    for i in range(800):
        S[i, i] = 0.5
    for group in r.groups.values():
        pos = [ids.index(v) for v in group]
        for a, b in zip(pos, pos[1:] + pos[:1]):
            S[a, b] = 1.0
    path = tmp_path / "sub.npz"
    np.savez(path, a2v=S, v2a=S)
    text = write_report(str(path), "xdviolence-ar", None, "md", home=xd_home)
    assert "Seen vs unseen source" in text
    assert "| unseen source | 267 |" in text and "| seen source | 533 |" in text
    rows = text.split("## Hardest queries")[1]
    assert rows.count("same source") > 1  # the heading's legend and the marked items
    data = json.loads(write_report(str(path), "xdviolence-ar", None, "json", home=xd_home))
    assert any(any(h.get("same_source", ())) for h in data["hardest"])
    assert [s["Slice"] for s in data["slices"]] == ["unseen source", "seen source"]
