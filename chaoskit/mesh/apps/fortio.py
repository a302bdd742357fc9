"""A load client pod like Istio's fortio sample: requests made from inside the mesh.

Tests and experiments use it to exercise a *client* sidecar (faults, retries, breakers and
outlier detection all live in the caller's sidecar):

- ``GET /fortio/fetch/<host[:port]>/<path>`` (also ``/fetch/...``): one request through
  the sidecar; the upstream response is returned as is, as real fortio does.
- ``POST /load`` with JSON ``{"url", "connections", "requests", "qps", "headers",
  "timeout", "method"}``: fortio's ``load -c C -n N -qps Q``; returns every request's
  status, latency, and headers of interest, plus counts by status.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from chaoskit.mesh.apps.base import AppContext, AppSettingsError
from chaoskit.mesh.apps.behaviour import Behaviour
from chaoskit.mesh.http.client import UpstreamError
from chaoskit.mesh.http.message import Headers, Request, Response

MAX_REQUESTS = 100_000
MAX_CONNECTIONS = 256
MAX_DURATION_S = 600.0
_KEPT_HEADERS = (
    "server",
    "x-envoy-upstream-service-time",
    "x-envoy-overloaded",
    "x-chaoskit-pod",
    "x-chaoskit-version",
    "x-envoy-attempt-count",
)


# Real fortio serves fetch under /fortio/fetch/; the short form is kept for old callers.
FETCH_PREFIXES = ("/fortio/fetch/", "/fetch/")


def _json(status: int, payload: Any) -> Response:
    return Response(
        status, Headers([("content-type", "application/json")]), json.dumps(payload).encode()
    )


class FortioApp:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        self._settings: dict[str, Any] = {}

    def configure(self, settings: Mapping[str, Any]) -> None:
        Behaviour.parse(settings)  # same keys as the demo apps; fortio ignores them
        self._settings = dict(settings)

    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    async def handle(self, request: Request) -> Response:
        if request.path.startswith(FETCH_PREFIXES):
            return await self._fetch(request)
        if request.path == "/load" and request.method == "POST":
            try:
                spec = json.loads(request.body or b"{}")
                return _json(200, await self._load(spec))
            except (ValueError, AppSettingsError) as exc:
                return _json(400, {"error": str(exc)})
        if request.path in ("/", "/health"):
            return _json(200, {"status": "ok", "pod": self.context.pod})
        return Response.text(404, "fortio: use /fetch/<host>/<path> or POST /load\n")

    async def _fetch(self, request: Request) -> Response:
        rest = request.target
        for prefix in FETCH_PREFIXES:
            rest = rest.removeprefix(prefix)
        authority, _, path = rest.partition("/")
        _, _, port = authority.partition(":")
        headers = request.headers.copy()
        headers.set("host", authority)
        outbound = Request(request.method, "/" + path, headers, request.body)
        try:
            return await self.context.outbound(outbound, int(port or 80))
        except UpstreamError as exc:
            return Response.text(502, f"fortio: {exc}\n")

    async def _load(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        url = urlsplit(str(spec.get("url", "")))
        if url.scheme != "http" or not url.hostname:
            raise AppSettingsError("url: expected http://host[:port]/path")
        connections = int(spec.get("connections", 1))
        total = int(spec.get("requests", 1))
        qps = float(spec.get("qps", 0))
        timeout = float(spec.get("timeout", 30))
        if not 1 <= connections <= MAX_CONNECTIONS or not 1 <= total <= MAX_REQUESTS:
            raise AppSettingsError(
                f"connections must be 1..{MAX_CONNECTIONS} and requests 1..{MAX_REQUESTS}"
            )
        port = url.port or 80
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        extra = dict(spec.get("headers") or {})
        method = str(spec.get("method", "GET"))
        results: list[dict[str, Any]] = []
        started = time.monotonic()
        deadline = started + min(MAX_DURATION_S, float(spec.get("maxDuration", MAX_DURATION_S)))
        issued = 0
        interval = connections / qps if qps > 0 else 0.0

        async def one(index: int) -> dict[str, Any]:
            headers = Headers(
                [("host", url.netloc), ("user-agent", "fortio.org/fortio-chaoskit"), *extra.items()]
            )
            sent = time.monotonic()
            try:
                response = await asyncio.wait_for(
                    self.context.outbound(Request(method, target, headers), port), timeout
                )
            except TimeoutError:
                return {
                    "i": index,
                    "status": -1,
                    "error": "client timeout",
                    "start": sent - started,
                    "latency": time.monotonic() - sent,
                }
            except UpstreamError as exc:
                return {
                    "i": index,
                    "status": -1,
                    "error": str(exc),
                    "start": sent - started,
                    "latency": time.monotonic() - sent,
                }
            kept = {h: response.headers.get(h) for h in _KEPT_HEADERS if h in response.headers}
            return {
                "i": index,
                "status": response.status,
                "start": sent - started,
                "latency": time.monotonic() - sent,
                "headers": kept,
                "bodyBytes": len(response.body),
            }

        async def worker(slot: int) -> None:
            nonlocal issued
            next_at = started + slot * (interval / connections if interval else 0.0)
            while issued < total and time.monotonic() < deadline:
                index = issued
                issued += 1
                if interval:
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                    next_at += interval
                results.append(await one(index))

        await asyncio.gather(*(worker(slot) for slot in range(connections)))
        results.sort(key=lambda r: r["i"])
        counts = Counter(str(r["status"]) for r in results)
        return {
            "requests": len(results),
            "durationSeconds": time.monotonic() - started,
            "codes": dict(sorted(counts.items())),
            "results": results,
        }
