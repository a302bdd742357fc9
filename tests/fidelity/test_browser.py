"""A real browser shows the Bookinfo page served by the embedded mesh (headless Chromium)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fidelity.conftest import Bookinfo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_headless_chromium_renders_the_product_page(bookinfo: Bookinfo, tmp_path: Path) -> None:
    """The page a user sees, with reviews v3 pinned so the (red) stars render too."""
    bookinfo.apply_file("bookinfo/virtual-service-reviews-v3.yaml")
    shot = tmp_path / "productpage.png"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         f"{bookinfo.info.ingress_http}/productpage"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "The Comedy of Errors" in dom.stdout
    assert "Reviewer1" in dom.stdout
    assert "text-red-500" in dom.stdout
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1200,900", f"--screenshot={shot}", f"{bookinfo.info.ingress_http}/productpage"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank canvas
    keep = Path(__file__).resolve().parent.parent.parent / "reports" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / "productpage.png")
