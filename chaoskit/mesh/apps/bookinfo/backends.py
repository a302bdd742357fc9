"""productpage's three upstream calls, with the real app's timeouts and retries.

productpage.py getProductDetails / getProductReviews / getProductRatings: each GET has a
3 s timeout; reviews alone is tried twice (a loop of 2, retrying any non-200 or exception,
no backoff). A failure yields the last upstream status (500 when there was no response) and
an ``{"error": ...}`` body. The constants are read at call time, so tests may shorten them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.bookinfo import catalog, upstream
from chaoskit.mesh.apps.bookinfo.metrics import ResultCounter

CALL_TIMEOUT_S = 3.0  # requests.get(..., timeout=3.0) for every call
REVIEWS_TRIES = 2  # "for _ in range(2)" around the reviews call


class BadUpstreamBody(Exception):
    """A 200 whose body is not JSON: ``res.json()`` raises and Flask answers 500."""


PARSED_CACHE_SIZE = 64  # distinct upstream bodies kept parsed (Bookinfo has a handful)


@dataclass(frozen=True, slots=True)
class Result:
    status: int
    payload: Any  # the upstream JSON on 200, else {"error": <text>}; never modified
    body: bytes = b""  # the upstream body on 200 (the payload is a function of it)


class Backends:
    def __init__(self, context: AppContext, counter: ResultCounter) -> None:
        self.context = context
        self.counter = counter
        self.details_at = upstream.Target.from_env(context, "details")
        self.reviews_at = upstream.Target.from_env(context, "reviews")
        self.ratings_at = upstream.Target.from_env(context, "ratings")
        # The same few bodies come back on every call: parse each once. Payloads are shared
        # between results, so nothing may modify one.
        self._parsed: dict[bytes, Any] = {}

    async def get_details(self, product: str, headers: list[tuple[str, str]]) -> Result:
        reply = await upstream.get(
            self.context, self.details_at, f"/details/{product}", headers, CALL_TIMEOUT_S
        )
        return self._result("details", reply, catalog.DETAILS_UNAVAILABLE)

    async def get_reviews(self, product: str, headers: list[tuple[str, str]]) -> Result:
        reply = upstream.Reply(None)
        for _ in range(REVIEWS_TRIES):
            reply = await upstream.get(
                self.context, self.reviews_at, f"/reviews/{product}", headers, CALL_TIMEOUT_S
            )
            if reply.status == 200:
                break
        return self._result("reviews", reply, catalog.REVIEWS_UNAVAILABLE)

    async def get_ratings(self, product: str, headers: list[tuple[str, str]]) -> Result:
        reply = await upstream.get(
            self.context, self.ratings_at, f"/ratings/{product}", headers, CALL_TIMEOUT_S
        )
        return self._result("ratings", reply, catalog.RATINGS_UNAVAILABLE_API)

    def _result(self, app: str, reply: upstream.Reply, error: str) -> Result:
        if reply.status == 200:
            self.counter.add(app, 200)
            payload = self._parsed.get(reply.body)
            if payload is None:
                try:
                    payload = json.loads(reply.body)
                except ValueError:
                    raise BadUpstreamBody(f"{app} answered 200 without JSON") from None
                if len(self._parsed) >= PARSED_CACHE_SIZE:
                    self._parsed.clear()
                self._parsed[reply.body] = payload
            return Result(200, payload, reply.body)
        status = reply.status or 500  # no response (or status 0) → 500
        self.counter.add(app, status)
        return Result(status, {"error": error})
