"""Server-side printing: kubectl's Accept header, and ages as kube-apiserver prints them."""

from __future__ import annotations

import pytest

from chaoskit.controlplane.tables import human_duration, table, wants_table

KUBECTL_GET_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
MINUTE, HOUR, DAY = 60, 3600, 86400


def test_only_a_table_request_gets_a_table() -> None:
    assert wants_table(KUBECTL_GET_ACCEPT)
    assert not wants_table("application/json")
    assert not wants_table("application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io")


# Boundaries of each branch of k8s.io/apimachinery/pkg/util/duration.HumanDuration.
@pytest.mark.parametrize(
    ("seconds", "printed"),
    [
        (-2, "<invalid>"),
        (-1.5, "0s"),
        (0, "0s"),
        (119, "119s"),
        (2 * MINUTE, "2m"),
        (2 * MINUTE + 5, "2m5s"),
        (10 * MINUTE + 5, "10m"),
        (179 * MINUTE, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + 30 * MINUTE, "3h30m"),
        (8 * HOUR + 30 * MINUTE, "8h"),
        (47 * HOUR, "47h"),
        (2 * DAY, "2d"),
        (2 * DAY + HOUR, "2d1h"),
        (8 * DAY + HOUR, "8d"),
        (729 * DAY, "729d"),
        (730 * DAY, "2y"),
        (731 * DAY, "2y1d"),
        (8 * 365 * DAY, "8y"),
    ],
)
def test_ages_print_as_kube_apiserver_prints_them(seconds: float, printed: str) -> None:
    assert human_duration(seconds) == printed


def test_rows_carry_object_metadata_unless_asked_otherwise() -> None:
    vs = {
        "metadata": {"name": "r", "namespace": "bookinfo", "creationTimestamp": None},
        "spec": {"hosts": ["ratings"], "gateways": ["mesh", "gw"]},
    }
    default = table("virtualservices", [vs], "7", now=0.0)
    assert [c["name"] for c in default["columnDefinitions"]] == ["Name", "Gateways", "Hosts", "Age"]
    assert default["rows"][0]["cells"][:3] == ["r", '["mesh","gw"]', '["ratings"]']
    assert default["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert default["rows"][0]["object"]["metadata"]["namespace"] == "bookinfo"
    assert table("virtualservices", [vs], "7", 0.0, "Object")["rows"][0]["object"] is vs
    assert "object" not in table("virtualservices", [vs], "7", 0.0, "None")["rows"][0]
