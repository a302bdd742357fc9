"""reviews v1/v2/v3 (Java/OpenLiberty in Bookinfo): one code, the version is in the env.

LibertyRestEndpoint.java: ENABLE_RATINGS ("true", any case) decides whether ratings is
called; STAR_COLOR (default black) is the stars' colour and picks the ratings timeout:
10 s for black (v2), 2.5 s for anything else (v3), with no retry. The answer is always 200;
a failed ratings call (non-200, timeout, no connection) or a missing reviewer gives that
reviewer ``{"error": "Ratings service is currently unavailable"}``. A ratings 200 whose
body the Java code cannot read (not a JSON object, a non-numeric rating) is an uncaught
exception there, so a 500 here.
"""

from __future__ import annotations

import json
from typing import Any

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.bookinfo import catalog, upstream
from chaoskit.mesh.apps.bookinfo.ids import java_int
from chaoskit.mesh.apps.bookinfo.propagation import service_headers
from chaoskit.mesh.apps.bookinfo.service import (
    BODY_CACHE_SIZE,
    BookinfoService,
    json_body,
    json_reply,
    json_response,
    remember,
)
from chaoskit.mesh.http.message import Request, Response

BLACK_STARS_TIMEOUT_S = 10.0  # timeout = star_color.equals("black") ? 10000 : 2500
OTHER_STARS_TIMEOUT_S = 2.5


class UnreadableRatings(Exception):
    """What javax.json would throw on this ratings body."""


def _stars(ratings: Any, reviewer: str) -> int | None:
    """JsonObject.getInt semantics: a number is truncated to int, anything else throws."""
    if reviewer not in ratings:
        return None
    value = ratings[reviewer]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnreadableRatings(f"rating of {reviewer} is not a number: {value!r}")
    return int(value)


def read_ratings(body: bytes) -> dict[str, int | None]:
    """Stars per reviewer from a ratings 200 (None: that reviewer has no rating)."""
    try:
        document = json.loads(body)
    except ValueError:
        raise UnreadableRatings("ratings body is not JSON") from None
    if not isinstance(document, dict):
        raise UnreadableRatings("ratings body is not a JSON object")
    if "ratings" not in document:
        return {}
    ratings = document["ratings"]
    if not isinstance(ratings, dict):
        raise UnreadableRatings("'ratings' is not a JSON object")
    return {reviewer: _stars(ratings, reviewer) for reviewer, _ in catalog.REVIEWS}


class ReviewsApp(BookinfoService):
    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        # The answer is a pure function of the id, the stars and the env it reads, and the
        # stars of the body ratings sent: under load the same few repeat, encode each once.
        self._bodies: dict[tuple[Any, ...], bytes] = {}
        self._read: dict[bytes, dict[str, int | None]] = {}

    @property
    def ratings_enabled(self) -> bool:
        return self.context.env.get("ENABLE_RATINGS", "").lower() == "true"  # Boolean.valueOf

    @property
    def star_color(self) -> str:
        return self.context.env.get("STAR_COLOR", "black")

    @property
    def ratings_timeout_s(self) -> float:
        return BLACK_STARS_TIMEOUT_S if self.star_color == "black" else OTHER_STARS_TIMEOUT_S

    async def route(self, request: Request) -> Response:
        path = request.path
        if request.method not in ("GET", "HEAD"):  # both resources are @GET only
            return Response.text(405, "Method Not Allowed")
        if path == "/health":
            return json_response(200, {"status": "Reviews is healthy"})
        product = java_int(path.removeprefix("/reviews/")) if path.startswith("/reviews/") else None
        if product is None:  # no such resource, or an id JAX-RS cannot convert to int
            return Response.text(404, "Not Found")
        stars: dict[str, int | None] = {}
        if self.ratings_enabled:
            try:
                stars = await self._ratings(str(product), request)
            except UnreadableRatings:
                return Response.text(500, "Internal Server Error")
        env = self.context.env
        key = (
            product,
            tuple(stars.items()),
            env.get("ENABLE_RATINGS"),
            env.get("STAR_COLOR"),
            env.get("HOSTNAME"),
            env.get("CLUSTER_NAME"),
        )
        body = self._bodies.get(key) or remember(
            self._bodies, key, json_body(self._document(str(product), stars))
        )
        return json_reply(200, body)

    async def _ratings(self, product: str, request: Request) -> dict[str, int | None]:
        target = upstream.Target.from_env(self.context, "ratings")
        headers = [*service_headers(request.headers), ("accept", "application/json")]
        reply = await upstream.get(
            self.context, target, f"/ratings/{product}", headers, self.ratings_timeout_s
        )
        if reply.status != 200:
            return {}
        stars = self._read.get(reply.body)
        if stars is None:
            stars = read_ratings(reply.body)  # raises on a body Java cannot read: not kept
            if len(self._read) >= BODY_CACHE_SIZE:
                self._read.clear()
            self._read[reply.body] = stars
        return stars

    def _document(self, product: str, stars: dict[str, int | None]) -> dict[str, Any]:
        env = self.context.env
        reviews = []
        for reviewer, text in catalog.REVIEWS:
            review: dict[str, Any] = {"reviewer": reviewer, "text": text}
            if self.ratings_enabled:
                count = stars.get(reviewer)
                review["rating"] = (
                    {"error": catalog.RATINGS_UNAVAILABLE}
                    if count is None or count == -1  # -1 is the Java code's "no rating"
                    else {"stars": count, "color": self.star_color}
                )
            reviews.append(review)
        return {
            "id": product,
            "podname": env.get("HOSTNAME", self.context.pod),  # Kubernetes sets HOSTNAME
            "clustername": env.get("CLUSTER_NAME", "null"),  # Java writes null as "null"
            "reviews": reviews,
        }
