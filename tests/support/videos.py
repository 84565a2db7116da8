"""Short synthetic videos the extraction tests encode with PyAV: a bright square moving on a
gradient (so optical flow is not zero) and, optionally, a sine tone (for VGGish)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def frames(n: int, height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """``[n, H, W, 3]`` uint8: a 12 px square moving 2 px right and 1 px down per frame."""
    rng = np.random.default_rng(seed)
    base = np.zeros((height, width, 3), np.uint8)
    base[..., 0] = np.linspace(0, 160, width, dtype=np.uint8)[None]
    base[..., 1] = np.linspace(0, 120, height, dtype=np.uint8)[:, None]
    base[..., 2] = rng.integers(40, 80)
    out = np.repeat(base[None], n, axis=0)
    for i in range(n):
        y, x = (4 + i) % (height - 12), (4 + 2 * i) % (width - 12)
        out[i, y : y + 12, x : x + 12] = (250, 240, 30)
    return out


def write_video(
    path: Path,
    n_frames: int,
    *,
    fps: int = 30,
    height: int = 48,
    width: int = 64,
    audio_hz: float | None = None,
    seed: int = 0,
) -> Path:
    """Encode ``n_frames`` of :func:`frames` as H.264 (lossless-ish, crf 0) at ``fps``; with
    ``audio_hz`` also a 16 kHz mono AAC sine tone as long as the video."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    video = frames(n_frames, height, width, seed)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.options = {"crf": "0", "preset": "ultrafast", "threads": "1"}
        astream = None
        if audio_hz is not None:
            astream = c.add_stream("aac", rate=16000)
            astream.layout = "mono"
        for f in video:
            for p in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if astream is not None:
            n = int(round(n_frames / fps * 16000))
            t = np.arange(n) / 16000.0
            tone = (0.5 * np.sin(2 * np.pi * audio_hz * t)).astype(np.float32)
            step = 1024
            for s in range(0, n, step):
                fr = av.AudioFrame.from_ndarray(
                    tone[None, s : s + step], format="flt", layout="mono"
                )
                fr.sample_rate = 16000
                fr.pts = s
                fr.time_base = Fraction(1, 16000)
                for p in astream.encode(fr):
                    c.mux(p)
            for p in astream.encode():
                c.mux(p)
    return path


def temp_videos(
    prefix: str, count: int, n: int, fps: float = 30, height: int = 240, width: int = 320
) -> tuple[Path, list[Path]]:
    """``count`` synthetic H.264 videos of ``n`` frames (seeds 0, 1, ...) in a new temporary
    folder that is removed when the process exits: (folder, video paths). For the speed
    scripts in benchmarks/."""
    import atexit
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    paths = [
        write_video(tmp / f"v{i}.mp4", n, fps=fps, height=height, width=width, seed=i)
        for i in range(count)
    ]
    return tmp, paths
