"""Run-time settings every Bookinfo app takes (behaviour.py), and the app registry."""

from __future__ import annotations

import pytest

from chaoskit.mesh.apps.base import AppSettingsError, available_apps
from tests.unit.apps.bookinfo_world import World, get

SERVICES = ("productpage", "details", "reviews", "ratings")
PATHS = {
    "productpage": "/productpage",
    "details": "/details/0",
    "reviews": "/reviews/0",
    "ratings": "/ratings/0",
}


def test_the_four_apps_are_registered_under_the_mesh_spec_names() -> None:
    """chaoskit/topology/default-mesh.yaml names them bookinfo-<service>."""
    assert {f"bookinfo-{s}" for s in SERVICES} <= set(available_apps())


@pytest.mark.parametrize("service", SERVICES)
def test_every_app_takes_an_error_rate(service: str) -> None:
    """ARCHITECTURE §2 / behaviour.py: per-replica 5xx through errorRate and errorStatus."""
    world = World()
    app = getattr(world, service)
    app.configure({"errorRate": 1.0, "errorStatus": 500})
    response = get(app, PATHS[service])
    assert response.status == 500
    assert response.headers.get("x-chaoskit-pod") == app.context.pod
    app.configure({})
    assert get(app, PATHS[service]).status == 200


@pytest.mark.parametrize("service", SERVICES)
def test_unknown_and_bad_settings_are_refused_and_change_nothing(service: str) -> None:
    """base.py: AppSettingsError names the field and the accepted form; the running
    settings stay as they were."""
    app = getattr(World(), service)
    app.configure({"errorRate": 0.5})
    with pytest.raises(AppSettingsError, match="unknown setting"):
        app.configure({"errorRat": 0.5})
    with pytest.raises(AppSettingsError, match="errorRate: expected a number from 0 to 1"):
        app.configure({"errorRate": 2})
    assert app.settings() == {"errorRate": 0.5}


def test_ratings_lists_its_own_settings_among_the_known_ones() -> None:
    """ratings adds mode and flipEvery to behaviour.py's keys."""
    with pytest.raises(
        AppSettingsError, match=r"known: errorCodes, errorRate, errorStatus, flipEvery"
    ):
        World().ratings.configure({"nonsense": 1})
    with pytest.raises(AppSettingsError, match="unknown setting"):
        World().reviews.configure({"mode": "faulty"})  # only ratings has modes


def test_latency_setting_delays_the_answer() -> None:
    """behaviour.py latency on a Bookinfo app; the sleep is recorded, not waited for."""
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    app = World().details
    app.sleep = record
    app.configure({"latency": "250ms"})
    assert get(app, "/details/0").status == 200
    assert slept == [0.25]
