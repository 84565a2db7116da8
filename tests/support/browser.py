"""Headless Chromium for page tests: screenshots (decoded with Pillow) and DOMs.

Chromium runs with every host name mapped to NOTFOUND and the usual background services off
(no network, no component updates, no sync, a fresh profile per call), so a page that needed the
network would render incomplete. Tests skip with the install hint when Chromium is absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
TOLERANCE = 10  # per channel: anti-aliasing leaves line cores at their exact colour


def chromium() -> str:
    found = str(CHROMIUM) if CHROMIUM.is_file() else shutil.which("chromium")
    if not found:
        pytest.skip(
            "Chromium not found at /usr/bin/chromium or on PATH (Debian: apt-get install "
            "chromium); the browser test renders the page with it"
        )
    return found


def run_chromium(
    tmp_path: Path, page: Path, width: int, height: int, *extra: str, tag: str = ""
) -> subprocess.CompletedProcess:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / f'profile{tag}'}",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *extra,
        page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def screenshot(tmp_path: Path, page: Path, width: int, height: int) -> np.ndarray:
    """(height, width, 3) RGB pixels of ``page`` rendered at ``width`` x ``height``."""
    png = tmp_path / f"shot-{page.stem}-{width}x{height}.png"
    shot = run_chromium(tmp_path, page, width, height, f"--screenshot={png}", tag=f"{width}")
    assert png.is_file(), (
        f"chromium wrote no screenshot (rc {shot.returncode}): {shot.stderr[-800:]}"
    )
    with Image.open(png) as img:
        return np.asarray(img.convert("RGB"))


def dump_dom(tmp_path: Path, page: Path) -> str:
    dom = run_chromium(tmp_path, page, 1280, 800, "--dump-dom", tag="dom")
    assert dom.returncode == 0, dom.stderr[-800:]
    return dom.stdout


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def mask(img: np.ndarray, colour) -> np.ndarray:
    """Pixels of ``img`` within :data:`TOLERANCE` of ``colour`` (hex string or RGB triple)."""
    target = rgb(colour) if isinstance(colour, str) else np.asarray(colour, dtype=np.int16)
    diff = np.abs(img[:, :, :3].astype(np.int16) - target)
    return np.all(diff <= TOLERANCE, axis=2)


def text_lines(region: np.ndarray, dark: int = 110) -> int:
    """How many separate lines of dark text (runs of rows with dark pixels) ``region`` holds."""
    rows = np.nonzero(np.all(region[:, :, :3] < dark, axis=2).sum(axis=1) > 5)[0]
    return 1 + int(np.count_nonzero(np.diff(rows) > 2)) if rows.size else 0
