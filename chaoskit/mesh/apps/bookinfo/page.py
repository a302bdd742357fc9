"""The /productpage HTML, following the logic of Bookinfo's templates/productpage.html.

Our own markup, but what a user or a test looks for is where the real page has it: the
``Simple Bookstore App`` title, the book title, ``Book Details`` (a table of ISBN-10,
publisher, pages, type, language), ``Book Reviews`` with each review's quoted text, its
reviewer and ``Reviews served by: <pod>``, and the error texts. Stars are drawn as in the
current template: a ``text-<colour>-500`` block of ``stars`` filled glyphs (svg with id
``glyphicon glyphicon-star``) followed by ``5 - stars`` outline glyphs; a rating of 0 shows
nothing, a rating error shows its text in red, a review without rating (v1) shows no stars.
"""

from __future__ import annotations

from html import escape
from typing import Any

from chaoskit.mesh.apps.bookinfo import catalog

# A five-pointed star in a 24x24 box (our own path).
_STAR_PATH = "M12 2l3 7h7l-5.5 4.5 2 7.5-6.5-4.5-6.5 4.5 2-7.5L2 9h7z"
_FILLED = (
    '<svg id="glyphicon glyphicon-star" class="star" width="20" height="20" '
    f'viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="{_STAR_PATH}"/></svg>'
)
_OUTLINE = (
    '<svg class="star star-outline" width="20" height="20" viewBox="0 0 24 24" fill="none" '
    f'stroke="currentColor" aria-hidden="true"><path d="{_STAR_PATH}"/></svg>'
)
_DETAIL_COLUMNS = (
    ("ISBN-10", "ISBN-10"),
    ("Publisher", "publisher"),
    ("Pages", "pages"),
    ("Type", "type"),
    ("Language", "language"),
)


def _text(value: Any) -> str:
    """A value as Jinja prints it, escaped; a missing field is empty."""
    return "" if value is None else escape(str(value))


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _account(user: str | None) -> str:
    if user:
        return (
            f'<div class="account"><span class="user">{escape(user)}</span> '
            '<a href="logout" class="sign-out">Sign out</a></div>'
        )
    return (
        '<details class="account"><summary class="button" id="sign-in-button">Sign in</summary>'
        '<form method="post" action="login" name="login_form">'
        '<label>Username <input id="username" name="username" required></label>'
        '<label>Password <input id="password" name="passwd" type="password" required></label>'
        '<button type="submit" class="button">Sign in</button></form></details>'
    )


def _details(status: int, details: Any) -> str:
    if status != 200:
        error = _get(details, "error")
        detail = f'<p class="text-lg text-gray-600">{_text(error)}</p>' if details else ""
        return f'<p class="text-2xl text-red-500">{catalog.DETAILS_ERROR_HEADING}</p>{detail}'
    head = "".join(f"<th>{label}</th>" for label, _ in _DETAIL_COLUMNS)
    row = "".join(f"<td>{_text(_get(details, key))}</td>" for _, key in _DETAIL_COLUMNS)
    return (
        '<h4 class="text-3xl">Book Details</h4>'
        f'<table class="details-table"><thead><tr>{head}</tr></thead>'
        f"<tbody><tr>{row}</tr></tbody></table>"
    )


def _rating(rating: Any) -> str:
    if not isinstance(rating, dict) or not rating:
        return ""  # reviews v1: no rating, no stars
    stars = rating.get("stars")
    if isinstance(stars, int) and not isinstance(stars, bool) and stars:
        colour = _text(rating.get("color"))
        glyphs = _FILLED * max(0, stars) + _OUTLINE * max(0, 5 - stars)
        return f'<div class="stars flex gap-x-1 text-{colour}-500">{glyphs}</div>'
    if rating.get("error"):
        return f'<p class="text-red-500">{_text(rating["error"])}</p>'
    return ""


def _served_by(reviews: Any) -> str:
    served = f"Reviews served by: {_text(_get(reviews, 'podname'))}"
    cluster = _get(reviews, "clustername")
    if cluster != "null":  # reviews writes the string "null" when CLUSTER_NAME is unset
        served += f" on cluster <div>{_text(cluster)}</div>"
    return f'<div class="served-by">{served}</div>'


def _reviews(status: int, reviews: Any) -> str:
    if status != 200:
        error = _get(reviews, "error")
        detail = f'<p class="text-lg text-gray-600">{_text(error)}</p>' if reviews else ""
        return f'<p class="text-2xl text-red-500">{catalog.REVIEWS_ERROR_HEADING}</p>{detail}'
    items = _get(reviews, "reviews")
    sections = "".join(
        '<section class="review">'
        f"{_rating(_get(review, 'rating'))}"
        f'<blockquote><p>"{_text(_get(review, "text"))}"</p></blockquote>'
        f'<div class="reviewer">{_text(_get(review, "reviewer"))}</div>'
        f"{_served_by(reviews)}</section>"
        for review in (items if isinstance(items, list) else [])
    )
    return f'<h4 class="text-3xl">Book Reviews</h4><div class="flex">{sections}</div>'


def render_product_page(
    user: str | None,
    product: dict[str, Any],
    details_status: int,
    details: Any,
    reviews_status: int,
    reviews: Any,
) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
        "<title>Simple Bookstore App</title>"
        '<link rel="stylesheet" href="static/tailwind/tailwind.css"></head><body>'
        f'<nav><a href="#" class="brand">BookInfo Sample</a>{_account(user)}</nav>'
        f'<main><div class="container"><h1 class="text-5xl">{escape(product["title"])}</h1>'
        f'<p class="description">{product["descriptionHtml"]}</p></div>'
        f'<div class="container details">{_details(details_status, details)}</div>'
        f'<div class="container reviews">{_reviews(reviews_status, reviews)}</div>'
        "</main></body></html>"
    )
