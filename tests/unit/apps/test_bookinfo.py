"""Bookinfo's services wired in-process (no sockets): behaviour from istio-semantics §5."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from chaoskit.mesh.apps.base import AppContext, AppSettingsError, create_app
from chaoskit.mesh.apps.bookinfo import productpage as productpage_module, reviews_version_from_page
from chaoskit.mesh.apps.bookinfo.productpage import session_cookie
from chaoskit.mesh.http.client import ConnectFailure
from chaoskit.mesh.http.message import Headers, Request, Response

Outbound = Callable[[Request, int], Awaitable[Response]]


class World:
    """Apps by service name; an app's outbound call goes straight to the named service."""

    def __init__(
        self, reviews_env: dict[str, str], ratings: dict[str, object] | None = None
    ) -> None:
        self.apps: dict[str, object] = {}
        self.calls: list[tuple[str, Request]] = []
        self.down: set[str] = set()
        self.apps["details"] = self._app("bookinfo-details", "details", {})
        self.apps["reviews"] = self._app("bookinfo-reviews", "reviews", reviews_env)
        self.apps["ratings"] = self._app("bookinfo-ratings", "ratings", {}, ratings or {})
        self.productpage = self._app("bookinfo-productpage", "productpage", {})

    def _app(
        self,
        name: str,
        service: str,
        env: dict[str, str],
        settings: dict[str, object] | None = None,
    ) -> object:
        context = AppContext(
            f"{service}-v1-abc",
            "bookinfo",
            "127.0.0.1",
            {"app": service, "version": "v1"},
            env,
            self.outbound,
        )
        return create_app(name, context, settings or {})

    async def outbound(self, request: Request, port: int) -> Response:
        service = request.authority.split(":")[0]
        self.calls.append((service, request))
        if service in self.down:
            raise ConnectFailure(f"{service} is down")
        app = self.apps[service]
        return await app.handle(request)  # type: ignore[attr-defined,no-any-return]

    def get(
        self, path: str, cookie: str | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        items = [("host", "bookinfo.example"), *(headers or {}).items()]
        if cookie:
            items.append(("cookie", cookie))
        return asyncio.run(self.productpage.handle(Request("GET", path, Headers(items))))  # type: ignore[attr-defined]


V1 = {"ENABLE_RATINGS": "false"}
V2 = {"ENABLE_RATINGS": "true", "STAR_COLOR": "black"}
V3 = {"ENABLE_RATINGS": "true", "STAR_COLOR": "red"}


@pytest.mark.parametrize(("env", "version"), [(V1, "v1"), (V2, "v2"), (V3, "v3")])
def test_the_page_shows_each_reviews_version(env: dict[str, str], version: str) -> None:
    """§5.3: v1 no stars, v2 black, v3 red; 5 + 4 filled stars when ratings answers."""
    page = World(env).get("/productpage").body.decode()
    assert "The Comedy of Errors" in page
    assert "<title>Simple Bookstore App</title>" in page
    assert "Reviewer1" in page
    assert reviews_version_from_page(page) == version
    if version != "v1":
        assert page.count('id="glyphicon glyphicon-star"') == 9


def test_login_sets_end_user_and_logout_clears_it() -> None:
    """§5.1: end-user comes from the session, never from the incoming request."""
    world = World(V2)
    login = asyncio.run(
        world.productpage.handle(  # type: ignore[attr-defined]
            Request("POST", "/login", Headers([("host", "x")]), b"username=jason&passwd=secret")
        )
    )
    assert login.status == 302
    cookie = login.headers.get("set-cookie", "").split(";")[0]
    page = world.get("/productpage", cookie=cookie).body.decode()
    assert "jason" in page
    assert "Sign out" in page
    reviews_call = next(r for s, r in world.calls if s == "reviews")
    assert reviews_call.headers.get("end-user") == "jason"
    ratings_call = next(r for s, r in world.calls if s == "ratings")
    assert ratings_call.headers.get("end-user") == "jason"  # reviews propagates it
    world.calls.clear()
    world.get("/productpage", headers={"end-user": "mallory"})
    assert all(r.headers.get("end-user") is None for _, r in world.calls)
    assert session_cookie(None).startswith("session=;")


def test_trace_headers_are_propagated_to_every_service() -> None:
    world = World(V3)
    world.get(
        "/productpage",
        headers={"x-request-id": "abc", "x-b3-traceid": "t1", "traceparent": "00-1-2-01"},
    )
    for service in ("details", "reviews", "ratings"):
        request = next(r for s, r in world.calls if s == service)
        assert request.headers.get("x-request-id") == "abc"
        assert request.headers.get("x-b3-traceid") == "t1"
        assert request.headers.get("traceparent") == "00-1-2-01"


def test_reviews_failure_is_retried_once_then_shown_as_unavailable() -> None:
    """§5.1: two tries for reviews, one for details; the page is still a 200."""
    world = World(V2)
    world.down.add("reviews")
    response = world.get("/productpage")
    assert response.status == 200
    page = response.body.decode()
    assert "Error fetching product reviews" in page
    assert "Sorry, product reviews are currently unavailable for this book." in page
    assert [s for s, _ in world.calls] == ["details", "reviews", "reviews"]
    assert reviews_version_from_page(page) is None


def test_a_slow_reviews_is_cut_at_the_app_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """productpage gives each try 3 s (shortened here); a hanging reviews gets 2 tries."""
    monkeypatch.setattr(productpage_module, "CALL_TIMEOUT_S", 0.01)
    world = World(V2)

    async def hang(request: Request, port: int) -> Response:
        world.calls.append((request.authority.split(":")[0], request))
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    world.apps["reviews"].context = world.apps["reviews"].context  # type: ignore[attr-defined]
    original = world.outbound

    async def outbound(request: Request, port: int) -> Response:
        if request.authority.startswith("reviews"):
            return await hang(request, port)
        return await original(request, port)

    world.productpage.context = AppContext(  # type: ignore[attr-defined]
        "pp", "bookinfo", "127.0.0.1", {"app": "productpage"}, {}, outbound
    )
    page = world.get("/productpage").body.decode()
    assert "Sorry, product reviews are currently unavailable for this book." in page
    assert [s for s, _ in world.calls if s == "reviews"] == ["reviews", "reviews"]


def test_details_failure_text() -> None:
    world = World(V1)
    world.down.add("details")
    page = world.get("/productpage").body.decode()
    assert "Error fetching product details" in page
    assert "Sorry, product details are currently unavailable for this book." in page


@pytest.mark.parametrize("mode", ["unavailable"])
def test_ratings_unavailable_shows_the_ratings_text_in_reviews(mode: str) -> None:
    world = World(V2, {"mode": mode})
    page = world.get("/productpage").body.decode()
    assert page.count("Ratings service is currently unavailable") == 2
    assert reviews_version_from_page(page) is None


def test_ratings_faulty_mode_fails_about_half() -> None:
    """v-faulty: p=0.5 → 503. Seeded; 400 draws: 200 ± 6 sd (60)."""
    world = World(V2, {"mode": "faulty"})
    app = world.apps["ratings"]
    statuses = [
        asyncio.run(app.handle(Request("GET", "/ratings/0", Headers([("host", "ratings")])))).status  # type: ignore[attr-defined]
        for _ in range(400)
    ]
    assert 140 <= statuses.count(503) <= 260
    assert set(statuses) == {200, 503}


def test_bad_ratings_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(AppSettingsError, match="mode: unknown 'sometimes'; use one of normal"):
        World(V2, {"mode": "sometimes"})


def test_products_api() -> None:
    world = World(V1)
    products = world.get("/api/v1/products")
    assert products.status == 200
    assert b"The Comedy of Errors" in products.body
    details = world.get("/api/v1/products/0")
    assert b"William Shakespeare" in details.body
    world.down.add("ratings")
    ratings = world.get("/api/v1/products/0/ratings")
    assert ratings.status == 500
    assert b"Sorry, product ratings are currently unavailable for this book." in ratings.body


def test_version_is_read_from_real_bookinfo_markup_too() -> None:
    """Older Bookinfo pages used <font color="red"> around glyphicon spans."""
    old = '<blockquote>Reviewer1<font color="red"><span class="glyphicon glyphicon-star"></span></font>'
    assert reviews_version_from_page(old) == "v3"
    assert reviews_version_from_page("<p>Reviewer1</p><p>Reviewer2</p>") == "v1"
    assert reviews_version_from_page(Path(__file__).read_text()[:0]) is None
