"""details v1, and how each Bookinfo runtime parses a product id."""

from __future__ import annotations

import json

import pytest

from chaoskit.mesh.apps.bookinfo.ids import java_int, js_parse_int, ruby_integer
from tests.unit.apps.bookinfo_world import World, get


def test_details_json() -> None:
    """details.rb get_book_details; istio-semantics §5.2 (field order kept)."""
    response = get(World().details, "/details/0")
    assert response.status == 200
    assert response.headers.get("content-type") == "application/json"
    assert json.loads(response.body) == {
        "id": 0,
        "author": "William Shakespeare",
        "year": 1595,
        "type": "paperback",
        "pages": 200,
        "publisher": "PublisherA",
        "language": "English",
        "ISBN-10": "1234567890",
        "ISBN-13": "123-1234567890",
    }


def test_details_ids_health_and_unknown_paths() -> None:
    """details.rb: Integer(pathParts[-1]) or 400 "please provide numeric product id";
    mount_proc '/health' → {"status": "Details is healthy"}."""
    app = World().details
    bad = get(app, "/details/abc")
    assert (bad.status, json.loads(bad.body)) == (
        400,
        {"error": "please provide numeric product id"},
    )
    assert get(app, "/details").status == 400
    assert json.loads(get(app, "/details/0x10").body)["id"] == 16
    assert json.loads(get(app, "/health").body) == {"status": "Details is healthy"}
    assert get(app, "/elsewhere").status == 404


@pytest.mark.parametrize(
    ("text", "ruby", "java", "js"),
    [
        ("0", 0, 0, 0),
        ("7", 7, 7, 7),
        ("010", 8, 10, 10),  # Ruby: a leading 0 is octal
        ("08", None, 8, 8),
        ("0x1f", 31, None, 31),
        ("5abc", None, None, 5),
        ("-2", -2, -2, -2),
        ("1_000", 1000, None, 1),
        ("abc", None, None, None),
        ("", None, None, None),
        ("2147483648", 2147483648, None, 2147483648),  # beyond Java's int
    ],
)
def test_id_parsing_per_runtime(
    text: str, ruby: int | None, java: int | None, js: int | None
) -> None:
    """details.rb Integer(), LibertyRestEndpoint.java int @PathParam, ratings.js parseInt."""
    assert (ruby_integer(text), java_int(text), js_parse_int(text)) == (ruby, java, js)
