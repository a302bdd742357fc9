"""What every Bookinfo service shares: run-time behaviour settings and JSON replies."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.behaviour import Behaviour
from chaoskit.mesh.apps.echo import EchoApp
from chaoskit.mesh.http.message import Headers, Request, Response


class BookinfoApp:
    """A Bookinfo service; subclasses implement ``route``. Settings add latency or errors."""

    extra_settings: frozenset[str] = frozenset()

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.rng = random.Random(f"{context.seed}:{context.pod}")
        self._settings: dict[str, Any] = {}
        self.behaviour = Behaviour()
        self._echo = EchoApp(context)  # shares the behaviour draw logic

    def configure(self, settings: Mapping[str, Any]) -> None:
        self.behaviour = Behaviour.parse(settings, self.extra_settings)
        self._echo.behaviour = self.behaviour
        self._echo.rng = self.rng
        self._settings = dict(settings)

    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def json(self, status: int, payload: Any, headers: Headers | None = None) -> Response:
        out = headers or Headers()
        out.set("content-type", "application/json")
        return Response(status, out, json.dumps(payload).encode())

    async def handle(self, request: Request) -> Response:
        failed = await self._echo.apply_behaviour()
        if failed is not None:
            return failed
        return await self.route(request)

    async def route(self, request: Request) -> Response:
        raise NotImplementedError
