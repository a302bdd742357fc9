"""Bookinfo's four apps wired in-process: an app's outbound call goes to the named service.

No sockets and no sidecars: ``outbound`` looks at the ``host`` header, records the call and
hands the request to that service's app (or to a stand-in a test installed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chaoskit.mesh.apps.base import AppContext, create_app
from chaoskit.mesh.apps.bookinfo.details import DetailsApp
from chaoskit.mesh.apps.bookinfo.productpage import ProductPageApp
from chaoskit.mesh.apps.bookinfo.ratings import RatingsApp
from chaoskit.mesh.apps.bookinfo.reviews import ReviewsApp
from chaoskit.mesh.http.client import ConnectFailure
from chaoskit.mesh.http.message import Headers, Request, Response

V1 = {"ENABLE_RATINGS": "false"}
V2 = {"ENABLE_RATINGS": "true", "STAR_COLOR": "black"}
V3 = {"ENABLE_RATINGS": "true", "STAR_COLOR": "red"}

Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")


@dataclass
class Call:
    caller: str
    service: str
    request: Request


@dataclass
class World:
    reviews_env: dict[str, str] = field(default_factory=lambda: dict(V2))
    ratings_settings: dict[str, Any] = field(default_factory=dict)
    productpage_env: dict[str, str] = field(default_factory=dict)
    ratings_env: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    stand_ins: dict[str, Handler] = field(default_factory=dict)  # service → replacement

    def __post_init__(self) -> None:
        self.details: DetailsApp = self._app("bookinfo-details", "details-v1-0", {}, {})
        # Named like Bookinfo's Deployments (reviews-v1/v2/v3), as its pages show the pod.
        version = {"black": "v2", "red": "v3"}.get(self.reviews_env.get("STAR_COLOR", ""), "v1")
        self.reviews: ReviewsApp = self._app(
            "bookinfo-reviews", f"reviews-{version}-0", self.reviews_env, {}
        )
        self.ratings: RatingsApp = self._app(
            "bookinfo-ratings", "ratings-v1-0", self.ratings_env, self.ratings_settings
        )
        self.productpage: ProductPageApp = self._app(
            "bookinfo-productpage", "productpage-v1-0", self.productpage_env, {}
        )

    def _app(self, name: str, pod: str, env: dict[str, str], settings: dict[str, Any]) -> Any:
        service = name.removeprefix("bookinfo-")

        async def outbound(request: Request, port: int) -> Response:
            return await self._outbound(service, request, port)

        context = AppContext(
            pod, "bookinfo", "127.0.0.1", {"app": service, "version": "v1"}, env, outbound
        )
        return create_app(name, context, settings)

    async def _outbound(self, caller: str, request: Request, port: int) -> Response:
        target = request.authority.rsplit(":", 1)[0].split(".")[0]
        self.calls.append(Call(caller, target, request))
        if target in self.stand_ins:
            return await self.stand_ins[target](request)
        apps: dict[str, Any] = {
            "details": self.details,
            "reviews": self.reviews,
            "ratings": self.ratings,
        }
        if target not in apps:
            raise ConnectFailure(f"cannot resolve {target!r}")
        response: Response = await apps[target].handle(request)
        return response

    def called(self, service: str) -> list[Request]:
        return [call.request for call in self.calls if call.service == service]

    # --- stand-ins --------------------------------------------------------------------------

    def down(self, service: str) -> None:
        """Connections to ``service`` are refused (an UpstreamError, as the sidecar raises)."""

        async def refuse(request: Request) -> Response:
            raise ConnectFailure(f"{service}: connection refused")

        self.stand_ins[service] = refuse

    def hang(self, service: str) -> None:
        """``service`` accepts the request and never answers."""

        async def never(request: Request) -> Response:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        self.stand_ins[service] = never

    def answer(self, service: str, *statuses: int, body: bytes = b"{}") -> None:
        """``service`` answers with these statuses in turn (the last one repeats)."""
        queue = list(statuses)

        async def scripted(request: Request) -> Response:
            status = queue.pop(0) if len(queue) > 1 else queue[0]
            return Response(status, Headers([("content-type", "application/json")]), body)

        self.stand_ins[service] = scripted

    # --- driving productpage ----------------------------------------------------------------

    def get(self, target: str, headers: dict[str, str] | None = None, cookie: str = "") -> Response:
        items = [("host", "bookinfo.example"), *(headers or {}).items()]
        if cookie:
            items.append(("cookie", cookie))
        return run(self.productpage.handle(Request("GET", target, Headers(items))))

    def page(self, cookie: str = "", headers: dict[str, str] | None = None) -> str:
        response = self.get("/productpage", headers, cookie)
        assert response.status == 200
        return response.body.decode()

    def login(self, user: str) -> str:
        """POST /login as the page's form does; the session cookie for later requests."""
        request = Request(
            "POST",
            "/login",
            Headers(
                [
                    ("host", "bookinfo.example"),
                    ("content-type", "application/x-www-form-urlencoded"),
                ]
            ),
            f"username={user}&passwd=secret".encode(),
        )
        response = run(self.productpage.handle(request))
        assert response.status == 302
        return (response.headers.get("set-cookie") or "").split(";")[0]


def run(coroutine: Coroutine[Any, Any, T], limit_s: float = 5.0) -> T:
    """Run on a fresh loop; a guard turns a hang into a failure instead of a stuck suite."""

    async def guarded() -> T:
        return await asyncio.wait_for(coroutine, limit_s)

    return asyncio.run(guarded())


def get(
    app: Any,
    target: str,
    method: str = "GET",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Response:
    """One request straight to an app (no productpage in front)."""
    items = [("host", "test"), *(headers or {}).items()]
    response: Response = run(app.handle(Request(method, target, Headers(items), body)))
    return response
