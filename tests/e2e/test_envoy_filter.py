"""EnvoyFilter on the embedded API server: served as Istio's CRD serves it (v1alpha3 only,
no short name, no printer columns) and checked by Istio's EnvoyFilter validation."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from chaoskit.experiment.cluster_mesh import replica_fault_filter
from tests.e2e.conftest import MeshHandle

GROUP = "networking.istio.io"


def _fault_filter(name: str, labels: dict[str, str], rate: float = 1.0) -> dict[str, Any]:
    """The cluster backend's own replica-fault EnvoyFilter, re-targeted at ``labels``."""
    body = replica_fault_filter(name, "default", "x", {"errorRate": rate, "errorStatus": 503})
    body["spec"]["workloadSelector"] = {"labels": labels}
    return body


def test_envoy_filters_are_served_at_v1alpha3_with_crud_and_list(mesh: MeshHandle) -> None:
    api = mesh.client.custom
    body = _fault_filter("ef-a", {"app": "httpbin", "version": "v2"})
    created = api.create_namespaced_custom_object(
        GROUP, "v1alpha3", "default", "envoyfilters", body
    )
    assert created["kind"] == "EnvoyFilter"
    assert created["spec"] == body["spec"]  # the patch value is kept as given
    listed = api.list_cluster_custom_object(GROUP, "v1alpha3", "envoyfilters")["items"]
    assert [i["metadata"]["name"] for i in listed] == ["ef-a"]
    changed = copy.deepcopy(created)
    changed["spec"]["workloadSelector"]["labels"]["version"] = "v1"
    replaced = api.replace_namespaced_custom_object(
        GROUP, "v1alpha3", "default", "envoyfilters", "ef-a", changed
    )
    assert replaced["metadata"]["generation"] == 2
    api.delete_namespaced_custom_object(GROUP, "v1alpha3", "default", "envoyfilters", "ef-a")
    assert (
        api.list_namespaced_custom_object(GROUP, "v1alpha3", "default", "envoyfilters")["items"]
        == []
    )


def test_envoy_filters_are_not_served_at_v1_and_discovery_says_so(mesh: MeshHandle) -> None:
    api = mesh.client.custom
    with pytest.raises(ApiException) as missing:
        api.list_cluster_custom_object(GROUP, "v1", "envoyfilters")
    assert missing.value.status == 404
    by_version = {
        version: {
            r["name"]: r for r in mesh.client.call("GET", f"/apis/{GROUP}/{version}")["resources"]
        }
        for version in ("v1", "v1alpha3")
    }
    assert "envoyfilters" not in by_version["v1"]
    served = by_version["v1alpha3"]["envoyfilters"]
    assert served["kind"] == "EnvoyFilter"
    assert "shortNames" not in served
    assert "watch" in served["verbs"]


def test_an_invalid_envoy_filter_is_refused_naming_the_patch(mesh: MeshHandle) -> None:
    api = mesh.client.custom
    body = _fault_filter("ef-bad", {"app": "httpbin"})
    body["spec"]["configPatches"][0]["patch"].pop("operation")
    with pytest.raises(ApiException) as refused:
        api.create_namespaced_custom_object(GROUP, "v1alpha3", "default", "envoyfilters", body)
    status = json.loads(refused.value.body)
    assert "Envoy filter: missing patch operation" in status["message"]
    assert "spec.configPatches[0].patch.operation" in status["message"]
    assert (
        api.list_namespaced_custom_object(GROUP, "v1alpha3", "default", "envoyfilters")["items"]
        == []
    )
