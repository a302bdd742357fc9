"""The /productpage HTML, and reading back which reviews version served a page.

The markup keeps what users and tests look for on the real page: the title, the error
texts, ``Reviews served by:`` with the pod name, and star glyphs inside ``text-<colour>-500``.
"""

from __future__ import annotations

import html
import re
from typing import Any

DETAILS_UNAVAILABLE = "Sorry, product details are currently unavailable for this book."
REVIEWS_UNAVAILABLE = "Sorry, product reviews are currently unavailable for this book."
RATINGS_UNAVAILABLE_API = "Sorry, product ratings are currently unavailable for this book."
TITLE = "The Comedy of Errors"
SUMMARY = (
    "Wikipedia Summary: The Comedy of Errors is one of <b>William Shakespeare's</b> early "
    "plays. It is his shortest and one of his most farcical comedies, with a major part of "
    "the humour coming from slapstick and mistaken identity, in addition to puns and word play."
)
_STAR_PATH = "M12 2l3 7h7l-5.5 4.5 2 7.5-6.5-4.5-6.5 4.5 2-7.5L2 9h7z"
_STAR = (
    '<svg class="star" id="glyphicon glyphicon-star" width="20" height="20" viewBox="0 0 24 24">'
    f'<path d="{_STAR_PATH}"/></svg>'
)
_EMPTY_STAR = (
    '<svg class="star" id="glyphicon glyphicon-star-empty" width="20" height="20" '
    'viewBox="0 0 24 24">'
    f'<path fill="none" stroke="currentColor" d="{_STAR_PATH}"/></svg>'
)


def _details_html(details: dict[str, Any] | None, error: str) -> str:
    if details is None:
        return (
            "<h4 class='text-red-500'>Error fetching product details</h4>"
            f"<p>{html.escape(error)}</p>"
        )
    rows = "".join(
        f"<dt>{html.escape(label)}:</dt><dd>{html.escape(str(details.get(key, '')))}</dd>"
        for label, key in (
            ("Type", "type"), ("Pages", "pages"), ("Publisher", "publisher"),
            ("Language", "language"), ("ISBN-10", "ISBN-10"), ("ISBN-13", "ISBN-13"),
        )
    )  # fmt: skip
    return f"<h4>Book Details</h4><dl>{rows}</dl>"


def _rating_html(review: dict[str, Any]) -> str:
    rating = review.get("rating")
    if not isinstance(rating, dict):
        return ""  # reviews v1: no stars at all
    if "error" in rating:
        return f"<p class='text-red-500'>{html.escape(str(rating['error']))}</p>"
    stars = int(rating.get("stars", 0))
    color = html.escape(str(rating.get("color", "black")))
    glyphs = _STAR * stars + _EMPTY_STAR * max(0, 5 - stars)
    return f"<div class='text-{color}-500'>{glyphs}</div>"


def _reviews_html(reviews: dict[str, Any] | None, error: str) -> str:
    if reviews is None:
        return (
            "<h4 class='text-red-500'>Error fetching product reviews</h4>"
            f"<p>{html.escape(error)}</p>"
        )
    items = "".join(
        f"<blockquote><p>{html.escape(str(r.get('text', '')))}</p>"
        f"<small>{html.escape(str(r.get('reviewer', '')))}</small>{_rating_html(r)}</blockquote>"
        for r in reviews.get("reviews", [])
    )
    served = html.escape(str(reviews.get("podname", "")))
    cluster = reviews.get("clustername")
    if cluster not in (None, "null"):
        served += f" on cluster {html.escape(str(cluster))}"
    return (
        f"<h4>Book Reviews</h4>{items}<dl><dt>Reviews served by:</dt><dd><u>{served}</u></dd></dl>"
    )


def render_product_page(
    user: str | None,
    details: dict[str, Any] | None,
    details_error: str,
    reviews: dict[str, Any] | None,
    reviews_error: str,
) -> str:
    account = (
        f"<span class='user'>{html.escape(user)}</span> <a href='logout'>Sign out</a>"
        if user
        else (
            "<form method='post' action='login'><input name='username' placeholder='User Name'>"
            "<input name='passwd' type='password' placeholder='Password'>"
            "<button type='submit'>Sign in</button></form>"
        )
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Simple Bookstore App</title>"
        "<link rel='stylesheet' href='static/tailwind/tailwind.css'></head><body>"
        f"<nav><a href='#'>BookInfo Sample</a>{account}</nav>"
        f"<h3>{TITLE}</h3><p>{SUMMARY}</p>"
        f"<div class='details'>{_details_html(details, details_error)}</div>"
        f"<div class='reviews'>{_reviews_html(reviews, reviews_error)}</div>"
        "</body></html>"
    )


# The colour of star glyphs only: the ratings error text is red too, and has no stars.
_COLOUR = re.compile(
    r"""text-(black|red)-500["']?>\s*<svg"""
    r"""|<font color=["']?(black|red)["']?>\s*<span class=["']glyphicon"""
)


def reviews_version_from_page(page: str) -> str | None:
    """Which reviews version served a /productpage, from its content (real Bookinfo too).

    Red stars → v3, black stars → v2, reviews without stars → v1; None when the reviews
    were unavailable, or when ratings failed so no colour shows.
    """
    if "Error fetching product reviews" in page:
        return None
    colours = {a or b for a, b in _COLOUR.findall(page)}
    if "red" in colours:
        return "v3"
    if "black" in colours:
        return "v2"
    if "Ratings service is currently unavailable" in page:
        return None
    if "Reviewer1" in page:
        return "v1"
    return None
