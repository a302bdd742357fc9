"""The one book Bookinfo sells, and the user-visible strings the real services use.

Only the strings that istio-semantics §5 lists (and that tests and users grep for) are the
real ones; the book description is our own wording.
"""

from __future__ import annotations

from typing import Any

TITLE = "The Comedy of Errors"
DESCRIPTION_HTML = (
    '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Summary</a>: an early comedy '
    "by <b>William Shakespeare</b> in which two pairs of twins, parted at birth, are mistaken "
    "for one another all over Ephesus."
)

# productpage's error bodies (productpage.py getProductDetails/Reviews/Ratings)
DETAILS_UNAVAILABLE = "Sorry, product details are currently unavailable for this book."
REVIEWS_UNAVAILABLE = "Sorry, product reviews are currently unavailable for this book."
RATINGS_UNAVAILABLE_API = "Sorry, product ratings are currently unavailable for this book."
# templates/productpage.html headings when a backend failed
DETAILS_ERROR_HEADING = "Error fetching product details"
REVIEWS_ERROR_HEADING = "Error fetching product reviews"
# reviews' per-reviewer rating when ratings failed (LibertyRestEndpoint.java)
RATINGS_UNAVAILABLE = "Ratings service is currently unavailable"

REVIEWS: tuple[tuple[str, str], ...] = (
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
DEFAULT_RATINGS: dict[str, int] = {"Reviewer1": 5, "Reviewer2": 4}


def products() -> list[dict[str, Any]]:
    """productpage's product list (GET /api/v1/products)."""
    return [{"id": 0, "title": TITLE, "descriptionHtml": DESCRIPTION_HTML}]


def book_details(product_id: int) -> dict[str, Any]:
    """details v1's answer for any id (details.rb get_book_details, key order kept)."""
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
