"""A generic demo service: answers every path with JSON saying who answered.

Its latency and error rate come from run-time settings (per replica), so experiments can
make one replica slow or failing without touching the others. It is also the app every
workload of a twin (``chaoskit mesh snapshot``) runs, so it can call other services: the
``calls`` and ``callMode`` settings of calls.py.

Per request: wait the drawn latency (the service's own work); answer the drawn error code
if one is drawn (a service failing before it reaches its dependencies); else make the calls
through the sidecar. A failed call makes the answer 504 (the call timed out) or 502 (no
answer, or an answer of 400 or above) with ``{"error": ..., "calls": [...]}`` naming the
failed call; otherwise 200, listing each call's status and time under ``calls``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from typing import Any

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.behaviour import Behaviour
from chaoskit.mesh.apps.calls import CALL_KEYS, CallGraph, failure_status
from chaoskit.mesh.http.message import Headers, Request, Response


class EchoApp:
    takes_calls = True  # httpbin, built on this class, makes no calls of its own

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.rng = random.Random(f"{context.seed}:{context.pod}")
        self._settings: dict[str, Any] = {}
        self.behaviour = Behaviour()
        self.graph = CallGraph()

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Validate everything first, so bad settings leave the running ones in place."""
        if self.takes_calls:
            behaviour = Behaviour.parse(settings, CALL_KEYS)
            graph = CallGraph.parse(settings)
        else:
            behaviour, graph = Behaviour.parse(settings), CallGraph()
        self.behaviour, self.graph = behaviour, graph
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
        status = behaviour.draw_error(self.rng)
        if status is not None:
            return self.json(status, {"error": "injected by app settings"})
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
        calls: list[dict[str, Any]] = []
        if self.graph.calls:
            results = await self.graph.run(self.context, request.headers)
            calls = [r.to_json() for r in results]
            status = failure_status(results)
            if status is not None:
                first = next(r for r in results if r.failed)
                error = f"call to {first.call.url} failed: {first.error}"
                return self.json(status, {"error": error, "calls": calls})
        ctx = self.context
        payload: dict[str, Any] = {
            "service": ctx.service,
            "version": ctx.version,
            "pod": ctx.pod,
            "namespace": ctx.namespace,
            "ip": ctx.ip,
            "method": request.method,
            "path": request.target,
            "headers": request.headers.as_dict(),
        }
        if calls:
            payload["calls"] = calls
        return self.json(200, payload)
