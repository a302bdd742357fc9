"""The share of pages a fault reaches under the routing in force (a ratings fault never
reaches the pages of reviews v1, which does not call ratings)."""

from __future__ import annotations

from typing import Any

import pytest

from chaoskit.errors import ConfigError
from chaoskit.experiment.predict import Predictor
from chaoskit.mesh.apps.bookinfo.catalog import RATINGS_UNAVAILABLE, REVIEWS_UNAVAILABLE
from tests.unit.experiment.test_predict import objects

RATINGS_ABORT: dict[str, Any] = {
    "kind": "VirtualService",
    "metadata": {"name": "ratings", "namespace": "bookinfo"},
    "spec": {
        "hosts": ["ratings"],
        "http": [
            {
                "fault": {"abort": {"percentage": {"value": 100}, "httpStatus": 503}},
                "route": [{"destination": {"host": "ratings", "subset": "v1"}}],
            }
        ],
    },
}
PODS = [{"app": "reviews", "version": v} for v in ("v1", "v2", "v3")]


def test_unrouted_reviews_spread_a_ratings_abort_over_two_thirds_of_the_pages() -> None:
    predictor = Predictor([*objects(), RATINGS_ABORT], PODS)
    expected = predictor.text_share(RATINGS_UNAVAILABLE)
    assert expected.value == pytest.approx(2 / 3)
    assert "reviews v1 (33% of pages): 0%" in expected.why
    assert "reviews v3 (33% of pages): 100%" in expected.why
    assert predictor.text_share(REVIEWS_UNAVAILABLE).value == 0.0


def test_more_pods_of_a_version_weigh_more() -> None:
    pods = [*PODS, {"app": "reviews", "version": "v1"}]  # v1 has two of four pods
    assert Predictor([*objects(), RATINGS_ABORT], pods).text_share(
        RATINGS_UNAVAILABLE
    ).value == pytest.approx(0.5)


def test_routed_to_v1_the_ratings_abort_reaches_no_page() -> None:
    predictor = Predictor([*objects("virtual-service-all-v1.yaml"), RATINGS_ABORT], PODS)
    assert predictor.text_share(RATINGS_UNAVAILABLE).value == 0.0


def test_without_pods_or_a_subset_there_is_no_prediction() -> None:
    with pytest.raises(ConfigError, match="version mix cannot be predicted"):
        Predictor([*objects(), RATINGS_ABORT]).text_share(RATINGS_UNAVAILABLE)
