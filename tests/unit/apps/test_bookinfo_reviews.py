"""reviews v1/v2/v3 on their own (ratings in-process or stood in for)."""

from __future__ import annotations

import json

import pytest

from chaoskit.mesh.apps.bookinfo import reviews as reviews_module
from tests.unit.apps.bookinfo_world import V1, V2, V3, World, get

RATINGS_ERROR = {"error": "Ratings service is currently unavailable"}
TEXT1 = "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"
TEXT2 = (
    "Absolutely fun and entertaining. The play lacks thematic depth when compared to other "
    "plays by Shakespeare."
)


def _reviews(world: World, target: str = "/reviews/0") -> dict[str, object]:
    response = get(world.reviews, target)
    assert response.status == 200
    document: dict[str, object] = json.loads(response.body)
    return document


def test_v1_json_has_no_ratings_and_never_calls_ratings() -> None:
    """istio-semantics §5.3, LibertyRestEndpoint.java getJsonResponse: id as a string,
    podname, clustername "null", two reviews without "rating"; ratings not called."""
    world = World(reviews_env=V1)
    assert _reviews(world) == {
        "id": "0",
        "podname": "reviews-v1-0",
        "clustername": "null",
        "reviews": [
            {"reviewer": "Reviewer1", "text": TEXT1},
            {"reviewer": "Reviewer2", "text": TEXT2},
        ],
    }
    assert world.called("ratings") == []


@pytest.mark.parametrize(("env", "colour"), [(V2, "black"), (V3, "red")])
def test_v2_and_v3_add_stars_in_their_colour(env: dict[str, str], colour: str) -> None:
    """§5.3: rating {stars, color} from ratings' 5 and 4."""
    document = _reviews(World(reviews_env=env))
    assert [r["rating"] for r in document["reviews"]] == [  # type: ignore[attr-defined]
        {"stars": 5, "color": colour},
        {"stars": 4, "color": colour},
    ]


def test_ratings_failure_gives_each_reviewer_the_error_and_still_200() -> None:
    """§5.3/§8.9: non-200 or no connection → {"error": "Ratings service is currently
    unavailable"}, and reviews still answers 200; no retry of its own."""
    world = World()
    world.answer("ratings", 500)
    ratings = [r["rating"] for r in _reviews(world)["reviews"]]  # type: ignore[attr-defined]
    assert ratings == [RATINGS_ERROR, RATINGS_ERROR]
    assert len(world.called("ratings")) == 1
    world.down("ratings")
    ratings = [r["rating"] for r in _reviews(world)["reviews"]]  # type: ignore[attr-defined]
    assert ratings == [RATINGS_ERROR, RATINGS_ERROR]


def test_a_reviewer_missing_from_ratings_gets_the_error() -> None:
    """LibertyRestEndpoint.java: a reviewer key absent → starsReviewerN stays -1 → error."""
    world = World()
    world.answer("ratings", 200, body=b'{"id": 0, "ratings": {"Reviewer1": 3}}')
    ratings = [r["rating"] for r in _reviews(world)["reviews"]]  # type: ignore[attr-defined]
    assert ratings == [{"stars": 3, "color": "black"}, RATINGS_ERROR]


def test_an_unreadable_ratings_body_is_a_500() -> None:
    """LibertyRestEndpoint.java: readObject/getInt throw outside the ProcessingException
    catch, so the request fails (500)."""
    world = World()
    world.answer("ratings", 200, body=b'{"ratings": {"Reviewer1": "five"}}')
    assert get(world.reviews, "/reviews/0").status == 500


@pytest.mark.parametrize(
    ("env", "constant"), [(V2, "BLACK_STARS_TIMEOUT_S"), (V3, "OTHER_STARS_TIMEOUT_S")]
)
def test_each_colour_waits_for_its_own_timeout(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], constant: str
) -> None:
    """LibertyRestEndpoint.java getRatings: black → 10 s, otherwise 2.5 s (§5.3, §8.9).
    The other colour's timeout is made huge: only the right one can end the hang."""
    monkeypatch.setattr(reviews_module, "BLACK_STARS_TIMEOUT_S", 1e6)
    monkeypatch.setattr(reviews_module, "OTHER_STARS_TIMEOUT_S", 1e6)
    monkeypatch.setattr(reviews_module, constant, 0.01)
    world = World(reviews_env=env)
    world.hang("ratings")
    ratings = [r["rating"] for r in _reviews(world)["reviews"]]  # type: ignore[attr-defined]
    assert ratings == [RATINGS_ERROR, RATINGS_ERROR]
    assert len(world.called("ratings")) == 1


def test_the_real_ratings_timeouts() -> None:
    """LibertyRestEndpoint.java: star_color.equals("black") ? 10000 : 2500 (ms)."""
    assert World(reviews_env=V2).reviews.ratings_timeout_s == 10.0
    assert World(reviews_env=V3).reviews.ratings_timeout_s == 2.5
    no_colour = World(reviews_env={"ENABLE_RATINGS": "true"}).reviews
    assert (no_colour.star_color, no_colour.ratings_timeout_s) == ("black", 10.0)


def test_ids_as_a_jax_rs_int_parameter() -> None:
    """@GET @PathParam int productId: "007" → "7"; not an int → 404; POST → 405; /health."""
    world = World()
    assert _reviews(world, "/reviews/007")["id"] == "7"
    assert world.called("ratings")[0].target == "/ratings/7"
    assert get(world.reviews, "/reviews/abc").status == 404
    assert get(world.reviews, "/reviews/99999999999").status == 404
    assert get(world.reviews, "/reviews/0", "POST").status == 405
    health = get(world.reviews, "/health")
    assert json.loads(health.body) == {"status": "Reviews is healthy"}


def test_enable_ratings_is_java_boolean_value_of() -> None:
    """Boolean.valueOf(System.getenv("ENABLE_RATINGS")): only "true", any case."""
    assert World(reviews_env={"ENABLE_RATINGS": "TRUE"}).reviews.ratings_enabled
    assert not World(reviews_env={"ENABLE_RATINGS": "yes"}).reviews.ratings_enabled
    assert not World(reviews_env={}).reviews.ratings_enabled
