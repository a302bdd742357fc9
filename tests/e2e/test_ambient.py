"""Ambient mode end to end: ztunnel carries the pods' traffic, L7 policy acts only in a waypoint.

The mesh (``tests/data/mesh/ambient-mesh.yaml``): namespace ``mesh`` is enrolled with a
waypoint, ``l4`` without one. Every request goes through real sockets: the fortio pod's
app → ztunnel (a CONNECT tunnel from the pod's address) → the waypoint or the pod.
Sources: istio/istio ``pilot/pkg/networking/core/listener_waypoint.go`` and
``httproute.go`` at tag 1.30.3; istio/ztunnel ``src/proxy/metrics.rs`` at tag 1.30.3.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from chaoskit.topology.podshape import has_sidecar
from tests.e2e.conftest import MeshHandle

SPEC = Path(__file__).resolve().parent.parent / "data" / "mesh" / "ambient-mesh.yaml"
WAYPOINT_8000 = "http.outbound_0.0.0.0_8000."


class AmbientHandle(MeshHandle):
    def fetch(
        self, authority_and_path: str, headers: dict[str, str] | None = None
    ) -> requests.Response:
        fortio = self.pod("app=fortio", "mesh")
        url = f"http://{fortio['status']['podIP']}:8080/fetch/{authority_and_path}"
        return self.http.get(url, headers=headers or {}, timeout=60)

    def load(self, url: str, **spec: Any) -> dict[str, Any]:
        fortio = self.pod("app=fortio", "mesh")
        response = self.http.post(
            f"http://{fortio['status']['podIP']}:8080/load", json={"url": url, **spec}, timeout=300
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def waypoint(self) -> dict[str, Any]:
        return self.pod("gateway.networking.k8s.io/gateway-name=waypoint", "mesh")

    def ztunnel_metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], int]:
        ztunnel = self.pod("app=ztunnel", "istio-system")
        text = self.http.get(f"http://{ztunnel['status']['podIP']}:15020/metrics", timeout=10).text
        out: dict[tuple[str, frozenset[tuple[str, str]]], int] = {}
        for line in text.splitlines():
            name, labels, value = re.fullmatch(r"(\w+)\{(.*)\} (\d+)", line).groups()  # type: ignore[union-attr]
            out[(name, frozenset(re.findall(r'(\w+)="([^"]*)"', labels)))] = int(value)
        return out


@pytest.fixture
def ambient(embedded_mesh: Any) -> AmbientHandle:
    handle: AmbientHandle = embedded_mesh(AmbientHandle, spec=SPEC, seed=11)
    handle.reset()
    return handle


def _vs(host: str, http: str, namespace: str = "mesh") -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {host.split(".")[0]}, namespace: {namespace}}}
spec:
  hosts: [{host}]
  http:
{http}
"""


ABORT_ALL = """
  - fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
    route: [{destination: {host: httpbin}}]
"""


def test_ambient_pods_run_without_a_sidecar_beside_one_ztunnel_and_a_waypoint(
    ambient: AmbientHandle,
) -> None:
    """Pods of an ambient namespace have no istio-proxy and carry the CNI's redirection
    annotation; the node runs one ztunnel; the namespace's waypoint is a Deployment labelled
    with its Gateway's name."""
    pods = ambient.pods("mesh") + ambient.pods("l4")
    apps = [
        p for p in pods if "gateway.networking.k8s.io/gateway-name" not in p["metadata"]["labels"]
    ]
    assert apps
    assert not any(has_sidecar(p) for p in apps)
    assert {p["metadata"]["annotations"].get("ambient.istio.io/redirection") for p in apps} == {
        "enabled"
    }
    assert len(ambient.pods("istio-system", "app=ztunnel")) == 1
    assert ambient.waypoint()["metadata"]["namespace"] == "mesh"
    assert not ambient.pods("l4", "gateway.networking.k8s.io/gateway-name")
    # What `mesh up` and `mesh status` say of it, from mesh.json.
    assert ambient.info.ambient_namespaces == ("l4", "mesh")


def test_a_fault_acts_at_the_waypoint(ambient: AmbientHandle) -> None:
    """A VirtualService abort on a waypoint-served host is answered by the waypoint (FI)."""
    ambient.apply(_vs("httpbin", ABORT_ALL))
    response = ambient.fetch("httpbin:8000/get")
    assert (response.status_code, response.text) == (503, "fault filter abort")
    waypoint = ambient.waypoint()
    assert ambient.stats(waypoint)[WAYPOINT_8000 + "fault.aborts_injected"] == 1
    records = ambient.admin(waypoint, "/chaoskit/access_log").json()["records"]
    assert records[-1]["response_flags"] == "FI"
    # The hop to the waypoint is ztunnel's: fortio's connection, reported by its ztunnel.
    opened = [
        dict(labels)
        for (name, labels), value in ambient.ztunnel_metrics().items()
        if name == "istio_tcp_connections_opened_total" and value
    ]
    assert {
        "reporter": "source",
        "source_workload": "fortio",
        "destination_service": "httpbin.mesh.svc.cluster.local",
        "destination_workload": "waypoint",
        "connection_security_policy": "mutual_tls",
    }.items() <= next(
        (
            o
            for o in opened
            if o["destination_service"] == "httpbin.mesh.svc.cluster.local"
            and o["reporter"] == "source"
        ),
        {},
    ).items()


@pytest.mark.parametrize(
    "labels",
    ["{app: fortio}", "{gateway.networking.k8s.io/gateway-name: waypoint}"],
    ids=["the-caller", "the-waypoint-itself"],
)
def test_a_source_labels_match_is_dropped_at_the_waypoint(
    ambient: AmbientHandle, labels: str
) -> None:
    """waypointInboundRoute skips every match with sourceLabels (listener_waypoint.go,
    tag 1.30.3, "Source label matching is not supported in ambient mode"): a fault scoped
    to the caller's labels never fires (a sidecar would fire it), nor one whose labels the
    waypoint's own pod carries, and the next rule routes the request."""
    ambient.apply(
        _vs(
            "httpbin",
            f"""
  - match: [{{sourceLabels: {labels}}}]
    fault: {{abort: {{httpStatus: 503, percentage: {{value: 100}}}}}}
    route: [{{destination: {{host: httpbin}}}}]
  - route: [{{destination: {{host: httpbin}}}}]
""",
        )
    )
    assert ambient.fetch("httpbin:8000/get").status_code == 200
    assert ambient.stats(ambient.waypoint()).get(WAYPOINT_8000 + "fault.aborts_injected", 0) == 0


def test_without_a_waypoint_l7_policy_has_no_effect(ambient: AmbientHandle) -> None:
    """Namespace l4 has no waypoint: ztunnel carries the connection as L4, nothing reads
    the VirtualService, and the request succeeds. ztunnel reports the connection from both
    ends (source and destination reporter), over mutual TLS."""
    ambient.apply(
        _vs(
            "httpbin.l4.svc.cluster.local",
            ABORT_ALL.replace("httpbin}", "httpbin.l4.svc.cluster.local}"),
            "l4",
        )
    )
    response = ambient.fetch("httpbin.l4:8000/get")
    assert response.status_code == 200
    reporters = {
        dict(labels)["reporter"]
        for (name, labels), value in ambient.ztunnel_metrics().items()
        if name == "istio_tcp_connections_opened_total"
        and value
        and dict(labels)["destination_service"] == "httpbin.l4.svc.cluster.local"
        and dict(labels)["source_workload"] == "fortio"
        and dict(labels)["destination_workload"] == "httpbin-v1"
    }
    assert reporters == {"source", "destination"}


def test_a_route_timeout_is_enforced_by_the_waypoint(ambient: AmbientHandle) -> None:
    """timeout: 0.5s on the VirtualService: the waypoint answers 504 (UT) at 0.5 s while
    httpbin would take 2 s; the caller has no proxy, so nothing else times out."""
    ambient.apply(
        _vs(
            "httpbin",
            """
  - timeout: 0.5s
    route: [{destination: {host: httpbin}}]
""",
        )
    )
    start = time.monotonic()
    response = ambient.fetch("httpbin:8000/delay/2")
    elapsed = time.monotonic() - start
    assert (response.status_code, response.text) == (504, "upstream request timeout")
    assert elapsed < 2.0
    records = ambient.admin(ambient.waypoint(), "/chaoskit/access_log").json()["records"]
    assert records[-1]["response_flags"] == "UT"


def test_outlier_detection_ejects_at_the_waypoint_for_every_client(ambient: AmbientHandle) -> None:
    """The waypoint's cluster holds the outlier detector (cluster_waypoint.go,
    buildWaypointInboundVIPCluster → applyOutlierDetection, tag 1.30.3): the failing
    replica is ejected once, in the waypoint, after consecutive5xxErrors 5xx answers."""
    ambient.apply("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: mesh}
spec:
  host: backend
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}
""")
    bad = ambient.pod("app=backend", "mesh")
    ambient.set_settings(bad["metadata"]["name"], {"errorRate": 1.0, "errorStatus": 500}, "mesh")
    result = ambient.load("http://backend:9080/", requests=90, connections=1)
    assert result["codes"].get("500", 0) == 3
    waypoint = ambient.waypoint()
    cluster = "cluster.outbound|9080||backend.mesh.svc.cluster.local."
    assert (
        ambient.stats(waypoint)[cluster + "outlier_detection.ejections_enforced_consecutive_5xx"]
        == 1
    )
    assert (
        f"backend.mesh.svc.cluster.local::{bad['status']['podIP']}:9080::health_flags::"
        "/failed_outlier_check"
    ) in ambient.admin(waypoint, "/clusters").text


def test_proxy_config_refuses_an_ambient_pod_and_reads_the_waypoint(ambient: AmbientHandle) -> None:
    """An ambient pod has no Envoy: proxy-config says where its policy is instead."""
    from chaoskit.commands.proxy import _resolve_pod
    from chaoskit.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"fortio-\w+\.mesh is in ambient mode and has no sidecar"
    ):
        _resolve_pod(ambient.client, "deploy/fortio", "mesh")
    waypoint = _resolve_pod(ambient.client, "deploy/waypoint", "mesh")
    assert waypoint["metadata"]["labels"]["gateway.networking.k8s.io/gateway-name"] == "waypoint"


def test_the_waypoint_reads_virtual_services_only_from_its_service_namespace(
    ambient: AmbientHandle,
) -> None:
    """getVirtualServiceForWaypoint (listener_waypoint.go, tag 1.30.3) keeps VirtualServices
    from the service's or the waypoint's namespace: one in namespace l4 for httpbin.mesh is
    ignored, so the request succeeds."""
    ambient.apply(
        _vs(
            "httpbin.mesh.svc.cluster.local",
            ABORT_ALL.replace("host: httpbin}", "host: httpbin.mesh.svc.cluster.local}"),
            "l4",
        )
    )
    assert ambient.fetch("httpbin:8000/get").status_code == 200
    ambient.apply(_vs("httpbin", ABORT_ALL))
    assert ambient.fetch("httpbin:8000/get").status_code == 503
