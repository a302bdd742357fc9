"""ratings v1 (Node.js in Bookinfo), with its fault modes switchable at run time.

``mode`` mirrors the image's SERVICE_VERSION values: ``faulty`` (v-faulty: half the
requests get 503), ``delayed`` (v-delayed: half are answered after 7 s) and ``unavailable``
(v-unavailable while down: every request 503).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from chaoskit.mesh.apps.base import AppSettingsError
from chaoskit.mesh.apps.bookinfo.service import BookinfoApp
from chaoskit.mesh.http.message import Request, Response

MODES = ("normal", "faulty", "delayed", "unavailable")
DELAYED_S = 7.0


class RatingsApp(BookinfoApp):
    extra_settings = frozenset({"mode"})

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.mode = "normal"
        self._posted: dict[int, dict[str, int]] = {}

    def configure(self, settings: Mapping[str, Any]) -> None:
        mode = settings.get("mode", "normal")
        if mode not in MODES:
            raise AppSettingsError(f"mode: unknown {mode!r}; use one of {', '.join(MODES)}")
        super().configure(settings)
        self.mode = str(mode)

    async def route(self, request: Request) -> Response:
        path = request.path
        if path == "/health":
            return self.json(200, {"status": "Ratings is healthy"})
        if not path.startswith("/ratings/"):
            return self.json(404, {"error": "not found"})
        raw = path.removeprefix("/ratings/")
        if not raw.isdigit():
            return self.json(400, {"error": "please provide numeric product ID"})
        product = int(raw)
        if request.method == "POST":
            try:
                posted = json.loads(request.body or b"{}")
            except ValueError:
                return self.json(400, {"error": "please provide valid ratings JSON"})
            self._posted[product] = posted
            return self.json(200, {"id": product, "ratings": posted})
        if self.mode == "unavailable" or (self.mode == "faulty" and self.rng.random() < 0.5):
            return self.json(503, {"error": "Service unavailable"})
        if self.mode == "delayed" and self.rng.random() < 0.5:
            await asyncio.sleep(DELAYED_S)
        ratings = self._posted.get(product, {"Reviewer1": 5, "Reviewer2": 4})
        return self.json(200, {"id": product, "ratings": ratings})
