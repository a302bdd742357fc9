"""The embedded API server against the official kubernetes client (contract tests).

The same client code drives a real cluster, so the paths, verbs, status codes and
``Status`` bodies must be the API server's.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
import requests
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chaoskit.controlplane.api_tls import CA_FILE
from tests.e2e.conftest import MeshHandle

GROUP = "networking.istio.io"


def _vs(name: str, host: str = "httpbin") -> dict[str, object]:
    return {
        "apiVersion": f"{GROUP}/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": name},
        "spec": {"hosts": [host], "http": [{"route": [{"destination": {"host": host}}]}]},
    }


def test_requests_without_the_bearer_token_get_401(mesh: MeshHandle) -> None:
    ca = Path(mesh.info.state_dir) / CA_FILE
    response = requests.get(f"{mesh.info.api_server}/api/v1/pods", timeout=5, verify=ca)
    assert response.status_code == 401
    assert response.json()["kind"] == "Status"
    wrong = requests.get(
        f"{mesh.info.api_server}/api/v1/pods",
        headers={"Authorization": "Bearer nope"},
        timeout=5,
        verify=ca,
    )
    assert wrong.status_code == 401


def test_the_api_server_speaks_tls_verified_by_the_ca_in_the_kubeconfig(mesh: MeshHandle) -> None:
    assert mesh.info.api_server.startswith("https://127.0.0.1:")
    config = yaml.safe_load(Path(mesh.info.kubeconfig).read_text())
    ca_pem = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    assert ca_pem == (Path(mesh.info.state_dir) / CA_FILE).read_bytes()
    # A client that trusts only the system roots refuses the mesh's certificate.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{mesh.info.api_server}/version", timeout=5)
    # Plain HTTP to the TLS port gets no API answer.
    plain = mesh.info.api_server.replace("https://", "http://")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{plain}/version", timeout=5)


def test_custom_objects_round_trip_in_every_served_version(mesh: MeshHandle) -> None:
    api = mesh.client.custom
    created = api.create_namespaced_custom_object(
        GROUP, "v1alpha3", "default", "virtualservices", _vs("a")
    )
    assert created["apiVersion"] == f"{GROUP}/v1alpha3"
    for version in ("v1", "v1beta1", "v1alpha3"):
        got = api.get_namespaced_custom_object(GROUP, version, "default", "virtualservices", "a")
        assert got["apiVersion"] == f"{GROUP}/{version}"
        assert got["spec"]["hosts"] == ["httpbin"]
    listed = api.list_namespaced_custom_object(GROUP, "v1", "default", "virtualservices")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]
    patched = api.patch_namespaced_custom_object(
        GROUP,
        "v1",
        "default",
        "virtualservices",
        "a",
        {"spec": {"http": [{"route": [{"destination": {"host": "httpbin"}}], "timeout": "1s"}]}},
    )
    assert patched["spec"]["http"][0]["timeout"] == "1s"
    assert patched["metadata"]["generation"] == 2
    replaced = api.replace_namespaced_custom_object(
        GROUP,
        "v1",
        "default",
        "virtualservices",
        "a",
        {
            **_vs("a"),
            "metadata": {"name": "a", "resourceVersion": patched["metadata"]["resourceVersion"]},
        },
    )
    assert "timeout" not in replaced["spec"]["http"][0]
    api.delete_namespaced_custom_object(GROUP, "v1", "default", "virtualservices", "a")
    with pytest.raises(ApiException) as missing:
        api.get_namespaced_custom_object(GROUP, "v1", "default", "virtualservices", "a")
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["reason"] == "NotFound"


def test_create_twice_is_409_and_a_stale_replace_is_409(mesh: MeshHandle) -> None:
    api = mesh.client.custom
    created = api.create_namespaced_custom_object(
        GROUP, "v1", "default", "virtualservices", _vs("b")
    )
    with pytest.raises(ApiException) as exists:
        api.create_namespaced_custom_object(GROUP, "v1", "default", "virtualservices", _vs("b"))
    assert exists.value.status == 409
    stale = {
        **_vs("b"),
        "metadata": {"name": "b", "resourceVersion": created["metadata"]["resourceVersion"]},
    }
    api.replace_namespaced_custom_object(GROUP, "v1", "default", "virtualservices", "b", stale)
    with pytest.raises(ApiException) as conflict:
        api.replace_namespaced_custom_object(GROUP, "v1", "default", "virtualservices", "b", stale)
    assert conflict.value.status == 409
    assert json.loads(conflict.value.body)["reason"] == "Conflict"


def test_an_invalid_resource_is_422_with_the_field_and_changes_nothing(mesh: MeshHandle) -> None:
    api = mesh.client.custom
    bad = _vs("c")
    bad["spec"]["http"][0]["timeout"] = "5 s"  # type: ignore[index]
    before = mesh.client.proxy_status()["pushedVersion"]
    with pytest.raises(ApiException) as invalid:
        api.create_namespaced_custom_object(GROUP, "v1", "default", "virtualservices", bad)
    assert invalid.value.status == 422
    status = json.loads(invalid.value.body)
    assert status["reason"] == "Invalid"
    assert "spec.http[0].timeout" in status["message"]
    assert status["details"]["causes"][0]["field"] == "spec.http[0].timeout"
    assert (
        api.list_namespaced_custom_object(GROUP, "v1", "default", "virtualservices")["items"] == []
    )
    assert mesh.client.proxy_status()["pushedVersion"] == before


def test_pods_and_services_read_through_core_v1(mesh: MeshHandle) -> None:
    core = k8s.CoreV1Api(mesh.client.api_client)
    pods = core.list_namespaced_pod("default", label_selector="app=backend")
    assert len(pods.items) == 3
    assert all(
        p.status.phase == "Running" and p.status.pod_ip.startswith("127.") for p in pods.items
    )
    one = core.read_namespaced_pod(pods.items[0].metadata.name, "default")
    assert one.metadata.labels["app"] == "backend"
    services = core.list_namespaced_service("default")
    assert {s.metadata.name for s in services.items} >= {"httpbin", "backend", "fortio"}


def test_endpoints_and_slices_list_what_eds_carries(mesh: MeshHandle) -> None:
    """Endpoints and EndpointSlices of a Service name the ip:port pairs the caller's Envoy
    has as the cluster's hosts: the targetPort on each pod's IP, or in port mode each pod's
    own port on 127.0.0.1 (one subset and one slice per port set, as the controllers group)."""
    cluster = "outbound|9080||backend.default.svc.cluster.local"

    def eds_hosts() -> set[str]:
        return {
            line.split("::")[1]
            for line in mesh.admin(mesh.pod("app=fortio"), "/clusters").text.splitlines()
            if line.startswith(cluster + "::") and line.split("::")[2] == "health_flags"
        }

    # The shared mesh may still be settling from an earlier test's killed pod, whose
    # endpoint leaves EDS a few seconds after its replacement joins: wait (bounded) for
    # the Deployment's three replicas, then compare.
    deadline = time.monotonic() + 20
    while len(eds := eds_hosts()) != 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    core = k8s.CoreV1Api(mesh.client.api_client)
    endpoints = core.read_namespaced_endpoints("backend", "default")
    listed = {
        f"{a.ip}:{p.port}" for s in endpoints.subsets for a in s.addresses or [] for p in s.ports
    }
    slices = k8s.DiscoveryV1Api(mesh.client.api_client).list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=backend"
    )
    sliced = {
        f"{address}:{p.port}"
        for s in slices.items
        for e in s.endpoints
        if e.conditions.ready
        for address in e.addresses
        for p in s.ports
    }
    assert len(eds) == 3
    assert listed == eds
    assert sliced == eds


def test_deleting_a_pod_makes_the_deployment_replace_it(mesh: MeshHandle) -> None:
    core = k8s.CoreV1Api(mesh.client.api_client)
    before = {
        p.metadata.name
        for p in core.list_namespaced_pod("default", label_selector="app=backend").items
    }
    victim = sorted(before)[0]
    core.delete_namespaced_pod(victim, "default")
    after = {
        p.metadata.name
        for p in core.list_namespaced_pod("default", label_selector="app=backend").items
    }
    assert victim not in after
    assert len(after) == 3


def test_bad_app_settings_are_422_naming_the_field(mesh: MeshHandle) -> None:
    pod = mesh.pod("app=backend")["metadata"]["name"]
    with pytest.raises(Exception, match="errorRate"):
        mesh.set_settings(pod, {"errorRate": 7})


def test_pods_have_istios_native_sidecar_shape_by_default(mesh: MeshHandle) -> None:
    pod = mesh.pod("app=httpbin")
    init = {c["name"]: c for c in pod["spec"]["initContainers"]}
    assert init["istio-proxy"]["restartPolicy"] == "Always"
    assert "restartPolicy" not in init["istio-init"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["httpbin"]
    statuses = {s["name"]: s for s in pod["status"]["initContainerStatuses"]}
    assert statuses["istio-proxy"]["ready"] is True
    assert statuses["istio-proxy"]["state"].keys() == {"running"}
    assert statuses["istio-init"]["state"]["terminated"]["reason"] == "Completed"
    assert [s["name"] for s in pod["status"]["containerStatuses"]] == ["httpbin"]
    gateway = mesh.pod("app=istio-ingressgateway", "istio-system")
    assert "initContainers" not in gateway["spec"]  # a gateway is Envoy itself, no sidecar


def test_a_merge_patch_of_replicas_scales_a_deployment_as_on_a_cluster(mesh: MeshHandle) -> None:
    """The cluster backend scales with a merge PATCH of the Deployment (as the API server
    allows besides the scale subresource); only spec.replicas is the embedded mesh's to change."""
    patched = mesh.client.patch_deployment("default", "httpbin-v1", {"spec": {"replicas": 2}})
    try:
        assert patched["spec"]["replicas"] == 2
        assert len(mesh.client.pods("default", "app=httpbin,version=v1")) == 2
        with pytest.raises(Exception, match=r"patches only spec.replicas.*spec.paused"):
            mesh.client.patch_deployment("default", "httpbin-v1", {"spec": {"paused": True}})
    finally:
        mesh.client.patch_deployment("default", "httpbin-v1", {"spec": {"replicas": 1}})
    assert len(mesh.client.pods("default", "app=httpbin,version=v1")) == 1
    mesh.wait_ready()


def test_a_webhook_rule_is_a_400_denial_and_the_client_calls_it_rejected(
    mesh: MeshHandle,
) -> None:
    """Shape errors are the CRD schema's 422 (above); Istio's own rules are its webhook's
    denial, which the API server relays as a 400 ``Failure`` without a reason."""
    from chaoskit.kube.client import ResourceRejected

    bad = _vs("d")
    bad["spec"]["http"][0]["route"][0]["weight"] = -1  # type: ignore[index]
    with pytest.raises(ApiException) as denied:
        mesh.client.custom.create_namespaced_custom_object(
            GROUP, "v1", "default", "virtualservices", bad
        )
    status = json.loads(denied.value.body)
    assert (denied.value.status, status["code"], "reason" in status) == (400, 400, False)
    assert status["message"].startswith(
        'admission webhook "validation.istio.io" denied the request: configuration is invalid: '
    )
    with pytest.raises(ResourceRejected, match="weight"):
        mesh.client.create_object("virtualservices", "default", bad)


def test_the_python_clients_watch_on_an_istio_kind(mesh: MeshHandle) -> None:
    from kubernetes import watch

    api = mesh.client.custom
    api.create_namespaced_custom_object(GROUP, "v1", "default", "virtualservices", _vs("w"))
    events = list(
        watch.Watch().stream(
            api.list_namespaced_custom_object,
            GROUP,
            "v1",
            "default",
            "virtualservices",
            timeout_seconds=1,
        )
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w")]
