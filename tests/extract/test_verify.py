"""verify-videos: a missing, a corrupt and a truncated video are found; good ones pass."""

import json

import av
import pytest
from support.videos import frames, write_video

from var_bench.cli import main
from var_bench.extract.verify import (
    MISSING,
    OK,
    TRUNCATED,
    UNREADABLE,
    check_video,
    verify_videos,
)


def _faststart(path, n):
    """An H.264 MP4 with its index first (moov before mdat), as web downloads often are: cut
    short, it still opens and only the tail is gone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as c:
        vs = c.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.options = {"preset": "ultrafast", "threads": "1"}
        for f in frames(n):
            for p in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    return path


def _cut(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def test_check_video_tells_ok_corrupt_and_truncated(tmp_path):
    good = _faststart(tmp_path / "good.mp4", 90)
    assert check_video(good)[0] == OK
    truncated = _cut(_faststart(tmp_path / "cut.mp4", 90))
    status, detail = check_video(truncated)
    assert status == TRUNCATED, detail
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    status, detail = check_video(corrupt)
    assert status == UNREADABLE and "cannot open" in detail
    # an MP4 whose index is at the end cannot be opened once cut: unreadable, not ok
    cut_plain = _cut(write_video(tmp_path / "plain.mp4", 60))
    assert check_video(cut_plain)[0] == UNREADABLE


def test_verify_videos_of_a_benchmark(built_home, tmp_path, capsys):
    ids = built_home["ucfcrime-ar"].expected
    root = tmp_path / "videos"
    test = ids["test"]
    for i, vid in enumerate(test[:-1]):
        _faststart(root / "x" / f"{vid}.mp4", 45 if i else 90)
    _cut(root / "x" / f"{test[0]}.mp4")
    (root / "x" / f"{test[1]}.mp4").write_bytes(b"not a video at all")
    checks = verify_videos(root, {"test": test})
    status = {c.video_id: c.status for c in checks}
    assert status[test[0]] == TRUNCATED
    assert status[test[1]] == UNREADABLE
    assert status[test[-1]] == MISSING
    assert all(s == OK for v, s in status.items() if v not in (test[0], test[1], test[-1]))

    with pytest.raises(SystemExit) as e:
        main(["verify-videos", str(root), "-b", "ucfcrime-ar", "--split", "test", "--json"])
    assert e.value.code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == [status[v] for v in test]
    with pytest.raises(SystemExit):
        main(["verify-videos", str(root), "-b", "ucfcrime-ar", "--split", "test"])
    out = capsys.readouterr().out
    assert "truncated: 1 (test 1)" in out and f"missing\ttest\t{test[-1]}" in out
