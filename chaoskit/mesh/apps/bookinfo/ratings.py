"""ratings (Node.js in Bookinfo), with the image's fault modes switchable at run time.

ratings.js picks its behaviour from SERVICE_VERSION; here the ``mode`` setting does, and the
pod's SERVICE_VERSION env gives the default:

- ``normal`` (v1): ``{"id": <id>, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}``, or what
  was POSTed for that id.
- ``faulty`` (v-faulty): each GET, with p=0.5, 503 ``{"error": "Service unavailable"}``.
- ``delayed`` (v-delayed): each GET, with p=0.5, the normal answer after 7 s.
- ``unavailable`` (v-unavailable): while down, every GET is that 503.
- ``unhealthy`` (v-unhealthy): while down, that 503 and ``/health`` 500.

``flipEvery`` makes unavailable/unhealthy alternate up and down, starting up, as the image
does (60 s for v-unavailable, 15 min for v-unhealthy); without it they are down throughout.
SERVICE_VERSION=v2 (database backed) answers POST with 501.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from chaoskit.durations import parse_seconds
from chaoskit.mesh.apps.base import AppContext, AppSettingsError
from chaoskit.mesh.apps.bookinfo.catalog import DEFAULT_RATINGS
from chaoskit.mesh.apps.bookinfo.ids import js_parse_int
from chaoskit.mesh.apps.bookinfo.service import BookinfoService, json_response
from chaoskit.mesh.http.message import Request, Response

MODES = ("normal", "faulty", "delayed", "unavailable", "unhealthy")
DELAY_S = 7.0  # setTimeout(getLocalReviewsSuccessful, 7000, ...)
FAULT_SHARE = 0.5  # "if (random <= 0.5)"
# SERVICE_VERSION → (default mode, flip period in seconds)
_IMAGES: dict[str, tuple[str, float | None]] = {
    "v-faulty": ("faulty", None),
    "v-delayed": ("delayed", None),
    "v-unavailable": ("unavailable", 60.0),
    "v-unhealthy": ("unhealthy", 900.0),
}


def _unavailable() -> Response:
    return json_response(503, {"error": "Service unavailable"}, compact=True)


class RatingsApp(BookinfoService):
    extra_settings = frozenset({"mode", "flipEvery"})

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.image_mode, self.image_flip_s = _IMAGES.get(
            context.env.get("SERVICE_VERSION", "v1"), ("normal", None)
        )
        self.mode = self.image_mode
        self.flip_every_s = self.image_flip_s
        self.database_backed = context.env.get("SERVICE_VERSION") == "v2"
        self.clock: Callable[[], float] = time.monotonic
        self.started = self.clock()
        self._posted: dict[int, dict[str, Any]] = {}

    def configure_extra(self, settings: Mapping[str, Any]) -> None:
        mode = settings.get("mode", self.image_mode)
        if mode not in MODES:
            raise AppSettingsError(f"mode: unknown {mode!r}; use one of {', '.join(MODES)}")
        flip = self.image_flip_s if "mode" not in settings else None
        if "flipEvery" in settings:
            try:
                flip = parse_seconds(str(settings["flipEvery"]))
            except ValueError as exc:
                raise AppSettingsError(f"flipEvery: {exc}") from None
            if flip <= 0:
                raise AppSettingsError(
                    f"flipEvery: must be positive, got {settings['flipEvery']!r}"
                )
        self.mode, self.flip_every_s = str(mode), flip

    def down(self) -> bool:
        """Whether an unavailable/unhealthy ratings is in its down phase now."""
        if self.mode not in ("unavailable", "unhealthy"):
            return False
        if self.flip_every_s is None:
            return True
        return int((self.clock() - self.started) // self.flip_every_s) % 2 == 1

    async def route(self, request: Request) -> Response:
        path = request.path
        if path == "/health":
            if self.mode == "unhealthy" and self.down():
                return json_response(500, {"status": "Ratings is not healthy"}, compact=True)
            return json_response(200, {"status": "Ratings is healthy"}, compact=True)
        if not path.startswith("/ratings/") or request.method not in ("GET", "POST"):
            return Response(404)
        # ratings.js: req.url.split('/').pop() then parseInt (the query string included)
        product = js_parse_int(request.target.split("/")[-1])
        if product is None:
            return json_response(400, {"error": "please provide numeric product ID"}, compact=True)
        if request.method == "POST":
            return self._post(product, request.body)
        return await self._get(product)

    def _post(self, product: int, body: bytes) -> Response:
        try:
            ratings = json.loads(body)
        except ValueError:
            return json_response(400, {"error": "please provide valid ratings JSON"}, compact=True)
        if self.database_backed:
            error = "Post not implemented for database backed ratings"
            return json_response(501, {"error": error}, compact=True)
        self._posted[product] = {"id": product, "ratings": ratings}
        return json_response(200, self._document(product), compact=True)

    async def _get(self, product: int) -> Response:
        if self.mode == "faulty" and self.rng.random() <= FAULT_SHARE:
            return _unavailable()
        if self.mode == "delayed" and self.rng.random() <= FAULT_SHARE:
            await self.sleep(DELAY_S)
        if self.down():
            return _unavailable()
        return json_response(200, self._document(product), compact=True)

    def _document(self, product: int) -> dict[str, Any]:
        return self._posted.get(product) or {"id": product, "ratings": dict(DEFAULT_RATINGS)}
