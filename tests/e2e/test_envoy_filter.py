"""EnvoyFilter on the embedded API server: served as Istio's CRD serves it (v1alpha3 only,
no short name, no printer columns) and checked by Istio's EnvoyFilter validation."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from chaoskit.experiment.cluster_mesh import config_fingerprint, replica_fault_filter
from chaoskit.topology.host_ports import pod_address
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
    # A webhook rule, not the CRD schema's: the API server relays Istio's denial as a 400
    # with no reason (the webhook sets none).
    assert refused.value.status == 400
    status = json.loads(refused.value.body)
    assert (status["code"], status["status"], "reason" in status) == (400, "Failure", False)
    assert status["message"].startswith(
        'admission webhook "validation.istio.io" denied the request: configuration is invalid: '
    )
    assert "Envoy filter: missing patch operation" in status["message"]
    assert "spec.configPatches[0].patch.operation" in status["message"]
    assert (
        api.list_namespaced_custom_object(GROUP, "v1alpha3", "default", "envoyfilters")["items"]
        == []
    )


def _fingerprint(mesh: MeshHandle, pod: dict[str, Any]) -> str:
    return config_fingerprint(mesh.admin(pod, "/config_dump").json())


def _inbound(mesh: MeshHandle, pod: dict[str, Any]) -> Any:
    """A request straight to the pod's inbound listener (its sidecar's side), over a socket."""
    return mesh.http.get(f"http://{pod_address(pod, 9080)}/", timeout=10)


def test_the_backends_replica_fault_acts_in_the_selected_replica_only(mesh: MeshHandle) -> None:
    """The EnvoyFilter the cluster backend writes for a failing replica, applied through the
    API to one relabelled replica: its sidecar aborts inbound requests as Envoy's fault
    filter does (503, flag FI, no call to the app); the other replicas answer; deleting the
    filter ends it."""
    api = mesh.client.custom
    pods = sorted(mesh.pods("default", "app=backend"), key=lambda p: p["metadata"]["name"])
    chosen, others = pods[0], pods[1:]
    name = chosen["metadata"]["name"]
    # As the backend does: fingerprints first, then label the replica, then the filter.
    before = {p["metadata"]["name"]: _fingerprint(mesh, p) for p in pods}
    labelled = mesh.client.patch_pod(
        "default", name, {"metadata": {"labels": {"chaoskit.dev/replica-fault": "one"}}}
    )
    assert labelled["metadata"]["labels"]["chaoskit.dev/replica-fault"] == "one"
    body = replica_fault_filter("replica-fault", "default", "one", {"errorRate": 1.0})
    created = api.create_namespaced_custom_object(
        GROUP, "v1alpha3", "default", "envoyfilters", body
    )
    mesh.client.wait_synced(int(created["metadata"]["resourceVersion"]))

    # What the cluster backend waits for: the chosen sidecar's config changed, no other's.
    after = {p["metadata"]["name"]: _fingerprint(mesh, p) for p in pods}
    assert [n for n in after if after[n] != before[n]] == [name]
    aborted = _inbound(mesh, chosen)
    assert aborted.status_code == 503
    assert aborted.text == "fault filter abort"
    assert [_inbound(mesh, p).status_code for p in others] == [200] * len(others)
    record = mesh.admin(chosen, "/chaoskit/access_log").json()["records"][-1]
    assert (record["direction"], record["response_flags"]) == ("inbound", "FI")
    stats = mesh.stats(chosen)
    assert stats["http.inbound_0.0.0.0_9080.fault.aborts_injected"] == 1
    # The app never saw it (Envoy creates the counter with the cluster, at 0).
    assert stats.get("cluster.inbound|9080||.upstream_rq_total", 0) == 0
    # Through the mesh (the client's sidecar balances over the three replicas): every 503
    # is one the chosen replica's fault filter injected; the others answer. Seeded mesh.
    statuses = [mesh.fetch("backend:9080/").status_code for _ in range(30)]
    failed = statuses.count(503)
    assert 0 < failed < len(statuses)
    assert statuses.count(200) == len(statuses) - failed
    assert mesh.stats(chosen)["http.inbound_0.0.0.0_9080.fault.aborts_injected"] == 1 + failed
    dump = mesh.admin(chosen, "/config_dump").json()
    assert [f["source"] for f in dump["inbound_filters"]] == ["default/replica-fault[0]"]
    assert mesh.admin(others[0], "/config_dump").json()["inbound_filters"] == []
    listeners = subprocess.run(
        [
            *(sys.executable, "-m", "chaoskit.cli", "proxy-config", "listeners"),
            *(f"{name}.default", "--state-dir", mesh.info.state_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    inbound = [
        re.split(r"\s{2,}", line.strip()) for line in listeners.splitlines() if " 15006 " in line
    ]
    assert inbound == [
        [
            "0.0.0.0",
            "15006",
            "Addr: *:9080",
            "Cluster: inbound|9080|| (HTTP filters: chaoskit.replica_fault → "
            "envoy.filters.http.router)",
        ]
    ]

    api.delete_namespaced_custom_object(
        GROUP, "v1alpha3", "default", "envoyfilters", "replica-fault"
    )
    mesh.client.wait_synced(int(mesh.client.proxy_status()["pushedVersion"]))
    assert _inbound(mesh, chosen).status_code == 200
    mesh.client.patch_pod(
        "default", name, {"metadata": {"labels": {"chaoskit.dev/replica-fault": None}}}
    )


def test_a_relabel_that_would_move_a_pod_between_services_is_refused(mesh: MeshHandle) -> None:
    pod = mesh.pod("app=backend")
    with pytest.raises(Exception, match="would change the Services that select it"):
        mesh.client.patch_pod(
            "default", pod["metadata"]["name"], {"metadata": {"labels": {"app": "other"}}}
        )


def test_chaoskits_own_client_applies_and_deletes_an_envoy_filter(mesh: MeshHandle) -> None:
    """``chaoskit apply/delete -f`` go through KubeClient.apply/delete: at v1alpha3."""
    from chaoskit.istio.loading import load_text

    body = _fault_filter("ef-cli", {"app": "httpbin", "version": "v2"})
    (loaded,) = load_text(json.dumps(body), "<test>").resources
    assert mesh.client.apply(loaded.resource, "default").action == "created"
    assert mesh.client.apply(loaded.resource, "default").action == "unchanged"
    assert mesh.client.delete("EnvoyFilter", "default", "ef-cli").action == "deleted"
    assert mesh.client.delete("EnvoyFilter", "default", "ef-cli").action == "not found"
