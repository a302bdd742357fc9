"""details v1 (Ruby WEBrick in Bookinfo): the book's details as JSON."""

from __future__ import annotations

from chaoskit.mesh.apps.bookinfo.service import BookinfoApp
from chaoskit.mesh.http.message import Request, Response


class DetailsApp(BookinfoApp):
    async def route(self, request: Request) -> Response:
        path = request.path
        if path == "/health":
            return self.json(200, {"status": "Details is healthy"})
        if path.startswith("/details/"):
            raw = path.removeprefix("/details/")
            if not raw.lstrip("-").isdigit():
                return self.json(400, {"error": "please provide numeric product id"})
            return self.json(200, book_details(int(raw)))
        return self.json(404, {"error": "not found"})


def book_details(product_id: int) -> dict[str, object]:
    return {
        "id": product_id,
        "author": "William Shakespeare",
        "year": 1595,
        "type": "paperback",
        "pages": 200,
        "publisher": "PublisherA",
        "language": "English",
        "ISBN-10": "1234567890",
        "ISBN-13": "123-1234567890",
    }
