"""details v1 (Ruby/WEBrick in Bookinfo): the book's details as JSON.

details.rb mounts ``/details`` and ``/health`` (WEBrick mounts match the path and anything
below it), takes the id from the last path segment with Ruby's ``Integer()`` and answers
400 ``{"error":"please provide numeric product id"}`` when that fails. The external Google
Books lookup of details v2 (ENABLE_EXTERNAL_BOOK_SERVICE) is not emulated.
"""

from __future__ import annotations

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.bookinfo.catalog import book_details
from chaoskit.mesh.apps.bookinfo.ids import ruby_integer
from chaoskit.mesh.apps.bookinfo.service import (
    BookinfoService,
    json_body,
    json_reply,
    json_response,
    remember,
)
from chaoskit.mesh.http.message import Request, Response


def _mounted(path: str, mount: str) -> bool:
    return path == mount or path.startswith(mount + "/")


class DetailsApp(BookinfoService):
    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self._bodies: dict[int, bytes] = {}  # the answer is a pure function of the id

    async def route(self, request: Request) -> Response:
        path = request.path
        if _mounted(path, "/health"):
            return json_response(200, {"status": "Details is healthy"}, compact=True)
        if _mounted(path, "/details"):
            segments = [part for part in path.split("/") if part]
            product = ruby_integer(segments[-1])
            if product is None:
                return json_response(
                    400, {"error": "please provide numeric product id"}, compact=True
                )
            body = self._bodies.get(product) or remember(
                self._bodies, product, json_body(book_details(product), compact=True)
            )
            return json_reply(200, body)
        return Response.text(404, "Not Found", "text/html; charset=ISO-8859-1")
