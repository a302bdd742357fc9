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


class DevTools:
    """Just enough of the Chrome DevTools protocol to drive one page (over aiohttp)."""

    def __init__(self, ws: object) -> None:
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, **params: object) -> dict:  # type: ignore[type-arg]
        import json

        self.next_id += 1
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))  # type: ignore[attr-defined]
        while True:
            message = json.loads((await self.ws.receive()).data)  # type: ignore[attr-defined]
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> object:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float = 20.0) -> None:
        import asyncio

        for _ in range(int(timeout_s / 0.1)):
            if await self.evaluate(expression):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the page never satisfied {expression}")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_signing_in_as_jason_in_a_browser_shows_black_stars(
    bookinfo: Bookinfo, tmp_path: Path
) -> None:
    """Istio's request-routing task in a real browser: with virtual-service-reviews-test-v2
    applied, signing in as jason through the page's form shows reviews v2 (black stars);
    signed out, the page shows v1 (no stars).
    Source: https://istio.io/latest/docs/tasks/traffic-management/request-routing/"""
    import asyncio
    import base64
    import re
    import urllib.request

    import aiohttp

    bookinfo.apply_file("bookinfo/virtual-service-all-v1.yaml")
    bookinfo.apply_file("bookinfo/virtual-service-reviews-test-v2.yaml")
    assert CHROMIUM is not None
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900", "about:blank"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert browser.stderr is not None
        endpoint = ""
        for _ in range(200):
            line = browser.stderr.readline()
            found = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                endpoint = f"http://127.0.0.1:{found.group(1)}"
                break
        assert endpoint, "chromium did not open its DevTools port"
        request = urllib.request.Request(f"{endpoint}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as reply:
            target = __import__("json").loads(reply.read())["webSocketDebuggerUrl"]

        async def drive() -> tuple[bool, bool, bytes]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(target, max_msg_size=0) as ws,
            ):
                page = DevTools(ws)
                await page.call("Page.enable")
                await page.call("Page.navigate", url=f"{bookinfo.info.ingress_http}/productpage")
                await page.wait_for(
                    "document.readyState === 'complete' && !!document.getElementById('username')"
                )
                anonymous_stars = bool(
                    await page.evaluate(
                        "document.querySelectorAll('.text-black-500, .text-red-500').length"
                    )
                )
                await page.evaluate(
                    "document.getElementById('username').value = 'jason';"
                    "document.getElementById('password').value = 'password';"
                    "document.forms['login_form'].submit(); true"
                )
                await page.wait_for(
                    "document.readyState === 'complete' && document.body.innerText.includes('jason')"
                )
                black = bool(
                    await page.evaluate("document.querySelectorAll('.text-black-500').length")
                )
                shot = await page.call("Page.captureScreenshot", format="png")
                return anonymous_stars, black, base64.b64decode(shot["data"])

        anonymous_stars, black, png = asyncio.run(drive())
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        if browser.stderr is not None:
            browser.stderr.close()
    assert not anonymous_stars, "signed out, the page should come from reviews v1 (no stars)"
    assert black, "signed in as jason, the page should show reviews v2's black stars"
    keep = Path(__file__).resolve().parent.parent.parent / "reports" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    (keep / "productpage-jason.png").write_bytes(png)
