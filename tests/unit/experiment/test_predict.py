"""Predictions from the config in force reproduce the outcomes Istio's tasks document.

Sources: https://istio.io/latest/docs/tasks/traffic-management/fault-injection/ (jason's
page after about 6 s with "reviews unavailable") and
https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/ (about 1 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaoskit.errors import ConfigError
from chaoskit.experiment.predict import Predictor

RESOURCES = Path(__file__).resolve().parents[3] / "chaoskit" / "samples"


def objects(*names: str) -> list[dict]:  # type: ignore[type-arg]
    found = [
        o for o in yaml.safe_load_all((RESOURCES / "destination-rule-all.yaml").read_text()) if o
    ]
    for name in names:
        for obj in yaml.safe_load_all((RESOURCES / "bookinfo" / name).read_text()):
            if obj:
                obj["metadata"].setdefault("namespace", "bookinfo")
                found = [
                    o
                    for o in found
                    if not (
                        o["kind"] == obj["kind"]
                        and o["metadata"]["name"] == obj["metadata"]["name"]
                    )
                ]
                found.append(obj)
    return found


def test_the_fault_injection_task_jason_waits_six_seconds_for_reviews_unavailable() -> None:
    predictor = Predictor(
        objects(
            "virtual-service-all-v1.yaml",
            "virtual-service-reviews-test-v2.yaml",
            "virtual-service-ratings-test-delay.yaml",
        )
    )
    jason = predictor.bookinfo_page(user="jason")
    assert (jason.value, jason.version) == (6.0, "v2")
    assert jason.text.startswith("Sorry, product reviews are currently unavailable")
    assert "productpage gives up on reviews after 3s" in jason.why
    anonymous = predictor.bookinfo_page()
    assert (anonymous.value, anonymous.text, anonymous.version) == (0.0, "", "v1")


def test_the_request_timeouts_task_page_returns_in_about_one_second() -> None:
    predictor = Predictor(
        objects("virtual-service-ratings-delay-2s.yaml", "virtual-service-reviews-timeout.yaml")
    )
    page = predictor.bookinfo_page()
    assert page.value == 1.0
    assert page.version == "v2"
    assert page.text.startswith("Sorry, product reviews are currently unavailable")


def test_without_the_reviews_timeout_the_page_waits_for_the_delay() -> None:
    predictor = Predictor(
        objects("virtual-service-ratings-delay-2s.yaml", "virtual-service-reviews-test-v2.yaml")
    )
    page = predictor.bookinfo_page(user="jason")
    assert (page.value, page.text) == (2.0, "")


def test_an_abort_is_not_retried() -> None:
    predictor = Predictor(
        objects("virtual-service-all-v1.yaml", "virtual-service-ratings-test-abort.yaml")
    )
    assert predictor.success_rate("ratings", "bookinfo", {"end-user": "jason"}).value == 0.0
    assert predictor.success_rate("ratings", "bookinfo").value == 1.0


def test_a_weighted_split_is_not_guessed() -> None:
    predictor = Predictor(objects("virtual-service-reviews-80-20.yaml"))
    with pytest.raises(ConfigError, match="one destination per route"):
        predictor.bookinfo_page()


SEED = RESOURCES / "seed"


def seed(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [o for o in yaml.safe_load_all((SEED / name).read_text()) if o]


def test_a_per_try_timeout_that_retryon_does_not_cover_bounds_one_try() -> None:
    """Seed template 4: perTryTimeout 3s, attempts 3, retryOn 503 (a per-try timeout is a
    504 Envoy only retries for 5xx or gateway-error): a call ends within 3 s, not 12 s.
    Source: https://istio.io/latest/docs/concepts/traffic-management/#retries and Envoy's
    x-envoy-retry-on (5xx covers per-try timeouts)."""
    bound = Predictor(seed("04-retries-timeouts.yaml")).call_bound("ratings", "bookinfo")
    assert bound.value == 3.0
    assert "1 try × perTryTimeout 3s" in bound.why


def test_retried_per_try_timeouts_add_up_to_the_route_timeout() -> None:
    vs = seed("04-retries-timeouts.yaml")[0]
    vs["spec"]["http"][0]["retries"]["retryOn"] = "5xx"
    bound = Predictor([vs]).call_bound("ratings", "bookinfo")
    # 4 tries × 3 s + backoffs (≤ 25, 50, 100 ms) = 12.175 s, cut by the 10 s route timeout
    assert bound.value == 10.0
    vs["spec"]["http"][0]["timeout"] = "20s"
    assert Predictor([vs]).call_bound("ratings", "bookinfo").value == pytest.approx(12.175)


def test_no_timeout_means_no_bound() -> None:
    with pytest.raises(ConfigError, match="nothing bounds their latency"):
        Predictor([]).call_bound("ratings", "bookinfo")
