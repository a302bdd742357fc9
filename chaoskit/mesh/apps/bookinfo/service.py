"""What every Bookinfo service shares: run-time settings, the injected behaviour, replies.

Each service also takes the generic settings of behaviour.py (latency, errorRate,
errorStatus, hang), applied before its own routing, so one replica can be made slow or
failing. A subclass names its own extra settings and implements ``route``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.behaviour import Behaviour
from chaoskit.mesh.http.message import Headers, Request, Response


def json_body(payload: Any, *, compact: bool = False) -> bytes:
    """``payload`` as JSON; ``compact`` as Ruby's to_json and Node's JSON.stringify write it."""
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(payload, separators=separators).encode()


def json_reply(status: int, body: bytes) -> Response:
    return Response(status, Headers.lowered([("content-type", "application/json")]), body)


def json_response(status: int, payload: Any, *, compact: bool = False) -> Response:
    """A JSON reply; ``compact`` as Ruby's to_json and Node's JSON.stringify write it."""
    return json_reply(status, json_body(payload, compact=compact))


BODY_CACHE_SIZE = 64  # answers kept encoded per app (Bookinfo's answers repeat under load)


def remember(cache: dict[Any, bytes], key: Any, body: bytes) -> bytes:
    """Keep ``body`` under ``key`` in a bounded cache (cleared when full) and return it."""
    if len(cache) >= BODY_CACHE_SIZE:
        cache.clear()
    cache[key] = body
    return body


class BookinfoService:
    """Base of the four apps: settings, a seeded random source, behaviour, then ``route``."""

    extra_settings: frozenset[str] = frozenset()

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.rng = random.Random(f"{context.seed}:{context.pod}")
        self.behaviour = Behaviour()
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # tests may record
        self._settings: dict[str, Any] = {}

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Validate everything first, so bad settings leave the running ones in place."""
        behaviour = Behaviour.parse(settings, self.extra_settings)
        self.configure_extra(settings)
        self.behaviour = behaviour
        self._settings = dict(settings)

    def configure_extra(self, settings: Mapping[str, Any]) -> None:
        """Check and take the service's own settings; raise AppSettingsError."""

    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    async def handle(self, request: Request) -> Response:
        injected = await self._apply_behaviour()
        if injected is not None:
            return injected
        return await self.route(request)

    async def route(self, request: Request) -> Response:
        raise NotImplementedError

    async def _apply_behaviour(self) -> Response | None:
        behaviour = self.behaviour
        if behaviour.hang:
            await asyncio.Event().wait()
        delay = behaviour.latency.draw(self.rng)
        if delay > 0:
            await self.sleep(delay)
        status = behaviour.draw_error(self.rng)
        if status is not None:
            response = json_response(status, {"error": "injected by app settings"})
            response.headers.add("x-chaoskit-pod", self.context.pod)
            response.headers.add("x-chaoskit-version", self.context.version)
            return response
        return None
