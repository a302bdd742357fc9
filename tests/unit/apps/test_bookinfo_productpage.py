"""productpage's other routes: login/logout, timeouts and tries, the API, assets, metrics."""

from __future__ import annotations

import json

import pytest

from chaoskit.mesh.apps.bookinfo import backends
from chaoskit.mesh.apps.bookinfo.session import session_value
from chaoskit.mesh.http.message import Headers, Request
from tests.unit.apps.bookinfo_world import World, run

REVIEWS_ERROR = "Sorry, product reviews are currently unavailable for this book."


def test_login_redirects_and_the_session_sets_end_user() -> None:
    """productpage.py login/getForwardHeaders, istio-semantics §5.1/§8.3: the session user
    becomes end-user on the details and reviews calls; reviews passes it on to ratings."""
    world = World()
    cookie = world.login("jason")
    assert cookie.startswith("session=")
    page = world.page(cookie)
    assert "jason" in page
    assert "Sign out" in page
    for service in ("details", "reviews", "ratings"):
        assert [r.headers.get("end-user") for r in world.called(service)] == ["jason"], service


def test_logged_out_sends_no_end_user_even_if_the_request_carries_one() -> None:
    """istio-semantics §5.1: end-user is never copied from the incoming request."""
    world = World()
    page = world.page(headers={"end-user": "jason"})
    assert "Sign in" in page
    assert all(call.request.headers.get("end-user") is None for call in world.calls)


def test_a_forged_session_cookie_is_no_session() -> None:
    """Flask's session cookie is signed (productpage.py secret_key): edits are rejected."""
    world = World()
    genuine = world.login("alice").removeprefix("session=")
    forged_payload = session_value("jason").split(".")[0]
    forged = f"session={forged_payload}.{genuine.split('.')[1]}"
    world.page(forged)
    assert world.called("reviews")[0].headers.get("end-user") is None
    world.page("session=not-a-session")
    assert world.called("reviews")[1].headers.get("end-user") is None


def test_logout_clears_the_session_and_returns_to_the_referer() -> None:
    """productpage.py logout: session.pop('user'), redirect(request.referrer)."""
    world = World()
    response = world.get("/logout", {"referer": "http://bookinfo.example/productpage?u=test"})
    assert response.status == 302
    assert response.headers.get("location") == "http://bookinfo.example/productpage?u=test"
    cookie = response.headers.get("set-cookie") or ""
    assert cookie.startswith("session=;")
    assert "Max-Age=0" in cookie


def test_login_takes_the_username_field_and_ignores_the_password() -> None:
    """productpage.py login: request.values.get('username'); any password works; no Referer
    → /productpage (chaoskit's choice where Flask would fail on redirect(None))."""
    world = World()
    request = Request(
        "POST",
        "/login",
        Headers([("host", "x"), ("content-type", "application/x-www-form-urlencoded")]),
        b"username=kim&passwd=",
    )
    response = run(world.productpage.handle(request))
    assert response.status == 302
    assert response.headers.get("location") == "/productpage"
    world.page((response.headers.get("set-cookie") or "").split(";")[0])
    assert world.called("reviews")[0].headers.get("end-user") == "kim"


def test_login_only_by_post_and_logout_only_by_get() -> None:
    """productpage.py routes: /login methods=['POST'], /logout methods=['GET'] (else 405)."""
    world = World()
    assert world.get("/login").status == 405
    post = run(world.productpage.handle(Request("POST", "/logout", Headers([("host", "x")]))))
    assert post.status == 405


def test_a_hanging_reviews_gets_two_tries_of_the_call_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """productpage.py getProductReviews: timeout=3.0 per try, 2 tries (istio-semantics §5.1,
    §6 fault-injection delay: ~6 s page). Shortened timeout; attempts counted, not timed."""
    monkeypatch.setattr(backends, "CALL_TIMEOUT_S", 0.01)
    world = World()
    world.hang("reviews")
    page = world.page()
    assert REVIEWS_ERROR in page
    assert len(world.called("reviews")) == 2
    assert len(world.called("details")) == 1


def test_a_hanging_details_is_given_up_after_one_try(monkeypatch: pytest.MonkeyPatch) -> None:
    """productpage.py getProductDetails: timeout=3.0, no retry."""
    monkeypatch.setattr(backends, "CALL_TIMEOUT_S", 0.01)
    world = World()
    world.hang("details")
    page = world.page()
    assert "Sorry, product details are currently unavailable for this book." in page
    assert len(world.called("details")) == 1
    assert "Book Reviews" in page


def test_the_real_timeouts_and_tries() -> None:
    """productpage.py: timeout=3.0 on every requests.get, range(2) around reviews."""
    assert backends.CALL_TIMEOUT_S == 3.0
    assert backends.REVIEWS_TRIES == 2


def test_products_api() -> None:
    """productpage.py productsRoute/productRoute/reviewsRoute/ratingsRoute (§5.1)."""
    world = World()
    products = world.get("/api/v1/products")
    assert products.status == 200
    assert json.loads(products.body)[0]["title"] == "The Comedy of Errors"
    assert world.calls == []  # no upstream call for the list
    details = json.loads(world.get("/api/v1/products/0").body)
    assert details["author"] == "William Shakespeare"
    reviews = json.loads(world.get("/api/v1/products/0/reviews").body)
    assert [r["reviewer"] for r in reviews["reviews"]] == ["Reviewer1", "Reviewer2"]
    ratings = json.loads(world.get("/api/v1/products/0/ratings").body)
    assert ratings == {"id": 0, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}
    assert [call.caller for call in world.calls if call.service == "ratings"] == [
        "reviews",  # via the reviews route
        "productpage",  # the ratings route calls ratings directly
    ]


def test_api_failures_carry_the_upstream_status_and_the_error_text() -> None:
    """productpage.py: status = res.status_code, or 500 without a response; error bodies."""
    world = World()
    world.answer("reviews", 503)
    reviews = world.get("/api/v1/products/0/reviews")
    assert (reviews.status, json.loads(reviews.body)) == (503, {"error": REVIEWS_ERROR})
    assert len(world.called("reviews")) == 2
    world.down("ratings")
    ratings = world.get("/api/v1/products/0/ratings")
    assert ratings.status == 500
    assert json.loads(ratings.body) == {
        "error": "Sorry, product ratings are currently unavailable for this book."
    }


def test_api_ids_pass_through_to_the_backend() -> None:
    """productpage.py passes <product_id> as text; details.rb answers 400 for "abc"."""
    world = World()
    response = world.get("/api/v1/products/abc")
    assert response.status == 400
    assert world.called("details")[0].target == "/details/abc"
    assert world.get("/api/v1/products/0/").status == 404  # strict slashes
    assert world.get("/api/v1/products/0/authors").status == 404


def test_health_landing_static_and_unknown_paths() -> None:
    """productpage.py health/index routes; /static served (the gateway routes /static)."""
    world = World()
    health = world.get("/health")
    assert (health.status, health.body) == (200, b"Product page is healthy")
    landing = world.get("/").body.decode()
    assert "/productpage?u=normal" in landing
    assert "/productpage?u=test" in landing
    assert "http://reviews:9080" in landing
    css = world.get("/static/tailwind/tailwind.css")
    assert css.status == 200
    assert (css.headers.get("content-type") or "").startswith("text/css")
    png = world.get("/static/img/izzy.png")
    assert png.body.startswith(b"\x89PNG")
    assert world.get("/static/nope.js").status == 404
    assert world.get("/nowhere").status == 404


def test_metrics_count_results_per_destination() -> None:
    """productpage.py request_result_counter: one count per call result, reviews once."""
    world = World()
    world.page()
    world.answer("reviews", 503)
    world.page()
    text = world.get("/metrics").body.decode()
    assert 'request_result_total{destination_app="details",response_code="200"} 2.0' in text
    assert 'request_result_total{destination_app="reviews",response_code="200"} 1.0' in text
    assert 'request_result_total{destination_app="reviews",response_code="503"} 1.0' in text


def test_flood_factor_adds_reviews_calls() -> None:
    """productpage.py floodReviews: FLOOD_FACTOR extra reviews calls per page."""
    world = World(productpage_env={"FLOOD_FACTOR": "3"})
    world.page()
    assert len(world.called("reviews")) == 4


def test_host_names_and_ports_come_from_the_environment() -> None:
    """productpage.py: <SVC>_HOSTNAME, SERVICES_DOMAIN, <SVC>_SERVICE_PORT."""
    world = World(
        productpage_env={
            "SERVICES_DOMAIN": "bookinfo.svc.cluster.local",
            "REVIEWS_SERVICE_PORT": "9081",
            "DETAILS_HOSTNAME": "details",
        }
    )
    world.page()
    assert world.called("details")[0].authority == "details.bookinfo.svc.cluster.local:9080"
    assert world.called("reviews")[0].authority == "reviews.bookinfo.svc.cluster.local:9081"


def test_a_200_without_json_is_a_server_error() -> None:
    """productpage.py: res.json() on a 200 raises, and Flask answers 500."""
    world = World()
    world.answer("details", 200, body=b"not json")
    assert world.get("/productpage").status == 500


def test_a_page_from_the_render_cache_is_the_page_a_fresh_app_renders() -> None:
    """The page is rendered once per (user, details answer, reviews answer): switching
    reviews versions, users and failures back and forth must give what an app that never
    saw an earlier request renders."""
    from tests.unit.apps.bookinfo_world import V1, V2, V3

    cached = World()
    cookie = cached.login("jason")
    situations = [
        ("", V2, False), (cookie, V2, False), ("", V1, False), (cookie, V3, False),
        ("", V2, True), (cookie, V3, False), ("", V2, False), ("", V2, True), (cookie, V1, False),
    ]  # fmt: skip
    for session, env, reviews_down in situations:
        fresh = World(reviews_env=dict(env))
        cached.reviews = fresh.reviews
        cached.stand_ins.clear()
        if reviews_down:
            cached.down("reviews")
            fresh.down("reviews")
        assert cached.page(session) == fresh.page(session), (session, env, reviews_down)
    assert len(cached.productpage._pages) == 6  # nine pages, six distinct situations
