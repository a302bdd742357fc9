"""ratings: the v1 answers, POST, and the fault modes of its image variants."""

from __future__ import annotations

import json

import pytest

from chaoskit.mesh.apps.base import AppSettingsError
from chaoskit.mesh.apps.bookinfo import ratings as ratings_module, reviews as reviews_module
from chaoskit.mesh.apps.bookinfo.ratings import RatingsApp
from tests.unit.apps.bookinfo_world import V2, V3, World, get

UNAVAILABLE = {"error": "Service unavailable"}


def _ratings(settings: dict[str, object] | None = None, **env: str) -> RatingsApp:
    return World(ratings_settings=settings or {}, ratings_env=env).ratings


def _statuses(app: RatingsApp, n: int) -> list[int]:
    return [get(app, "/ratings/0").status for _ in range(n)]


def test_v1_answers_five_and_four() -> None:
    """ratings.js getLocalReviews; istio-semantics §5.4."""
    response = get(_ratings(), "/ratings/0")
    assert response.status == 200
    assert response.body == b'{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}'
    assert json.loads(get(_ratings(), "/health").body) == {"status": "Ratings is healthy"}


def test_ids_are_parsed_with_parse_int() -> None:
    """ratings.js: parseInt(req.url.split('/').pop()); NaN → 400."""
    app = _ratings()
    assert json.loads(get(app, "/ratings/5abc").body)["id"] == 5
    assert json.loads(get(app, "/ratings/1?x=y").body)["id"] == 1
    bad = get(app, "/ratings/abc")
    assert (bad.status, json.loads(bad.body)) == (
        400,
        {"error": "please provide numeric product ID"},
    )
    assert get(app, "/nothing").status == 404


def test_post_stores_ratings_for_that_id() -> None:
    """ratings.js onPost: JSON body kept in memory and echoed; bad JSON → 400."""
    app = _ratings()
    posted = get(app, "/ratings/3", "POST", b'{"Reviewer1": 1, "Reviewer2": 2}')
    assert json.loads(posted.body) == {"id": 3, "ratings": {"Reviewer1": 1, "Reviewer2": 2}}
    assert json.loads(get(app, "/ratings/3").body)["ratings"] == {"Reviewer1": 1, "Reviewer2": 2}
    assert json.loads(get(app, "/ratings/0").body)["ratings"] == {"Reviewer1": 5, "Reviewer2": 4}
    bad = get(app, "/ratings/3", "POST", b"{")
    assert json.loads(bad.body) == {"error": "please provide valid ratings JSON"}


def test_database_backed_version_refuses_post() -> None:
    """ratings.js: SERVICE_VERSION=v2 → 501 "Post not implemented for database backed ratings"."""
    response = get(_ratings(SERVICE_VERSION="v2"), "/ratings/0", "POST", b"{}")
    assert response.status == 501


def test_unavailable_always_answers_503() -> None:
    """ratings.js getLocalReviewsServiceUnavailable (v-unavailable while down)."""
    app = _ratings({"mode": "unavailable"})
    response = get(app, "/ratings/0")
    assert (response.status, json.loads(response.body)) == (503, UNAVAILABLE)
    assert set(_statuses(app, 20)) == {503}
    assert get(app, "/health").status == 200


def test_unhealthy_also_fails_health() -> None:
    """ratings.js v-unhealthy: 503 on ratings and 500 "Ratings is not healthy" on /health."""
    app = _ratings({"mode": "unhealthy"})
    assert get(app, "/ratings/0").status == 503
    health = get(app, "/health")
    assert (health.status, json.loads(health.body)) == (500, {"status": "Ratings is not healthy"})


def test_faulty_fails_about_half() -> None:
    """ratings.js v-faulty: random <= 0.5 → 503. n=400: 200 ± 6 sd (60); seeded anyway."""
    statuses = _statuses(_ratings({"mode": "faulty"}), 400)
    assert set(statuses) == {200, 503}
    assert 140 <= statuses.count(503) <= 260


def test_delayed_delays_about_half_by_seven_seconds() -> None:
    """ratings.js v-delayed: random <= 0.5 → answer after setTimeout(7000). The sleep is
    replaced by a recorder: delays are counted, not waited for."""
    app = _ratings({"mode": "delayed"})
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    app.sleep = record
    assert set(_statuses(app, 200)) == {200}
    assert set(delays) == {7.0}
    assert 70 <= len(delays) <= 130  # 100 ± 6 sd (42)


def test_image_variants_set_the_default_mode() -> None:
    """ratings.js SERVICE_VERSION: v-faulty, v-delayed, v-unavailable, v-unhealthy."""
    assert _ratings(SERVICE_VERSION="v-faulty").mode == "faulty"
    assert _ratings(SERVICE_VERSION="v-delayed").mode == "delayed"
    assert _ratings(SERVICE_VERSION="v1").mode == "normal"
    assert _ratings({"mode": "normal"}, SERVICE_VERSION="v-faulty").mode == "normal"


def test_v_unavailable_flips_every_minute_starting_up() -> None:
    """ratings.js: setInterval(() => unavailable = !unavailable, 60000), initially up."""
    app = _ratings(SERVICE_VERSION="v-unavailable")
    now = [app.started]
    app.clock = lambda: now[0]
    assert get(app, "/ratings/0").status == 200
    now[0] += 61
    assert get(app, "/ratings/0").status == 503
    now[0] += 60
    assert get(app, "/ratings/0").status == 200
    app.configure({"mode": "unhealthy", "flipEvery": "15m"})
    now[0] = app.started + 901
    assert get(app, "/health").status == 500


def test_bad_mode_is_refused_with_the_choices() -> None:
    """Settings errors name the field and the accepted values (base.py AppSettingsError)."""
    with pytest.raises(AppSettingsError, match=r"mode: unknown 'sometimes'; use one of normal"):
        _ratings({"mode": "sometimes"})
    with pytest.raises(AppSettingsError, match="flipEvery"):
        _ratings({"mode": "unavailable", "flipEvery": "soon"})


def test_reviews_shows_the_ratings_text_when_ratings_is_unavailable() -> None:
    """§6 fault-injection: ratings 503 → reviews 200 with the ratings-unavailable text."""
    world = World(reviews_env=V2, ratings_settings={"mode": "unavailable"})
    assert world.page().count("Ratings service is currently unavailable") == 2


def test_a_delay_longer_than_v3s_timeout_shows_the_ratings_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """§6 (derived): reviews v3 gives ratings 2.5 s, so a 7 s ratings delay shows
    "Ratings service is currently unavailable"; the timeout is shortened, the delay drawn
    for every request, and the page is still served (no wall-clock assertion)."""
    monkeypatch.setattr(reviews_module, "OTHER_STARS_TIMEOUT_S", 0.01)
    monkeypatch.setattr(ratings_module, "FAULT_SHARE", 1.0)
    world = World(reviews_env=V3, ratings_settings={"mode": "delayed"})
    assert world.page().count("Ratings service is currently unavailable") == 2
