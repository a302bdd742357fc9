"""productpage v1 (Python/Flask in Bookinfo): the page, login, the products API.

It calls details then reviews, one after the other, each with a 3 s timeout; reviews gets
two tries (a loop of 2, no backoff). ``end-user`` is set from the login session, never
copied from the incoming request. The page itself is always a 200.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl

from chaoskit.mesh.apps.bookinfo.calls import (
    PRODUCTPAGE_FORWARDED,
    CallResult,
    forwarded,
    get_json,
)
from chaoskit.mesh.apps.bookinfo.page import (
    DETAILS_UNAVAILABLE,
    RATINGS_UNAVAILABLE_API,
    REVIEWS_UNAVAILABLE,
    SUMMARY,
    TITLE,
    render_product_page,
)
from chaoskit.mesh.apps.bookinfo.service import BookinfoApp
from chaoskit.mesh.http.message import Headers, Request, Response

CALL_TIMEOUT_S = 3.0
REVIEWS_TRIES = 2
# The few styles the page uses (Bookinfo ships Tailwind; these give the same look).
_STATIC = b"""body{font-family:system-ui,sans-serif;margin:0;color:#1f2937}
nav{display:flex;justify-content:space-between;align-items:center;background:#1f2937;
 color:#fff;padding:12px 24px}nav a{color:#fff;text-decoration:none;font-weight:600}
nav input{margin-right:6px}h3,p,.details,.reviews{margin-left:24px;margin-right:24px}
h3{font-size:1.8em}.details,.reviews{display:inline-block;vertical-align:top;width:42%}
dt{font-weight:600}blockquote{border-left:4px solid #e5e7eb;margin:12px 0;padding:4px 12px}
.star{width:20px;height:20px;fill:currentColor}.text-black-500{color:#111}
.text-red-500{color:#dc2626}
"""


def session_user(request: Request) -> str | None:
    for cookie in request.headers.get_all("cookie"):
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "session" and value:
                try:
                    data = json.loads(base64.urlsafe_b64decode(value.encode() + b"=="))
                except ValueError:
                    return None
                user = data.get("user") if isinstance(data, dict) else None
                return user if isinstance(user, str) and user else None
    return None


def session_cookie(user: str | None) -> str:
    if user is None:
        return "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"
    value = base64.urlsafe_b64encode(json.dumps({"user": user}).encode()).decode().rstrip("=")
    return f"session={value}; HttpOnly; Path=/"


class ProductPageApp(BookinfoApp):
    def _headers(self, request: Request) -> list[tuple[str, str]]:
        headers = forwarded(request.headers, PRODUCTPAGE_FORWARDED)
        user = session_user(request)
        if user:
            headers.append(("end-user", user))
        return headers

    def _host(self, service: str) -> str:
        return self.context.env.get(f"{service.upper()}_HOSTNAME", service)

    async def details(self, request: Request, product: int) -> CallResult:
        return await get_json(
            self.context,
            self._host("details"),
            f"/details/{product}",
            self._headers(request),
            CALL_TIMEOUT_S,
        )

    async def reviews(self, request: Request, product: int) -> CallResult:
        result = CallResult(500, None)
        for _ in range(REVIEWS_TRIES):
            result = await get_json(
                self.context,
                self._host("reviews"),
                f"/reviews/{product}",
                self._headers(request),
                CALL_TIMEOUT_S,
            )
            if result.ok:
                break
        return result

    async def route(self, request: Request) -> Response:
        path = request.path
        if path in ("/", "/index.html"):
            return Response.text(200, self._index(), "text/html")
        if path == "/health":
            return Response.text(200, "Product page is healthy")
        if path == "/login" and request.method == "POST":
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
            return self._redirect(request, form.get("username") or None)
        if path == "/logout":
            return self._redirect(request, None)
        if path == "/productpage":
            return await self._page(request)
        if path.startswith("/static/"):
            return Response(200, Headers([("content-type", "text/css")]), _STATIC)
        if path.startswith("/api/v1/products"):
            return await self._api(request, path.removeprefix("/api/v1/products"))
        return Response.text(404, "Not Found")

    def _redirect(self, request: Request, user: str | None) -> Response:
        target = request.headers.get("referer") or "/productpage"
        return Response(302, Headers([("location", target), ("set-cookie", session_cookie(user))]))

    async def _page(self, request: Request) -> Response:
        details = await self.details(request, 0)
        reviews = await self.reviews(request, 0)
        page = render_product_page(
            session_user(request),
            details.body if details.ok else None,
            DETAILS_UNAVAILABLE,
            reviews.body if reviews.ok else None,
            REVIEWS_UNAVAILABLE,
        )
        return Response.text(200, page, "text/html; charset=utf-8")

    async def _api(self, request: Request, rest: str) -> Response:
        if rest in ("", "/"):
            return self.json(200, [{"id": 0, "title": TITLE, "descriptionHtml": SUMMARY}])
        parts = rest.strip("/").split("/")
        if not parts[0].isdigit():
            return self.json(400, {"error": "please provide numeric product id"})
        product = int(parts[0])
        what = parts[1] if len(parts) > 1 else "details"
        result: CallResult
        if what == "details":
            result, error = await self.details(request, product), DETAILS_UNAVAILABLE
        elif what == "reviews":
            result, error = await self.reviews(request, product), REVIEWS_UNAVAILABLE
        elif what == "ratings":
            result = await get_json(
                self.context,
                self._host("ratings"),
                f"/ratings/{product}",
                self._headers(request),
                CALL_TIMEOUT_S,
            )
            error = RATINGS_UNAVAILABLE_API
        else:
            return self.json(404, {"error": "not found"})
        body: Any = result.body if result.ok else {"error": error}
        return self.json(result.status, body)

    def _index(self) -> str:
        return (
            "<!DOCTYPE html><html><head><title>Simple Bookstore App</title></head><body>"
            "<h3>Hello! This is a simple bookstore application consisting of three services "
            "as shown below</h3><p><a href='productpage?u=normal'>Normal user</a> "
            "<a href='productpage?u=test'>Test user</a></p></body></html>"
        )
