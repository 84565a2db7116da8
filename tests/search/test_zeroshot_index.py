"""``var-bench index MODEL --videos DIR`` / ``var-bench search``: raw videos searched with a
zero-shot encoder (a numpy stand-in here), segments from per-window similarity."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support.cli import one_line_exit
from support.zeroshot import FakeEncoder

from var_bench.errors import InputError
from var_bench.zeroshot import ENCODERS

pytest.importorskip("av", reason="PyAV (the extract extra) is not installed")
from var_bench.search.zeroshot import ZeroShotIndex, is_zeroshot_index  # noqa: E402


def _video(path, colours, fps=2):
    """A video whose second k is a flat colour ``colours[k]`` (``fps`` frames each)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        s.options = {"crf": "0", "preset": "ultrafast", "threads": "1"}
        for col in colours:
            for _ in range(fps):
                f = np.zeros((32, 32, 3), np.uint8) + np.array(col, np.uint8)
                for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                    c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


class ColourText(FakeEncoder):
    """Texts name a colour; the text embedding is the frame embedding of that flat colour, so a
    query finds the video (and the seconds) showing it."""

    COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}

    def encode_text(self, texts):
        return np.concatenate(
            [
                self.encode_frames(np.zeros((1, 16, 16, 3), np.uint8) + np.uint8(self.COLOURS[t]))
                for t in texts
            ]
        )


@pytest.fixture
def archive(tmp_path):
    grey = (128, 128, 128)
    root = tmp_path / "archive"
    _video(root / "a.mp4", [grey] * 6 + [ColourText.COLOURS["red"]] * 2 + [grey] * 4)
    _video(root / "x" / "b.mp4", [ColourText.COLOURS["green"]] * 3 + [grey] * 3)
    _video(root / "c.mp4", [grey] * 8)
    return root


def test_index_and_search_find_the_video_and_the_seconds(archive, tmp_path):
    enc = ColourText(fps=1.0, max_frames=32)
    idx = ZeroShotIndex.build("fake", archive, tmp_path / "idx", encoder=enc, cache=False)
    assert idx.info.videos == ["a", "b", "c"] and is_zeroshot_index(tmp_path / "idx")
    red = idx.search("red", top=2)
    assert red[0].video_id == "a" and red[0].evidence == "window-similarity"
    lo, hi = red[0].segment_s
    assert lo <= 6.0 and hi >= 8.0 and hi - lo <= 4.0  # the red seconds [6, 8)
    assert idx.search("green", top=1)[0].video_id == "b"
    again = ZeroShotIndex.load(tmp_path / "idx", encoder=enc)
    assert again.search("red", top=3) == idx.search("red", top=3)
    with pytest.raises(InputError, match="differs in fps"):
        ZeroShotIndex.load(tmp_path / "idx", encoder=ColourText(fps=2.0))
    with pytest.raises(InputError, match="positive number"):
        idx.search("red", top=0)


def test_cli_index_and_search(archive, tmp_path, capsys):
    ENCODERS.register("colour-zs", lambda weights=None, device="cpu": ColourText(fps=1.0))
    try:
        from var_bench.cli import main

        out = tmp_path / "idx"
        with pytest.raises(SystemExit) as e:
            main(["index", "colour-zs", "--videos", str(archive), "--out", str(out)])
        assert e.value.code == 0 and "3 videos indexed" in capsys.readouterr().out
        with pytest.raises(SystemExit) as e:
            main(["search", str(out), "red", "--top", "1", "--json"])
        hits = json.loads(capsys.readouterr().out)
        assert e.value.code == 0 and hits[0]["video_id"] == "a"
        html = tmp_path / "r.html"
        with pytest.raises(SystemExit):
            main(["search", str(out), "green", "--html", str(html)])
        assert "b" in capsys.readouterr().out and "Query: green" in html.read_text()
        code, line = one_line_exit(capsys, "search", str(out), "red", "--approx")
        assert code == 2 and "no --approx" in line
        code, line = one_line_exit(capsys, "index", "colour-zs", "--out", str(out))
        assert code == 2 and "expected --benchmark with a CHECKPOINT" in line
        code, line = one_line_exit(
            capsys, "index", "ckpt", "--benchmark", "uca", "--out", str(out), "--ray"
        )
        assert code == 2 and "index --ray: expected --videos" in line
        code, line = one_line_exit(
            capsys, "index", "colour-zs", "--videos", str(archive), "--out", str(out), "--check"
        )
        assert code == 2 and "expected no --features" in line
    finally:
        ENCODERS.unregister("colour-zs")


class ClipLevel(ColourText):
    """An encoder that embeds the whole clip as one row (as Qwen3-VL-Embedding does)."""

    def encode_frames(self, frames):
        from var_bench.zeroshot.pooling import pool

        return pool(super().encode_frames(frames))[None]


def test_one_row_per_clip_gives_the_whole_span(archive, tmp_path):
    idx = ZeroShotIndex.build(
        "fake", archive, tmp_path / "idx", encoder=ClipLevel(fps=1.0), cache=tmp_path / "c"
    )
    hit = idx.search("green", top=1)[0]
    assert hit.video_id == "b" and hit.segment_s == [0.0, 6.0] and hit.segment_snippets == [0, 1]
