"""Finding the ingress gateway and the load client from the cluster's objects.

The Services are those ``cluster up`` installs (``assets/istio-operator.yaml``'s gateway,
``assets/fortio.yaml``), read from the assets themselves; nodes are shaped as kind's
(``providerID: kind://...``) or as a cloud node's.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from chaoskit.cluster import discovery, pins
from chaoskit.errors import BackendError
from chaoskit.experiment.cluster_mesh import ClusterTarget, discover

KIND_NODE = {
    "spec": {"providerID": "kind://docker/chaoskit/chaoskit-control-plane"},
    "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.2"}]},
}


def operator_gateway_service() -> dict[str, Any]:
    """The gateway Service as the IstioOperator asset asks for it."""
    operator = yaml.safe_load(pins.asset("istio-operator.yaml").read_text())
    (gateway,) = operator["spec"]["components"]["ingressGateways"]
    return {
        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
        "spec": {
            **gateway["k8s"]["service"],
            "selector": {"app": "istio-ingressgateway", "istio": "ingressgateway"},
        },
    }


def fortio_service() -> dict[str, Any]:
    (service,) = [
        d
        for d in yaml.safe_load_all(pins.asset("fortio.yaml").read_text())
        if d and d["kind"] == "Service"
    ]
    return dict(service)


class Cluster:
    """What discovery reads: Services by path, nodes, pods."""

    def __init__(
        self,
        services: list[dict[str, Any]],
        nodes: list[dict[str, Any]],
        pods: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> None:
        self.services = {
            f"/api/v1/namespaces/{s['metadata']['namespace']}/services/{s['metadata']['name']}": s
            for s in services
        }
        self._nodes, self._pods = nodes, list(pods)

    def call(self, method: str, path: str) -> Any:
        if path not in self.services:
            raise BackendError(f"GET {path}: 404 NotFound")
        return self.services[path]

    def nodes(self) -> list[dict[str, Any]]:
        return self._nodes

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        wanted = dict(term.split("=") for term in selector.split(","))
        return [
            p
            for p in self._pods
            if p["metadata"]["namespace"] == namespace
            and all(p["metadata"]["labels"].get(k) == v for k, v in wanted.items())
        ]


def target(**addresses: str) -> ClusterTarget:
    return ClusterTarget(
        "kind",
        "kind-chaoskit",
        None,
        ("bookinfo",),
        ingress_http=addresses.get("ingress_http", ""),
        ingress_https=addresses.get("ingress_https", ""),
        client_url=addresses.get("client_url", ""),
    )


def test_on_kind_the_node_ports_are_where_kind_config_publishes_them() -> None:
    cluster = Cluster([operator_gateway_service(), fortio_service()], [KIND_NODE])
    found, how = discover(cluster, target())  # type: ignore[arg-type]
    # the ports the kind config publishes are those pins names for kind
    assert found.ingress_http == pins.INGRESS_HTTP
    assert found.ingress_https == pins.INGRESS_HTTPS
    assert found.client_url == pins.FORTIO_URL
    assert how[0].endswith("node port 30080, published by kind on 127.0.0.1:8080")
    assert how[2].startswith("client_url http://127.0.0.1:8088: Service bookinfo/fortio port http")


def test_a_load_balancer_address_wins_and_other_nodes_are_reached_at_their_address() -> None:
    balanced = operator_gateway_service()
    balanced["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}
    cloud = {"spec": {"providerID": "aws:///eu-west-1a/i-0abc"}, "status": {"addresses": [
        {"type": "InternalIP", "address": "10.0.0.5"},
        {"type": "ExternalIP", "address": "198.51.100.7"},
    ]}}  # fmt: skip
    cluster = Cluster([balanced, fortio_service()], [cloud])
    found, _how = discover(cluster, target())  # type: ignore[arg-type]
    assert found.ingress_http == "http://192.0.2.10:80"
    assert found.ingress_https == "https://192.0.2.10:443"
    assert found.client_url == "http://198.51.100.7:30088"


def test_a_gateway_pod_with_host_ports_and_a_loopback_pod_network_are_found() -> None:
    """The embedded mesh: a ClusterIP gateway Service whose pod publishes hostPorts, and a
    fortio pod whose IP is on this host's loopback."""
    gateway = operator_gateway_service()
    gateway["spec"] = {**gateway["spec"], "type": "ClusterIP"}
    for port in gateway["spec"]["ports"]:
        del port["nodePort"]
    fortio = fortio_service()
    fortio["spec"] = {**fortio["spec"], "type": "ClusterIP"}
    del fortio["spec"]["ports"][0]["nodePort"]
    ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    pods = [
        {
            "metadata": {"name": "istio-ingressgateway-1", "namespace": "istio-system",
                         "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}},
            "spec": {"containers": [{"ports": [{"containerPort": 8080, "hostPort": 41001},
                                               {"containerPort": 8443, "hostPort": 41002}]}]},
            "status": {**ready, "hostIP": "127.0.0.1", "podIP": "127.20.0.2"},
        },
        {
            "metadata": {"name": "fortio-1", "namespace": "bookinfo", "labels": {"app": "fortio"}},
            "spec": {"containers": [{"ports": [{"containerPort": 8080}]}]},
            "status": {**ready, "podIP": "127.20.0.16"},
        },
    ]  # fmt: skip
    cluster = Cluster([gateway, fortio], [], pods)
    found, how = discover(cluster, target())  # type: ignore[arg-type]
    assert (found.ingress_http, found.ingress_https) == (
        "http://127.0.0.1:41001",
        "https://127.0.0.1:41002",
    )
    assert found.client_url == "http://127.20.0.16:8080"
    assert how[2].endswith("pod fortio-1 on this host's loopback")


def test_settings_win_and_what_is_not_found_falls_back_to_kinds_ports() -> None:
    cluster = Cluster([], [KIND_NODE])
    found, how = discover(cluster, target(ingress_http="http://10.1.2.3:80"))  # type: ignore[arg-type]
    assert found.ingress_http == "http://10.1.2.3:80"
    assert how[0] == "ingress_http http://10.1.2.3:80: set (ini chaos_ingress_http)"
    assert (found.ingress_https, found.client_url) == (pins.INGRESS_HTTPS, pins.FORTIO_URL)


@pytest.mark.parametrize("ip", ["10.244.0.7", "not-an-ip", ""])
def test_a_pod_network_off_this_host_is_not_taken_as_reachable(ip: str) -> None:
    fortio = fortio_service()
    del fortio["spec"]["ports"][0]["nodePort"]
    pod = {
        "metadata": {"name": "fortio-1", "namespace": "bookinfo", "labels": {"app": "fortio"}},
        "spec": {"containers": [{"ports": [{"containerPort": 8080}]}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                   "podIP": ip},
    }  # fmt: skip
    assert discovery.load_client(Cluster([fortio], [], [pod]), ["bookinfo"]) is None  # type: ignore[arg-type]
