"""A generic demo service: answers every path with JSON saying who answered.

Its latency and error rate come from run-time settings (per replica), so experiments can
make one replica slow or failing without touching the others.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from typing import Any

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.behaviour import Behaviour
from chaoskit.mesh.http.message import Headers, Request, Response


class EchoApp:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.rng = random.Random(f"{context.seed}:{context.pod}")
        self._settings: dict[str, Any] = {}
        self.behaviour = Behaviour()

    def configure(self, settings: Mapping[str, Any]) -> None:
        self.behaviour = Behaviour.parse(settings)
        self._settings = dict(settings)

    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    async def apply_behaviour(self) -> Response | None:
        """Wait the drawn latency; return an error response when the error draw says so."""
        behaviour = self.behaviour
        if behaviour.hang:
            await asyncio.Event().wait()
        delay = behaviour.latency.draw(self.rng)
        if delay > 0:
            await asyncio.sleep(delay)
        if behaviour.error_rate and self.rng.random() < behaviour.error_rate:
            return self.json(behaviour.error_status, {"error": "injected by app settings"})
        return None

    def json(self, status: int, payload: Any) -> Response:
        headers = Headers([("content-type", "application/json")])
        headers.add("x-chaoskit-pod", self.context.pod)
        headers.add("x-chaoskit-version", self.context.version)
        return Response(status, headers, json.dumps(payload).encode())

    async def handle(self, request: Request) -> Response:
        failed = await self.apply_behaviour()
        if failed is not None:
            return failed
        ctx = self.context
        return self.json(
            200,
            {
                "service": ctx.service,
                "version": ctx.version,
                "pod": ctx.pod,
                "namespace": ctx.namespace,
                "ip": ctx.ip,
                "method": request.method,
                "path": request.target,
                "headers": request.headers.as_dict(),
            },
        )
