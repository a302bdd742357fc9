"""Which reviews version served a /productpage, read from the HTML alone.

Works on our page and on real Bookinfo pages of both template generations: the current one
(Istio ≥ 1.23: ``<div class="... text-red-500">`` around ``<svg id="glyphicon
glyphicon-star">``) and the older Bootstrap one (``<font color="red">`` around ``<span
class="glyphicon glyphicon-star">``). Only the colour of filled star glyphs counts: the
error texts are red as well, but come without stars.
"""

from __future__ import annotations

import re

from chaoskit.mesh.apps.bookinfo.catalog import REVIEWS_ERROR_HEADING

_FILLED_STARS = re.compile(
    r"""text-(?P<tailwind>[a-z]+)-500["']\s*>\s*<svg[^>]*glyphicon glyphicon-star["']"""
    r"""|<font\s+color=["']?(?P<font>[a-z]+)["']?\s*>(?:\s|<!--.*?-->)*"""
    r"""<span\s+class=["']glyphicon glyphicon-star["']""",
    re.DOTALL | re.IGNORECASE,
)
_BY_COLOUR = {"black": "v2", "red": "v3"}  # STAR_COLOR of reviews v2 and v3 (bookinfo.yaml)
# "Reviews served by: <pod>" (productpage.html, both generations), the pod of a Deployment
# of bookinfo.yaml: reviews-v1, reviews-v2, reviews-v3.
_SERVED_BY = re.compile(
    r"Reviews served by:\s*(?:<[^>]*>\s*)*reviews-(?P<version>v\d+)-", re.IGNORECASE
)


def reviews_version_from_page(page: str) -> str | None:
    """``v1`` (reviews without stars), ``v2`` (black stars), ``v3`` (red stars), else None.

    When ratings failed, no star shows ("Ratings service is currently unavailable": v2 or
    v3 alike); the version is then the one of the pod the page says served the reviews,
    and the failure stays visible as the page's ratings text. None when the reviews were
    unavailable ("Error fetching product reviews"), when nothing on the page tells, or
    when it is not a product page.
    """
    if REVIEWS_ERROR_HEADING in page:
        return None
    colours = {
        (match.group("tailwind") or match.group("font")).lower()
        for match in _FILLED_STARS.finditer(page)
    }
    if colours:
        return _BY_COLOUR.get(colours.pop()) if len(colours) == 1 else None
    if "Book Reviews" in page and "Ratings service is currently unavailable" not in page:
        return "v1"
    served = _SERVED_BY.search(page)
    return served.group("version").lower() if served else None
