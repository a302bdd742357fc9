"""Where the ingress gateway and the in-mesh load client are reachable from this host,
read from the cluster's own objects.

For a Service, the first of these that answers (Istio's "Determining the ingress IP and
ports": the load balancer's address, else the node port on a node's address):

1. ``status.loadBalancer.ingress[0]`` (``ip`` or ``hostname``) and the Service's port;
2. a node port on a kind node: kind publishes only the node ports its config maps to the
   host (``extraPortMappings`` of ``assets/kind-config.yaml``, e.g. 30080 on
   127.0.0.1:8080), so the host address is that mapping;
3. a node port on another node: its ``ExternalIP``, else its ``InternalIP``;
4. a ready pod of the Service whose container port has a ``hostPort``: the pod's
   ``status.hostIP`` at that port (the embedded mesh publishes its gateway this way);
5. a ready pod whose IP is on this host's loopback (127.0.0.0/8, the embedded mesh's pod
   network): that IP at the target port.

Nothing found is ``None``; the caller falls back to an explicit setting.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from chaoskit.cluster import pins
from chaoskit.errors import BackendError
from chaoskit.kube.client import KubeClient

JsonObject = dict[str, Any]

INGRESS_SERVICE = ("istio-system", "istio-ingressgateway")
# Port names of the gateway Service (Istio's charts: http2 and https).
INGRESS_HTTP_PORTS = ("http2", "http")
INGRESS_HTTPS_PORTS = ("https",)
CLIENT_SERVICE = "fortio"
CLIENT_PORTS = ("http",)


@dataclass(frozen=True, slots=True)
class Found:
    url: str
    how: str  # one line: which object said so


@cache
def kind_host_ports() -> dict[int, tuple[str, int]]:
    """Node port → (host address, host port), as chaoskit's kind config publishes them."""
    config = yaml.safe_load(pins.asset("kind-config.yaml").read_text())
    mapped: dict[int, tuple[str, int]] = {}
    for node in config.get("nodes") or []:
        for mapping in node.get("extraPortMappings") or []:
            address = str(mapping.get("listenAddress") or "0.0.0.0")
            host = "127.0.0.1" if address == "0.0.0.0" else address
            mapped[int(mapping["containerPort"])] = (host, int(mapping["hostPort"]))
    return mapped


def _port(service: JsonObject, names: Iterable[str]) -> JsonObject | None:
    ports = (service.get("spec") or {}).get("ports") or []
    for name in names:
        for port in ports:
            if port.get("name") == name:
                return dict(port)
    return None


def _node_address(node: JsonObject) -> str:
    addresses = (node.get("status") or {}).get("addresses") or []
    for kind in ("ExternalIP", "InternalIP"):
        for address in addresses:
            if address.get("type") == kind and address.get("address"):
                return str(address["address"])
    return ""


def _loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def service_url(
    client: KubeClient, service: JsonObject, names: Iterable[str], scheme: str
) -> Found | None:
    """Where ``service``'s port (the first of ``names`` it has) is reachable from here."""
    port = _port(service, names)
    if port is None:
        return None
    meta = service.get("metadata") or {}
    where = f"Service {meta.get('namespace')}/{meta.get('name')} port {port.get('name')}"
    balancer = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if balancer:
        address = str(balancer[0].get("ip") or balancer[0].get("hostname") or "")
        if address:
            return Found(f"{scheme}://{_host(address)}:{port['port']}", f"{where}: load balancer")
    node_port = port.get("nodePort")
    if node_port:
        for node in client.nodes():
            provider = str((node.get("spec") or {}).get("providerID") or "")
            if provider.startswith("kind://"):
                mapped = kind_host_ports().get(int(node_port))
                if mapped is not None:
                    host, host_port = mapped
                    return Found(
                        f"{scheme}://{host}:{host_port}",
                        f"{where}: node port {node_port}, published by kind on {host}:{host_port}",
                    )
                continue
            address = _node_address(node)
            if address:
                return Found(
                    f"{scheme}://{_host(address)}:{node_port}", f"{where}: node port {node_port}"
                )
    return _pod_url(client, service, port, scheme, where)


def _pod_url(
    client: KubeClient, service: JsonObject, port: JsonObject, scheme: str, where: str
) -> Found | None:
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return None
    namespace = str((service.get("metadata") or {}).get("namespace") or "default")
    target = port.get("targetPort") or port.get("port")
    labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    pods = [p for p in client.pods(namespace, labels) if _ready(p)]
    for pod in sorted(pods, key=lambda p: str(p["metadata"]["name"])):
        status = pod.get("status") or {}
        for container in (pod.get("spec") or {}).get("containers") or []:
            for exposed in container.get("ports") or []:
                if exposed.get("containerPort") == target and exposed.get("hostPort"):
                    host = str(status.get("hostIP") or "")
                    if host:
                        return Found(
                            f"{scheme}://{_host(host)}:{exposed['hostPort']}",
                            f"{where}: pod {pod['metadata']['name']} hostPort",
                        )
    for pod in sorted(pods, key=lambda p: str(p["metadata"]["name"])):
        ip = str((pod.get("status") or {}).get("podIP") or "")
        if _loopback(ip):
            return Found(
                f"{scheme}://{ip}:{target}",
                f"{where}: pod {pod['metadata']['name']} on this host's loopback",
            )
    return None


def _ready(pod: JsonObject) -> bool:
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return status.get("phase") == "Running" and ready


def _service(client: KubeClient, namespace: str, name: str) -> JsonObject | None:
    try:
        found = client.call("GET", f"/api/v1/namespaces/{namespace}/services/{name}")
    except BackendError:
        return None
    return dict(found) if isinstance(found, dict) else None


def ingress(client: KubeClient) -> tuple[Found | None, Found | None]:
    """The ingress gateway's http and https URLs."""
    service = _service(client, *INGRESS_SERVICE)
    if service is None:
        return None, None
    return (
        service_url(client, service, INGRESS_HTTP_PORTS, "http"),
        service_url(client, service, INGRESS_HTTPS_PORTS, "https"),
    )


def load_client(client: KubeClient, namespaces: Iterable[str]) -> Found | None:
    """The in-mesh fortio client's URL: its Service in the first of ``namespaces`` that
    has one."""
    for namespace in namespaces:
        service = _service(client, namespace, CLIENT_SERVICE)
        if service is not None:
            found = service_url(client, service, CLIENT_PORTS, "http")
            if found is not None:
                return found
    return None
