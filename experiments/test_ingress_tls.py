"""Seed template 7: an HTTPS ingress gateway for *.example.com (SIMPLE TLS with the
``my-tls-secret`` credential) routing /api/v1 of api.example.com to api-service:8080.

Source: https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/
"""

from __future__ import annotations

import pytest

# The seed topology's api-service: the embedded mesh and `chaoskit cluster up` run it (and
# the my-tls-secret Secret the template's gateway reads).
pytestmark = pytest.mark.chaos(needs=["default/api-service"])


def test_https_clients_reach_api_service_through_the_gateway(chaos, load, resources):
    """HTTPS requests for api.example.com/api/v1 are answered by api-service through the
    gateway's TLS listener."""
    chaos.apply(resources / "seed" / "07-ingress-gateway.yaml", namespace="default")

    window = load.run(
        "/api/v1/items", https=True, host="api.example.com", rate=200.0, duration="3s"
    )
    window.success_rate().at_least(0.99)
    window.share(
        where=lambda r: (r.pod or "").startswith("api-service"), subject="answered by api-service"
    ).at_least(0.99)
