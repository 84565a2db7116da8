"""Finding the benchmark's videos, and decoding them frame by frame with PyAV.

Discovery: every file under the folder (any depth) with a video extension is indexed by its stem
(the file name without its last extension); a benchmark id matches the file whose stem equals it.

Decoding is sequential from the first frame (seeking in H.264 is approximate, so frame indices are
exact only this way). Frames come out as RGB24 ``[H, W, 3]`` uint8. A frame-rate conversion to
``fps`` keeps or repeats frames by index (:func:`~var_bench.extract.frames.repeats`, constant
frame rate assumed, from the stream's average rate). Audio is resampled by FFmpeg's swresample to
16 kHz mono float32.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from var_bench.errors import InputError
from var_bench.extract.frames import as_fraction, repeats, resized_size
from var_bench.limits import bound, refuse
from var_bench.readback import require_regular

VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4",
        ".avi",
        ".mkv",
        ".webm",
        ".mov",
        ".m4v",
        ".mpg",
        ".mpeg",
        ".flv",
        ".wmv",
        ".3gp",
        ".ts",
    }
)
_SHOWN = 10


def index_videos(root: str | os.PathLike) -> dict[str, Path]:
    """Stem -> path of every video file under ``root`` (a stem found twice is an error)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"--videos: expected a folder of videos, {root} is not a folder")
    found: dict[str, Path] = {}
    dup: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.suffix.lower() in VIDEO_EXTENSIONS and not name.startswith("."):
                try:  # a FIFO would block av.open forever: refused before anything is opened
                    require_regular(p, "--videos")
                except FileNotFoundError:  # a dangling link: no video
                    continue
                if p.stem in found:
                    dup.append(f"{found[p.stem]} and {p}")
                found.setdefault(p.stem, p)
    if dup:
        raise InputError(
            f"--videos: expected one file per video stem, found {len(dup)} stems twice: "
            + "; ".join(dup[:3])
        )
    return found


def match_videos(
    ids: list[str], index: dict[str, Path], root, allow_missing: bool
) -> dict[str, Path]:
    """The path of every id (in ``ids`` order); missing ids raise one line unless allowed."""
    missing = [v for v in ids if v not in index]
    if missing and not allow_missing:
        shown = ", ".join(missing[:_SHOWN]) + (", ..." if len(missing) > _SHOWN else "")
        raise InputError(
            f"--videos: expected a video file for each of the {len(ids)} ids, "
            f"{len(missing)} missing under {root}: {shown}; pass --allow-missing "
            f"to extract the others"
        )
    return {v: index[v] for v in ids if v in index}


def decoder_identity() -> dict[str, str]:
    """PyAV and its FFmpeg library versions (part of a feature set's identity)."""
    import av

    libs = {k: ".".join(map(str, v)) for k, v in getattr(av, "library_versions", {}).items()}
    return {"name": "pyav", "version": av.__version__, **{k: libs[k] for k in sorted(libs)}}


def _open(path: Path):
    import av

    try:
        return av.open(str(path))
    except Exception as e:
        raise InputError(
            f"{path}: expected a video FFmpeg can open, got: {str(e).splitlines()[0][:200]}"
        ) from None


def native_rate(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        raise InputError(
            f"expected a video stream with a frame rate, stream {stream.index} has none"
        )
    return Fraction(rate)


def _duration_s(container, stream) -> float | None:
    """The video's duration in seconds, from the stream, else the container (None: unknown)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def check_bounds(
    path: Path,
    height: int,
    width: int,
    src: Fraction,
    dst: Fraction | None,
    resize: int | None,
    duration_s: float | None,
) -> None:
    """Refuse a video whose work would exceed a bound (:mod:`var_bench.limits`), before decoding:
    pixels per frame after resizing the short side to ``resize`` (``frame_pixels``); the
    up-conversion factor ``dst / src`` (``frame_repeat``); frames after rate conversion,
    ``duration_s * (dst or src)`` (``video_frames``)."""
    if resize is not None and height > 0 and width > 0:
        h, w = resized_size(height, width, resize)
        if h * w > bound("frame_pixels"):
            raise refuse(
                "frame_pixels",
                f"{path}",
                f"{h} x {w} = {h * w} (a {width}x{height} stream, short side resized to {resize})",
            )
    if dst is not None and dst > src * bound("frame_repeat"):
        raise refuse(
            "frame_repeat",
            f"{path}",
            f"{float(dst / src):.4g} ({float(src):.4g} fps -> {float(dst):.4g})",
        )
    if duration_s is not None:
        frames = duration_s * float(dst if dst is not None else src)
        if frames > bound("video_frames"):
            raise refuse("video_frames", f"{path}", f"{frames:.0f} ({duration_s:.0f} s)")


def probe_frames(path: str | os.PathLike, fps: float | None = None) -> float:
    """Frames the video will give after rate conversion, ``duration_s * (fps or native)``, from
    its container header only (no decoding); 0.0 when the header gives no duration or the file
    does not open (decoding then refuses it, or counts its frames against ``video_frames``)."""
    try:
        container = _open(Path(path))
    except InputError:
        return 0.0
    try:
        if not container.streams.video:
            return 0.0
        stream = container.streams.video[0]
        duration_s = _duration_s(container, stream)
        if duration_s is None:
            return 0.0
        rate = as_fraction(fps) if fps is not None else native_rate(stream)
        return max(0.0, duration_s * float(rate))
    except InputError:
        return 0.0
    finally:
        container.close()


def decode_frames(
    path: str | os.PathLike,
    fps: float | None = None,
    *,
    threads: bool = True,
    resize: int | None = None,
) -> Iterator[np.ndarray]:
    """RGB24 frames ``[H, W, 3]`` uint8 of the first video stream, in order, at ``fps`` (None:
    every frame at the native rate). ``resize``: the short side the caller resizes frames to (for
    the pixel bound). The bounds of :func:`check_bounds` are checked before decoding from the
    stream's header, and again on every decoded frame (a header can lie)."""
    path = Path(path)
    container = _open(path)
    try:
        if not container.streams.video:
            raise InputError(f"{path}: expected a video stream, found none")
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"  # frame + slice threads: same frames, faster
        src = native_rate(stream)
        dst = None if fps is None else as_fraction(fps)
        ctx = stream.codec_context  # None when FFmpeg has no decoder for it: decoding fails
        check_bounds(
            path,
            int(getattr(ctx, "height", 0) or 0),
            int(getattr(ctx, "width", 0) or 0),
            src,
            dst,
            resize,
            _duration_s(container, stream),
        )
        max_frames = bound("video_frames")
        size = None
        i = out = 0
        try:
            for frame in container.decode(stream):
                n = 1 if dst is None else repeats(i, src, dst)
                i += 1
                if n == 0:
                    continue
                if (frame.height, frame.width) != size:
                    size = (frame.height, frame.width)
                    check_bounds(path, frame.height, frame.width, src, None, resize, None)
                out += n
                if out > max_frames:
                    raise refuse("video_frames", f"{path}", f"more than {out - n} (decoding)")
                arr = frame.to_ndarray(format="rgb24")
                for _ in range(n):
                    yield arr
        except InputError:
            raise
        except Exception as e:
            raise InputError(
                f"{path}: expected a decodable video, decoding failed at frame {i}: "
                f"{str(e).splitlines()[0][:200]}"
            ) from None
    finally:
        container.close()


def downmix(planes: np.ndarray) -> np.ndarray:
    """``[channels, samples]`` -> mono ``[samples]``: the mean of the channels (torchvggish's
    ``np.mean(data, axis=1)``; a mono input is returned as it is).

    Example:
        >>> downmix(np.array([[1.0, 0.5], [0.0, 0.5]], dtype=np.float32)).tolist()
        [0.5, 0.5]
    """
    planes = np.asarray(planes, dtype=np.float32)
    if planes.ndim == 1:
        return planes
    return planes[0] if planes.shape[0] == 1 else planes.mean(axis=0, dtype=np.float32)


def decode_audio(path: str | os.PathLike, rate: int = 16000) -> np.ndarray:
    """The first audio stream as mono float32 samples at ``rate`` Hz: swresample to ``rate`` in
    the stream's channel layout (planar float), then :func:`downmix` (the mean of the
    channels)."""
    import av

    path = Path(path)
    container = _open(path)
    try:
        if not container.streams.audio:
            raise InputError(f"{path}: expected an audio stream for VGGish, found none")
        stream = container.streams.audio[0]
        # layout None keeps the input's channels: swresample's float rematrix to mono would sum
        # the channels with gain 1/sqrt(2) each instead of averaging them.
        resampler = av.AudioResampler(format="fltp", layout=None, rate=rate)
        parts = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(downmix(out.to_ndarray()))
        for out in resampler.resample(None):
            parts.append(downmix(out.to_ndarray()))
    except InputError:
        raise
    except Exception as e:
        raise InputError(
            f"{path}: expected decodable audio, got: {str(e).splitlines()[0][:200]}"
        ) from None
    finally:
        container.close()
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
