"""The page in headless Chromium from a file:// URL: charts drawn, nothing logged, no fetch.

The page's Content-Security-Policy blocks every network request, and Chromium logs each
blocked request and every console message as a ``CONSOLE`` line on stderr; the page's own
script logs nothing when all goes well. Screenshots are kept in reports/screenshots/.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from chaoskit.report import render_report, write_page
from tests.unit.report.helpers import REPO

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no `chromium` on PATH: the headless browser checks need it"
)
SHOTS = REPO / "reports" / "screenshots"
DARK = "--blink-settings=preferredColorScheme=0"  # Blink's enum: 0 dark, 1 light


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        "--window-size=1280,2400",
        "--virtual-time-budget=3000",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def top_left_pixel(png: bytes) -> tuple[int, ...]:
    """The first pixel of an 8-bit RGB(A) PNG; no filter changes it on the first row."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, channels = 8, b"", 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            assert body[8] == 8, "8-bit samples expected"
            channels = {2: 3, 6: 4}[body[9]]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    first = zlib.decompressobj().decompress(idat, 1 + channels)
    return tuple(first[1 : 1 + channels][:3])


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.unit.report.helpers import HOSTILE, LATEST, OLDER, read

    root = tmp_path_factory.mktemp("pages")
    latest: dict[str, Any] = read(LATEST)
    return {
        "report": write_page(render_report(latest, history=[read(OLDER)]), root / "report.html"),
        "hostile": write_page(render_report(read(HOSTILE)), root / "hostile.html"),
    }


@pytest.mark.parametrize("name", ["report", "hostile"])
def test_charts_draw_with_no_console_message(
    name: str, pages: dict[str, Path], tmp_path: Path
) -> None:
    proc = chromium(pages[name], tmp_path / "profile", "--dump-dom")
    body = re.search(r"<body[^>]*>", proc.stdout)
    assert body, proc.stderr[-2000:]
    total = int(re.search(r'data-charts-total="(\d+)"', body.group()).group(1))  # type: ignore[union-attr]
    drawn = int(re.search(r'data-charts-drawn="(\d+)"', body.group()).group(1))  # type: ignore[union-attr]
    assert total > 0
    assert drawn == total
    assert console_lines(proc.stderr) == []  # no script error, no blocked request
    assert "<img" not in proc.stdout
    assert "alert(1)</script>" not in proc.stdout.replace("&lt;", "")


@pytest.mark.parametrize(
    ("name", "scheme"), [("report", "light"), ("report", "dark"), ("hostile", "light")]
)
def test_screenshot(name: str, scheme: str, pages: dict[str, Path], tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{name}-{scheme}.png"
    shot.unlink(missing_ok=True)
    extra = [DARK] if scheme == "dark" else []
    proc = chromium(pages[name], tmp_path / "profile", f"--screenshot={shot}", *extra)
    assert shot.is_file(), proc.stderr[-2000:]
    png = shot.read_bytes()
    assert len(png) > 50_000  # a drawn page, not a blank one
    background = sum(top_left_pixel(png))
    assert (background < 150) if scheme == "dark" else (background > 600)
    assert console_lines(proc.stderr) == []
