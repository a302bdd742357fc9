"""Endpoints and EndpointSlices: the pods behind each Service, as the endpoint controllers
write them, read-only.

A port of a Service resolves per pod to the port the pod listens on (Kubernetes resolves a
named targetPort per pod the same way: kubernetes/kubernetes ``pkg/controller/endpoint``
``podToEndpointAddressForService`` and ``findPort``). In ip mode that is the targetPort on
the pod's own IP; in port mode every pod is 127.0.0.1 and each has its own port, so one
Service has as many port sets as pods. Endpoints group addresses with the same ports into
one subset (``repackSubsets``), and the EndpointSlice controller writes one slice per port
set (``pkg/controller/endpointslice``: slices are keyed by their ports), so port mode shows
one subset and one slice per pod, exactly what EDS carries. An endpoint is ready while its
pod is in EDS and serving (a crashed app's pod is NotReady and leaves).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from chaoskit.controlplane import discovery
from chaoskit.controlplane.pods import PodProcess
from chaoskit.controlplane.store import JsonObject, NotFound, selector_matches

if TYPE_CHECKING:
    from chaoskit.controlplane.api import KubeApi

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
NODE_NAME = "chaoskit-embedded"


class EndpointRoutes:
    def __init__(self, api: KubeApi) -> None:
        self.api = api
        self.cp = api.cp
        r = api.app.router
        r.add_get("/api/v1/endpoints", self.list_endpoints)
        r.add_get("/api/v1/namespaces/{namespace}/endpoints", self.list_endpoints)
        r.add_get("/api/v1/namespaces/{namespace}/endpoints/{name}", self.get_endpoints)
        base = f"/apis/{discovery.DISCOVERY}/v1"
        r.add_get(base, self.resources)
        r.add_get(base + "/endpointslices", self.list_slices)
        r.add_get(base + "/namespaces/{namespace}/endpointslices", self.list_slices)
        r.add_get(base + "/namespaces/{namespace}/endpointslices/{name}", self.get_slice)

    async def resources(self, request: web.Request) -> web.Response:
        return web.json_response(
            discovery.resource_list(f"{discovery.DISCOVERY}/v1", discovery.DISCOVERY_V1)
        )

    # --- what the controllers see ------------------------------------------------------------

    def _by_ports(self, service: Any) -> dict[tuple[tuple[str, int], ...], list[PodProcess]]:
        """The Service's pods grouped by their resolved ports (name, port)."""
        selector = service.effective_selector
        groups: dict[tuple[tuple[str, int], ...], list[PodProcess]] = {}
        for pod in sorted(self.cp.pods_and_leaving(), key=lambda p: (p.namespace, p.name)):
            if pod.namespace != service.namespace:
                continue
            if not all(pod.labels.get(k) == v for k, v in selector.items()):
                continue
            ports = tuple((p.name, pod.host_port(p.container_port)) for p in service.ports)
            groups.setdefault(ports, []).append(pod)
        return groups

    def _ready(self, pod: PodProcess) -> bool:
        return pod.in_eds and self.cp.is_ready(pod)

    def _meta(self, name: str, namespace: str, **extra: Any) -> JsonObject:
        created = datetime.datetime.fromtimestamp(self.api.started_at, datetime.UTC)
        return {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),  # with its Service
            **extra,
        }

    @staticmethod
    def _address(pod: PodProcess) -> JsonObject:
        return {
            "ip": pod.ip,
            "nodeName": NODE_NAME,
            "targetRef": {"kind": "Pod", "name": pod.name, "namespace": pod.namespace},
        }

    def _endpoints(self, namespace: str | None) -> list[JsonObject]:
        items = []
        for service in self.cp.spec.spec.services:
            if namespace is not None and service.namespace != namespace:
                continue
            subsets = []
            for ports, pods in self._by_ports(service).items():
                ready = [self._address(p) for p in pods if self._ready(p)]
                not_ready = [self._address(p) for p in pods if not self._ready(p)]
                subset: JsonObject = {
                    "ports": [{"name": n, "port": port, "protocol": "TCP"} for n, port in ports]
                }
                if ready:
                    subset["addresses"] = ready
                if not_ready:
                    subset["notReadyAddresses"] = not_ready
                subsets.append(subset)
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": self._meta(service.name, service.namespace),
                    "subsets": subsets,
                }
            )
        return items

    def _slices(self, namespace: str | None) -> list[JsonObject]:
        items = []
        for service in self.cp.spec.spec.services:
            if namespace is not None and service.namespace != namespace:
                continue
            for ports, pods in self._by_ports(service).items():
                suffix = hashlib.sha256(json.dumps(ports).encode()).hexdigest()[:5]
                items.append(
                    {
                        "apiVersion": f"{discovery.DISCOVERY}/v1",
                        "kind": "EndpointSlice",
                        "metadata": self._meta(
                            f"{service.name}-{suffix}",
                            service.namespace,
                            labels={SERVICE_NAME_LABEL: service.name},
                        ),
                        "addressType": "IPv4",
                        "endpoints": [
                            {
                                "addresses": [p.ip],
                                "conditions": {
                                    "ready": self._ready(p),
                                    "serving": self.cp.is_ready(p),
                                    "terminating": p.deleted,
                                },
                                "nodeName": NODE_NAME,
                                "targetRef": self._address(p)["targetRef"],
                            }
                            for p in pods
                        ],
                        "ports": [
                            {"name": n, "port": port, "protocol": "TCP"} for n, port in ports
                        ],
                    }
                )
        return items

    # --- handlers ------------------------------------------------------------------------------

    @staticmethod
    def _selected(request: web.Request, items: list[JsonObject]) -> list[JsonObject]:
        selector = request.query.get("labelSelector")
        return [i for i in items if selector_matches(selector, i["metadata"].get("labels"))]

    async def list_endpoints(self, request: web.Request) -> web.Response:
        items = self._selected(request, self._endpoints(request.match_info.get("namespace")))
        body = {"apiVersion": "v1", "kind": "EndpointsList", "metadata": {}, "items": items}
        return self.api.answer_list(request, "endpoints", body)

    async def get_endpoints(self, request: web.Request) -> web.Response:
        return self._one(request, "endpoints", self._endpoints(request.match_info["namespace"]))

    async def list_slices(self, request: web.Request) -> web.Response:
        items = self._selected(request, self._slices(request.match_info.get("namespace")))
        body = {
            "apiVersion": f"{discovery.DISCOVERY}/v1",
            "kind": "EndpointSliceList",
            "metadata": {},
            "items": items,
        }
        return self.api.answer_list(request, "endpointslices", body)

    async def get_slice(self, request: web.Request) -> web.Response:
        slices = self._slices(request.match_info["namespace"])
        return self._one(request, "endpointslices", slices)

    def _one(self, request: web.Request, plural: str, items: list[JsonObject]) -> web.Response:
        name = request.match_info["name"]
        for item in items:
            if item["metadata"]["name"] == name:
                return self.api.answer_object(request, plural, item)
        raise NotFound(f'{plural} "{name}" not found', details={"name": name, "kind": plural})
