"""productpage v1 (Python/Flask in Bookinfo): the page, login and logout, the products API.

/productpage calls details then reviews, one after the other (backends.py has the 3 s
timeouts and reviews' two tries) and is always a 200: failures are rendered as error text.
``end-user`` on those calls comes from the login session, never from the incoming request.
One deliberate difference: without a Referer, /login and /logout redirect to /productpage
(Flask's ``redirect(request.referrer)`` would fail on None).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.bookinfo import catalog, session
from chaoskit.mesh.apps.bookinfo.backends import Backends, BadUpstreamBody, Result
from chaoskit.mesh.apps.bookinfo.landing import render_landing, service_tree
from chaoskit.mesh.apps.bookinfo.metrics import ResultCounter
from chaoskit.mesh.apps.bookinfo.page import render_product_page
from chaoskit.mesh.apps.bookinfo.propagation import productpage_headers
from chaoskit.mesh.apps.bookinfo.service import BookinfoService
from chaoskit.mesh.apps.bookinfo.static import ASSETS
from chaoskit.mesh.http.message import Headers, Request, Response

_GET = frozenset({"GET", "HEAD", "OPTIONS"})  # Flask's methods for a plain route
_POST = frozenset({"POST", "OPTIONS"})
_HTML = "text/html; charset=utf-8"
_API = "/api/v1/products"
_NOT_FOUND = "<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
PAGE_CACHE_SIZE = 64  # rendered pages kept (users × the reviews versions' answers)


def _html(status: int, body: str) -> Response:
    return Response.text(status, body, _HTML)


def _api_json(result: Result) -> Response:
    body = json.dumps(result.payload).encode()
    return Response(result.status, Headers([("content-type", "application/json")]), body)


class ProductPageApp(BookinfoService):
    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.results = ResultCounter()
        self.backends = Backends(context, self.results)
        raw_flood = context.env.get("FLOOD_FACTOR", "0")
        # FLOOD_FACTOR (the productpage-v-flooding image): extra reviews calls per page.
        self.flood_factor = int(raw_flood) if raw_flood.isdigit() else 0
        # The page is a pure function of the user and the two upstream answers, and under
        # load the same few combinations repeat: render each once.
        self._pages: dict[tuple[str | None, int, bytes, int, bytes], str] = {}

    async def route(self, request: Request) -> Response:
        path = request.path
        allowed = _POST if path == "/login" else _GET
        if request.method not in allowed:
            return Response(405, Headers([("allow", ", ".join(sorted(allowed)))]))
        if request.method == "OPTIONS":
            return Response(200, Headers([("allow", ", ".join(sorted(allowed)))]))
        try:
            return await self._dispatch(request, path)
        except BadUpstreamBody:
            return _html(500, "<!doctype html><title>500 Internal Server Error</title>")

    async def _dispatch(self, request: Request, path: str) -> Response:
        if path in ("/", "/index.html"):
            targets = self.backends
            tree = service_tree(targets.details_at, targets.reviews_at, targets.ratings_at)
            return _html(200, render_landing(tree))
        if path == "/health":
            return _html(200, "Product page is healthy")
        if path == "/login":
            return self._login(request)
        if path == "/logout":
            return self._redirect(request, session.clear_cookie())
        if path == "/productpage":
            return await self._product_page(request)
        if path == "/metrics":
            return Response.text(200, self.results.exposition(), "text/plain; version=0.0.4")
        if path in ASSETS:
            content_type, data = ASSETS[path]
            return Response(200, Headers([("content-type", content_type)]), data)
        if path == _API:
            body = json.dumps(catalog.products()).encode()
            return Response(200, Headers([("content-type", "application/json")]), body)
        if path.startswith(_API + "/"):
            return await self._api(request, path.removeprefix(_API + "/"))
        return _html(404, _NOT_FOUND)

    @staticmethod
    def _headers(request: Request) -> list[tuple[str, str]]:
        return productpage_headers(request.headers, session.session_user(request.headers))

    def _login(self, request: Request) -> Response:
        # request.values: query string first, then an urlencoded form body.
        fields = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        content_type = request.headers.get("content-type") or ""
        form = fields if content_type.startswith("application/x-www-form-urlencoded") else {}
        values = {**form, **dict(parse_qsl(request.query, keep_blank_values=True))}
        return self._redirect(request, session.set_cookie(values.get("username")))

    @staticmethod
    def _redirect(request: Request, cookie: str) -> Response:
        target = request.headers.get("referer") or "/productpage"
        headers = Headers([("content-type", _HTML), ("location", target)])
        headers.add("set-cookie", cookie)
        headers.add("vary", "Cookie")
        return Response(302, headers, b"<!doctype html><title>Redirecting...</title>")

    async def _product_page(self, request: Request) -> Response:
        user = session.session_user(request.headers)
        headers = productpage_headers(request.headers, user)
        details = await self.backends.get_details("0", headers)
        for _ in range(self.flood_factor):  # sequential: the real flood awaits blocking calls
            await self.backends.get_reviews("0", headers)
        reviews = await self.backends.get_reviews("0", headers)
        # An error's payload is fixed by the call and its status, a 200's by its body.
        key = (user, details.status, details.body, reviews.status, reviews.body)
        page = self._pages.get(key)
        if page is None:
            page = render_product_page(
                user,
                catalog.products()[0],
                details.status,
                details.payload,
                reviews.status,
                reviews.payload,
            )
            if len(self._pages) >= PAGE_CACHE_SIZE:
                self._pages.clear()
            self._pages[key] = page
        response = _html(200, page)
        response.headers.add("vary", "Cookie")
        return response

    async def _api(self, request: Request, rest: str) -> Response:
        # The id is passed through as text (Flask's <product_id>): details, reviews and
        # ratings each parse it their own way.
        product, slash, what = rest.partition("/")
        calls = {
            "": self.backends.get_details,
            "/reviews": self.backends.get_reviews,
            "/ratings": self.backends.get_ratings,  # the only call productpage makes to ratings
        }
        call = calls.get(slash + what) if product else None
        if call is None:  # Flask: no route (a trailing slash is no match either)
            return _html(404, _NOT_FOUND)
        return _api_json(await call(product, self._headers(request)))
