"""The httpbin endpoints Istio's tasks use (/get, /headers, /status/N, /delay/N, /anything)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from chaoskit.mesh.apps.echo import EchoApp
from chaoskit.mesh.http.message import Request, Response

_MAX_DELAY_S = 10.0  # httpbin caps /delay at 10 s


class HttpbinApp(EchoApp):
    takes_calls = False

    async def handle(self, request: Request) -> Response:
        failed = await self.apply_behaviour()
        if failed is not None:
            return failed
        path = request.path
        if path.startswith("/status/"):
            code = path.removeprefix("/status/").split("/", 1)[0]
            if code.isdigit() and 100 <= int(code) <= 599:
                return Response(int(code))
            return Response.text(400, "Invalid status code\n")
        if path.startswith("/delay/"):
            raw = path.removeprefix("/delay/")
            try:
                seconds = min(float(raw), _MAX_DELAY_S)
            except ValueError:
                return Response.text(400, "Invalid delay\n")
            await asyncio.sleep(max(0.0, seconds))
            return self._echo(request)
        if path == "/headers":
            return self.json(200, {"headers": self._headers(request)})
        if path == "/ip":
            return self.json(200, {"origin": request.headers.get("x-forwarded-for") or ""})
        if path in ("/get", "/") or path.startswith("/anything"):
            return self._echo(request)
        if path in ("/post", "/put", "/patch", "/delete"):
            if request.method != path[1:].upper():
                return Response.text(405, "Method Not Allowed\n")
            return self._echo(request)
        return Response.text(404, "Not Found\n")

    @staticmethod
    def _headers(request: Request) -> dict[str, str]:
        # httpbin title-cases header names in its JSON.
        return {"-".join(p.capitalize() for p in k.split("-")): v for k, v in request.headers}

    def _echo(self, request: Request) -> Response:
        return self.json(
            200,
            {
                "args": dict(parse_qsl(request.query)),
                "headers": self._headers(request),
                "method": request.method,
                "url": f"http://{request.authority}{request.target}",
                "data": request.body.decode("utf-8", "replace"),
            },
        )
