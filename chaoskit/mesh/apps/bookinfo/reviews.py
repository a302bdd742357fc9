"""reviews v1/v2/v3 (Java in Bookinfo): one code, versions by environment.

ENABLE_RATINGS decides whether ratings is called; STAR_COLOR picks the colour and the
ratings timeout (black: 10 s, anything else: 2.5 s). The answer is always 200; a failed
ratings call becomes ``"Ratings service is currently unavailable"`` per reviewer.
"""

from __future__ import annotations

import os
from typing import Any

from chaoskit.mesh.apps.bookinfo.calls import SERVICE_FORWARDED, forwarded, get_json
from chaoskit.mesh.apps.bookinfo.service import BookinfoApp
from chaoskit.mesh.http.message import Request, Response

REVIEWS = (
    (
        "Reviewer1",
        "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!",
    ),
    (
        "Reviewer2",
        "Absolutely fun and entertaining. The play lacks thematic depth when compared to "
        "other plays by Shakespeare.",
    ),
)
RATINGS_UNAVAILABLE = "Ratings service is currently unavailable"
BLACK_TIMEOUT_S = 10.0
OTHER_TIMEOUT_S = 2.5


class ReviewsApp(BookinfoApp):
    @property
    def ratings_enabled(self) -> bool:
        return self.context.env.get("ENABLE_RATINGS", "false").lower() == "true"

    @property
    def star_color(self) -> str:
        return self.context.env.get("STAR_COLOR", "black")

    async def route(self, request: Request) -> Response:
        path = request.path
        if path == "/health":
            return self.json(200, {"status": "Reviews is healthy"})
        if not path.startswith("/reviews/"):
            return self.json(404, {"error": "not found"})
        product = path.removeprefix("/reviews/")
        ratings: dict[str, Any] | None = None
        if self.ratings_enabled:
            timeout = BLACK_TIMEOUT_S if self.star_color == "black" else OTHER_TIMEOUT_S
            result = await get_json(
                self.context,
                self.context.env.get("RATINGS_HOSTNAME", "ratings"),
                f"/ratings/{product}",
                forwarded(request.headers, SERVICE_FORWARDED),
                timeout,
            )
            if result.ok and isinstance(result.body, dict):
                ratings = result.body.get("ratings")
            else:
                ratings = {}
        reviews = []
        for reviewer, text in REVIEWS:
            review: dict[str, Any] = {"reviewer": reviewer, "text": text}
            if ratings is not None:
                stars = ratings.get(reviewer)
                review["rating"] = (
                    {"stars": stars, "color": self.star_color}
                    if isinstance(stars, int)
                    else {"error": RATINGS_UNAVAILABLE}
                )
            reviews.append(review)
        return self.json(
            200,
            {
                "id": product,
                "podname": self.context.pod,
                "clustername": os.environ.get("CLUSTER_NAME"),
                "reviews": reviews,
            },
        )
