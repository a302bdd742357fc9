"""productpage's /productpage against in-process details, reviews and ratings."""

from __future__ import annotations

import re

import pytest

from chaoskit.mesh.apps.bookinfo import reviews_version_from_page
from tests.unit.apps.bookinfo_world import V1, V2, V3, World

DETAILS_ERROR = "Sorry, product details are currently unavailable for this book."
REVIEWS_ERROR = "Sorry, product reviews are currently unavailable for this book."
RATINGS_ERROR = "Ratings service is currently unavailable"


@pytest.mark.parametrize(
    ("env", "version", "colour"), [(V1, "v1", None), (V2, "v2", "black"), (V3, "v3", "red")]
)
def test_each_reviews_version_shows_its_stars(
    env: dict[str, str], version: str, colour: str | None
) -> None:
    """istio-semantics §5.1/§5.3, templates/productpage.html: v1 no stars; v2 black, v3 red,
    5 + 4 filled glyphs (svg id "glyphicon glyphicon-star") inside text-<colour>-500."""
    page = World(reviews_env=env).page()
    assert "<title>Simple Bookstore App</title>" in page
    assert "The Comedy of Errors" in page
    assert "Book Details" in page
    assert "Book Reviews" in page
    assert "Reviewer1" in page
    assert "Reviewer2" in page
    assert '"An extremely entertaining play by Shakespeare.' in page  # quoted, as the template
    assert reviews_version_from_page(page) == version
    filled = page.count('id="glyphicon glyphicon-star"')
    if colour is None:
        assert filled == 0
        assert re.search(r"text-(black|red)-500", page) is None
    else:
        assert filled == 9  # ratings 5 and 4
        assert page.count(f"text-{colour}-500") == 2
        assert page.count("star-outline") == 1  # 5 - 4


def test_the_details_table_has_the_real_fields() -> None:
    """templates/productpage.html: ISBN-10, Publisher, Pages, Type, Language from details."""
    page = World().page()
    for text in ("ISBN-10", "1234567890", "Publisher", "PublisherA", "Pages", "200"):
        assert text in page
    for text in ("Type", "paperback", "Language", "English"):
        assert text in page


def test_reviews_served_by_names_the_pod_and_no_cluster_by_default() -> None:
    """productpage.html: "Reviews served by:" + podname; "on cluster" only when reviews'
    clustername is not the string "null" (LibertyRestEndpoint.java writes null as "null")."""
    page = World().page()
    assert page.count("Reviews served by: reviews-v2-0") == 2  # once per review
    assert "on cluster" not in page
    page = World(reviews_env={**V2, "CLUSTER_NAME": "east"}).page()
    assert "on cluster <div>east</div>" in page


def test_details_failure_shows_the_details_error_and_still_the_reviews() -> None:
    """productpage.py getProductDetails: no retry; productpage.html error heading + text."""
    world = World()
    world.down("details")
    page = world.page()
    assert "Error fetching product details" in page
    assert DETAILS_ERROR in page
    assert "Book Details" not in page
    assert reviews_version_from_page(page) == "v2"
    assert len(world.called("details")) == 1


def test_reviews_failure_is_tried_twice_then_shown_as_unavailable() -> None:
    """productpage.py getProductReviews: a loop of 2 tries; the page itself stays 200."""
    world = World()
    world.answer("reviews", 503)
    page = world.page()
    assert "Error fetching product reviews" in page
    assert REVIEWS_ERROR in page
    assert "Book Details" in page
    assert len(world.called("reviews")) == 2
    assert reviews_version_from_page(page) is None


def test_a_second_try_that_succeeds_shows_the_reviews() -> None:
    """productpage.py getProductReviews: returns on the first 200."""
    world = World()
    body = b'{"id": "0", "podname": "r", "clustername": "null", "reviews": []}'
    world.answer("reviews", 503, 200, body=body)
    page = world.page()
    assert "Book Reviews" in page
    assert len(world.called("reviews")) == 2


def test_ratings_failure_shows_the_ratings_text_instead_of_stars() -> None:
    """LibertyRestEndpoint.java + productpage.html: each review shows the ratings error."""
    world = World()
    world.down("ratings")
    page = world.page()
    assert page.count(RATINGS_ERROR) == 2
    assert 'id="glyphicon glyphicon-star"' not in page
    assert reviews_version_from_page(page) == "v2"  # the pod that served the reviews


def test_the_page_escapes_what_it_did_not_write() -> None:
    """productpage.html autoescapes user names and review fields (Jinja default)."""
    world = World()
    cookie = world.login("<b>eve</b>")
    page = world.page(cookie)
    assert "&lt;b&gt;eve&lt;/b&gt;" in page
    assert "<b>eve</b>" not in page
