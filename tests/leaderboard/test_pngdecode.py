"""The test-side PNG decoder, against PNGs encoded here with each filter type from its definition."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from support.pngdecode import decode_png


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filter_row(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    """PNG spec, section 9.2: Filt(x) = Orig(x) - predictor(a, b, c) mod 256."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out.append((x - pred) % 256)
    return bytes(out)


def _encode(pixels: np.ndarray, filters: list[int]) -> bytes:
    h, w, ch = pixels.shape
    colour = {1: 0, 3: 2, 4: 6}[ch]
    raw, prev = bytearray(), bytes(w * ch)
    for y in range(h):
        row = pixels[y].tobytes()
        raw += bytes([filters[y % len(filters)]]) + _filter_row(filters[y % len(filters)], row, prev, ch)
        prev = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw))) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4]])
def test_decode_every_filter(channels: int, filters: list[int]) -> None:
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 256, size=(9, 13, channels), dtype=np.uint8)
    pixels[3:6] = 250  # flat rows and overflowing sums exercise the mod-256 arithmetic
    assert np.array_equal(decode_png(_encode(pixels, filters)), pixels)


def test_rejects_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a")
    good = _encode(np.zeros((2, 2, 3), dtype=np.uint8), [0])
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    sixteen_bit = good.replace(header, struct.pack(">IIBBBBB", 2, 2, 16, 2, 0, 0, 0))
    with pytest.raises(ValueError, match="unsupported PNG: depth 16"):
        decode_png(sixteen_bit)
