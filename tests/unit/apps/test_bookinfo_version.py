"""reviews_version_from_page on our pages and on real Bookinfo markup of both templates."""

from __future__ import annotations

import pytest

from chaoskit.mesh.apps.bookinfo import reviews_version_from_page
from tests.unit.apps.bookinfo_world import V1, V2, V3, World

# Shaped like templates/productpage.html since Istio 1.23 (Tailwind, svg glyphs).
REAL_TAILWIND = """
<h4 class="text-3xl font-semibold">Book Reviews</h4>
<section class="px-6 py-12 sm:py-8 lg:px-8">
  <div class="mx-auto max-w-2xl">
    <div class="flex gap-x-1 text-{colour}-500">

      <svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20"
           fill="currentColor" aria-hidden="true"><path d="M0 0"/></svg>

    </div>
    <blockquote><p>"An extremely entertaining play by Shakespeare."</p></blockquote>
    <div class="font-semibold text-gray-900">Reviewer1</div>
"""
# Shaped like the Bootstrap template before 1.23 (font colour, glyphicon spans, comments).
REAL_BOOTSTRAP = """
<h4 class="text-center text-primary">Book Reviews</h4>
<blockquote>
  <p>An extremely entertaining play by Shakespeare.</p>
  <small>Reviewer1</small>
  <font color="{colour}">
    <!-- full stars: -->
    <span class="glyphicon glyphicon-star"></span>
    <!-- empty stars: -->
  </font>
</blockquote>
"""


@pytest.mark.parametrize(("env", "version"), [(V1, "v1"), (V2, "v2"), (V3, "v3")])
def test_our_pages(env: dict[str, str], version: str) -> None:
    """§6 traffic shifting counts versions from pages: no stars v1, black v2, red v3."""
    assert reviews_version_from_page(World(reviews_env=env).page()) == version


def test_unavailable_pages_have_no_version() -> None:
    """Reviews unavailable ("Error fetching product reviews"): None, never a guess."""
    world = World()
    world.down("reviews")
    assert reviews_version_from_page(world.page()) is None


def test_a_page_whose_ratings_failed_keeps_the_version_that_served_it() -> None:
    """Without stars v2 and v3 look alike; "Reviews served by: reviews-v3-..." tells."""
    for env, version in ((V2, "v2"), (V3, "v3")):
        world = World(reviews_env=env)
        world.down("ratings")
        page = world.page()
        assert "Ratings service is currently unavailable" in page
        assert reviews_version_from_page(page) == version


@pytest.mark.parametrize("template", [REAL_TAILWIND, REAL_BOOTSTRAP])
@pytest.mark.parametrize(("colour", "version"), [("black", "v2"), ("red", "v3"), ("blue", None)])
def test_real_bookinfo_markup(template: str, colour: str, version: str | None) -> None:
    """templates/productpage.html, current (be755b2) and Bootstrap (2f6cb4f) generations."""
    assert reviews_version_from_page(template.replace("{colour}", colour)) == version


def test_real_bookinfo_v1_and_error_pages() -> None:
    """Real pages: reviews without stars → v1; the old "...reviews!" heading → None;
    red error text without glyphs is not a red star."""
    no_stars = '<h4 class="text-3xl font-semibold">Book Reviews</h4><p>"Fun"</p>Reviewer1'
    assert reviews_version_from_page(no_stars) == "v1"
    old_error = '<h4 class="text-center text-primary">Error fetching product reviews!</h4>'
    assert reviews_version_from_page(old_error) is None
    ratings_down = (
        '<h4>Book Reviews</h4><p class="text-red-500">Ratings service is currently '
        "unavailable</p>Reviewer1"
    )
    assert reviews_version_from_page(ratings_down) is None  # and no pod named: no guess
    served = ratings_down + "<dt>Reviews served by:</dt>\n<u>reviews-v3-7dbcdcbc56-x2k8d</u>"
    assert reviews_version_from_page(served) == "v3"
    assert reviews_version_from_page("<html>not a product page</html>") is None
