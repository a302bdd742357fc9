"""The Kubernetes REST paths the official client uses, served by the control plane.

Istio's custom objects under ``/apis/networking.istio.io/{v1,v1beta1,v1alpha3}`` (create,
get, list, replace, merge-patch, delete, delete-collection), and ``/api/v1`` namespaces,
pods, services and secrets. Every request needs the bearer token from the kubeconfig;
errors are ``Status`` objects with the codes the API server uses (401, 404, 409, 422).
``/chaoskit/v1/*`` adds what only the embedded mesh has: sync state, kill and restart.
"""

from __future__ import annotations

import datetime
import hmac
import json
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from chaoskit.controlplane import discovery, tables, watch
from chaoskit.controlplane.api_endpoints import EndpointRoutes
from chaoskit.controlplane.api_exec import ExecRoutes
from chaoskit.controlplane.api_meshconfig import MeshConfigRoutes
from chaoskit.controlplane.api_workloads import WorkloadRoutes
from chaoskit.controlplane.kills import check_mode
from chaoskit.controlplane.kinds import ISTIO_KINDS, ISTIO_VERSIONS, SECRETS
from chaoskit.controlplane.pod_patch import (
    POD_PATCH_TYPES,
    pod_annotations,
    unsupported_pod_patch,
)
from chaoskit.controlplane.pods import PodProcess
from chaoskit.controlplane.route_status import http_route_status
from chaoskit.controlplane.runtime import (
    APP_SETTINGS_ANNOTATION,
    ControlPlane,
    settings_from_annotation,
)
from chaoskit.controlplane.selectors import SELECTABLE, field_selector_matches
from chaoskit.controlplane.store import (
    BadRequest,
    JsonObject,
    Kind,
    NotFound,
    StoreError,
    merge_patch,
    selector_matches,
)
from chaoskit.errors import ChaoskitError
from chaoskit.istio.resources import GROUP_VERSIONS
from chaoskit.topology.host_ports import HOST_PORTS_ANNOTATION
from chaoskit.topology.podshape import PROXY_CONTAINER

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def status_body(
    code: int, reason: str, message: str, details: JsonObject | None = None
) -> JsonObject:
    body: JsonObject = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        **({"reason": reason} if reason else {}),  # omitempty, as metav1.Status
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def _error(code: int, reason: str, message: str, details: JsonObject | None = None) -> web.Response:
    return web.json_response(status_body(code, reason, message, details), status=code)


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeApi:
    def __init__(self, cp: ControlPlane) -> None:
        self.cp = cp
        self.started_at = time.time()
        self.app = web.Application(
            middlewares=[self._auth, self._errors], client_max_size=8 * 2**20
        )
        r = self.app.router
        r.add_get("/version", self.version)
        r.add_get("/openapi/v2", self.openapi_v2)
        r.add_get("/api", self.core_versions)
        r.add_get("/api/v1", self.core_resources)
        r.add_get("/apis", self.api_groups)
        r.add_get("/apis/{group}", self.api_group)
        r.add_get("/apis/apps/v1", self.apps_resources)
        # Istio's group and Gateway API's (HTTPRoute), each with its own versions.
        groups = "|".join(g.replace(".", r"\.") for g in GROUP_VERSIONS)
        base = "/apis/{group:" + groups + "}/{version}"
        r.add_get(base, self.istio_resources)
        r.add_get(base + "/{plural}", self.list_istio)
        r.add_route("*", base + "/namespaces/{namespace}/{plural}", self.istio_collection)
        r.add_route("*", base + "/namespaces/{namespace}/{plural}/{name}", self.istio_object)
        r.add_get("/api/v1/namespaces", self.list_namespaces)
        r.add_get("/api/v1/namespaces/{name}", self.get_namespace)
        r.add_get("/api/v1/pods", self.list_pods)
        r.add_get("/api/v1/namespaces/{namespace}/pods", self.list_pods)
        r.add_route("*", "/api/v1/namespaces/{namespace}/pods/{name}", self.pod_object)
        r.add_get("/api/v1/services", self.list_services)
        r.add_get("/api/v1/namespaces/{namespace}/services", self.list_services)
        r.add_get("/api/v1/namespaces/{namespace}/services/{name}", self.get_service)
        r.add_route("*", "/api/v1/namespaces/{namespace}/secrets", self.secret_collection)
        r.add_route("*", "/api/v1/namespaces/{namespace}/secrets/{name}", self.secret_object)
        r.add_get("/chaoskit/v1/proxy-status", self.proxy_status)
        r.add_get("/chaoskit/v1/sync", self.sync)
        r.add_post("/chaoskit/v1/namespaces/{namespace}/pods/{name}/kill", self.kill)
        r.add_post("/chaoskit/v1/namespaces/{namespace}/pods/{name}/restart", self.restart)
        r.add_get("/chaoskit/v1/mesh", self.mesh_info)
        WorkloadRoutes(self)
        EndpointRoutes(self)
        MeshConfigRoutes(self)
        ExecRoutes(self)

    # --- middleware ------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not token or not hmac.compare_digest(token, self.cp.token):
            return _error(401, "Unauthorized", "Unauthorized")
        return await handler(request)

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except StoreError as exc:
            return _error(exc.code, exc.reason, exc.message, exc.details)
        except ChaoskitError as exc:
            return _error(500, "InternalError", str(exc))
        except json.JSONDecodeError as exc:
            return _error(400, "BadRequest", f"request body is not JSON: {exc.msg}")
        except web.HTTPNotFound:
            return _error(404, "NotFound", "the server could not find the requested resource")
        except web.HTTPMethodNotAllowed as exc:
            return _error(405, "MethodNotAllowed", f"{exc.method} is not allowed on {request.path}")

    # --- discovery ---------------------------------------------------------------------------

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "major": "1",
                "minor": "34",
                "gitVersion": "v1.34.0-chaoskit",
                "platform": "linux/amd64",
            }
        )

    async def openapi_v2(self, request: web.Request) -> web.Response:
        # kubectl's client-side validation needs an OpenAPI v2 document before apply, and
        # skips objects the document has no schema for (kubectl/pkg/util/openapi/validation);
        # the empty protobuf message is a valid, empty document. Istio's admission rules
        # still run on the server, as on a cluster.
        return web.Response(body=b"", content_type=discovery.OPENAPI_V2_PROTOBUF)

    async def core_versions(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.core_versions())

    async def core_resources(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.resource_list("v1", discovery.CORE_V1))

    async def api_groups(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.group_list())

    async def api_group(self, request: web.Request) -> web.Response:
        name = request.match_info["group"]
        found = discovery.group(name)
        if found is None:
            raise NotFound(f"the server could not find the requested resource (group {name})")
        return web.json_response(found)

    async def apps_resources(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.resource_list("apps/v1", discovery.APPS_V1))

    async def istio_resources(self, request: web.Request) -> web.Response:
        version = self._version(request)
        group = request.match_info["group"]
        return web.json_response(
            discovery.resource_list(f"{group}/{version}", discovery.istio_resources(version, group))
        )

    # --- lists and tables -------------------------------------------------------------------

    def answer_list(self, request: web.Request, plural: str, body: JsonObject) -> web.Response:
        """A list as asked: filtered by ``fieldSelector`` (``metadata.name``/``namespace``,
        what ``kubectl delete`` and ``kubectl wait`` send), and as a Table for kubectl get."""
        extra = SELECTABLE.get(plural, ())
        items = [i for i in body["items"] if field_selector_matches(request, i, extra)]
        if "as=PartialObjectMetadataList" in request.headers.get("Accept", ""):
            # Metadata only, as the real API server negotiates it (kubernetes
            # staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go,
            # asPartialObjectMetadataList): what `chaoskit mesh snapshot` lists Secrets with.
            return web.json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": body.get("metadata") or {},
                    "items": [
                        {
                            "kind": "PartialObjectMetadata",
                            "apiVersion": "meta.k8s.io/v1",
                            "metadata": i["metadata"],
                        }
                        for i in items
                    ],
                }
            )
        if tables.wants_table(request.headers.get("Accept", "")):
            version = str((body.get("metadata") or {}).get("resourceVersion") or "")
            return web.json_response(
                tables.table(
                    plural, items, version, time.time(), request.query.get("includeObject", "")
                )
            )
        return web.json_response({**body, "items": items})

    def answer_object(self, request: web.Request, plural: str, obj: JsonObject) -> web.Response:
        if tables.wants_table(request.headers.get("Accept", "")):
            version = str(obj["metadata"].get("resourceVersion") or "")
            return web.json_response(
                tables.table(
                    plural, [obj], version, time.time(), request.query.get("includeObject", "")
                )
            )
        return web.json_response(obj)

    # --- Istio objects -------------------------------------------------------------------------

    @staticmethod
    def _version(request: web.Request) -> str:
        version, group = request.match_info["version"], request.match_info["group"]
        if version not in GROUP_VERSIONS[group]:
            raise NotFound(f"the server could not find the requested resource ({group}/{version})")
        return version

    def _kind(self, request: web.Request) -> Kind:
        plural = request.match_info["plural"]
        kind = ISTIO_KINDS.get(plural)
        version, group = request.match_info["version"], request.match_info["group"]
        if kind is None or kind.group != group or version not in ISTIO_VERSIONS[plural]:
            served = sorted(
                p
                for p, versions in ISTIO_VERSIONS.items()
                if version in versions and ISTIO_KINDS[p].group == group
            )
            raise NotFound(
                f"the server could not find the requested resource ({plural}.{group}/{version});"
                f" served at {version}: {', '.join(served)}"
            )
        return kind

    def _as_version(self, obj: JsonObject, version: str) -> JsonObject:
        # One schema for every served version, so conversion only rewrites apiVersion.
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        out = {**obj, "apiVersion": f"{group}/{version}"}
        if obj.get("kind") == "HTTPRoute":
            out["status"] = self._http_route_status(obj)
        return out

    def _http_route_status(self, obj: JsonObject) -> JsonObject:
        """What istiod would have written on the route (route_status.py)."""
        hosts = {s.fqdn for s in self.cp.spec.spec.services}
        for entry in self.cp.store.all(ISTIO_KINDS["serviceentries"]):
            hosts.update((entry.get("spec") or {}).get("hosts") or ())
        created = str((obj.get("metadata") or {}).get("creationTimestamp") or "")
        return http_route_status(obj, hosts, bool(self.cp.ambient_namespaces), created)

    def _list(
        self, request: web.Request, kind: Kind, version: str, items: list[JsonObject]
    ) -> web.Response:
        return self.answer_list(
            request,
            kind.plural,
            {
                "apiVersion": f"{kind.group}/{version}",
                "kind": f"{kind.kind}List",
                "metadata": {"resourceVersion": str(self.cp.store.revision)},
                "items": [self._as_version(i, version) for i in items],
            },
        )

    def _watch_istio(
        self, request: web.Request, kind: Kind, version: str, namespace: str | None
    ) -> Awaitable[web.StreamResponse]:
        """``?watch=true`` on an Istio list, as on the core kinds (``kubectl get vs -w``)."""
        selector = request.query.get("labelSelector")

        def snapshot() -> list[JsonObject]:
            return [
                self._as_version(obj, version)
                for obj in self.cp.store.select(kind, namespace, selector)
                if field_selector_matches(request, obj)
            ]

        return watch.stream(request, snapshot, kind.plural)

    async def list_istio(self, request: web.Request) -> web.StreamResponse:
        version, kind = self._version(request), self._kind(request)
        if watch.wants_watch(request):
            return await self._watch_istio(request, kind, version, None)
        items = self.cp.store.select(kind, None, request.query.get("labelSelector"))
        return self._list(request, kind, version, items)

    async def _body(self, request: web.Request) -> JsonObject:
        body = await request.json()
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        return body

    async def istio_collection(self, request: web.Request) -> web.StreamResponse:
        version, kind = self._version(request), self._kind(request)
        namespace = request.match_info["namespace"]
        store = self.cp.store
        if request.method == "GET" and watch.wants_watch(request):
            return await self._watch_istio(request, kind, version, namespace)
        if request.method == "GET":
            return self._list(
                request,
                kind,
                version,
                store.select(kind, namespace, request.query.get("labelSelector")),
            )
        if request.method == "POST":
            body = await self._body(request)
            if body.get("kind") not in (None, kind.kind):
                raise BadRequest(f"kind {body.get('kind')!r} sent to the {kind.plural} collection")
            created = store.create(kind, namespace, {**body, "kind": kind.kind})
            return web.json_response(self._as_version(created, version), status=201)
        if request.method == "DELETE":
            removed = store.delete_collection(kind, namespace, request.query.get("labelSelector"))
            return self._list(request, kind, version, removed)
        return _error(405, "MethodNotAllowed", f"{request.method} is not allowed on a collection")

    async def istio_object(self, request: web.Request) -> web.Response:
        version, kind = self._version(request), self._kind(request)
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        store = self.cp.store
        if request.method == "GET":
            return self.answer_object(
                request, kind.plural, self._as_version(store.get(kind, namespace, name), version)
            )
        if request.method == "PUT":
            body = await self._body(request)
            return web.json_response(
                self._as_version(store.replace(kind, namespace, name, body), version)
            )
        if request.method == "PATCH":
            ctype = request.content_type
            if ctype not in ("application/merge-patch+json", "application/json"):
                return _error(
                    415,
                    "UnsupportedMediaType",
                    f"patch type {ctype} is not supported; use application/merge-patch+json",
                )
            body = await self._body(request)
            return web.json_response(
                self._as_version(store.patch(kind, namespace, name, body), version)
            )
        if request.method == "DELETE":
            options = await request.json() if request.can_read_body else {}
            preconditions = options.get("preconditions") if isinstance(options, dict) else None
            removed = store.delete(kind, namespace, name, preconditions or None)
            return web.json_response(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {
                        "name": name,
                        "group": kind.group,
                        "kind": kind.plural,
                        "uid": removed["metadata"]["uid"],
                    },
                }
            )
        return _error(405, "MethodNotAllowed", f"{request.method} is not allowed")

    # --- namespaces, services ---------------------------------------------------------------------

    def _namespace_json(self, name: str) -> JsonObject:
        labels = next((n.labels for n in self.cp.spec.spec.namespaces if n.name == name), None)
        if labels is None:
            raise NotFound(f'namespaces "{name}" not found')
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": labels,
                "creationTimestamp": _iso(self.started_at),
            },
            "status": {"phase": "Active"},
        }

    async def list_namespaces(self, request: web.Request) -> web.Response:
        items = [self._namespace_json(n.name) for n in self.cp.spec.spec.namespaces]
        return self.answer_list(
            request,
            "namespaces",
            {"apiVersion": "v1", "kind": "NamespaceList", "metadata": {}, "items": items},
        )

    async def get_namespace(self, request: web.Request) -> web.Response:
        return self.answer_object(
            request, "namespaces", self._namespace_json(request.match_info["name"])
        )

    def _services(self, namespace: str | None) -> list[JsonObject]:
        return [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": s.name,
                    "namespace": s.namespace,
                    "labels": s.labels if s.labels is not None else {"app": s.name},
                    "creationTimestamp": _iso(self.started_at),
                },
                "spec": {
                    "selector": s.effective_selector,
                    "ports": [
                        {
                            "name": p.name,
                            "port": p.port,
                            "targetPort": p.container_port,
                            "protocol": "TCP",
                        }
                        for p in s.ports
                    ],
                    "type": "ClusterIP",
                },
            }
            for s in self.cp.spec.spec.services
            if namespace is None or s.namespace == namespace
        ]

    async def list_services(self, request: web.Request) -> web.Response:
        items = self._services(request.match_info.get("namespace"))
        return self.answer_list(
            request,
            "services",
            {"apiVersion": "v1", "kind": "ServiceList", "metadata": {}, "items": items},
        )

    async def get_service(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        for item in self._services(request.match_info["namespace"]):
            if item["metadata"]["name"] == name:
                return self.answer_object(request, "services", item)
        raise NotFound(f'services "{name}" not found', details={"name": name, "kind": "services"})

    # --- pods -------------------------------------------------------------------------------------

    def _pod_json(self, pod: PodProcess) -> JsonObject:
        ready = self.cp.is_ready(pod)
        started = _iso(pod.started_at)
        state: JsonObject
        if pod.running:
            state = {"running": {"startedAt": started}}
        else:
            state = {
                "terminated": {
                    "exitCode": pod.exit_code if pod.exit_code is not None else 0,
                    "reason": "Error" if pod.exit_code else "Completed",
                    "startedAt": started,
                    "finishedAt": started,
                }
            }
        # Port mode keeps the app's own ports here (the inbound listener and cluster are
        # named by them: inbound|9080||); chaoskit.dev/ports says where each is reached.
        # Where the host publishes a port of this pod (the gateway's ingress ports), the
        # container port carries it as hostPort, reachable at status.hostIP.
        published = {h.listener_port: h.host_port for h in self.cp.host_ports(pod)}
        ports = [
            {"containerPort": p, **({"hostPort": published[p]} if p in published else {})}
            for p in pod.container_ports
        ]
        containers = [{"name": pod.app, "ports": ports}]
        app_state = state
        if pod.app_down:  # SIGKILLed app container, waiting for kubelet's restart
            app_state = {
                "terminated": {
                    "exitCode": 137,
                    "reason": "Error",
                    "startedAt": started,
                    "finishedAt": started,
                }
            }
        statuses = [
            {
                "name": pod.app,
                "ready": ready,
                "restartCount": pod.restart_count,
                "state": app_state,
                "image": f"chaoskit/{pod.app}",
                "imageID": "",
            }
        ]
        init_containers: list[JsonObject] = []
        init_statuses: list[JsonObject] = []
        if pod.kind == "sidecar":
            proxy_status: JsonObject = {
                "name": PROXY_CONTAINER,
                "ready": ready,
                "restartCount": pod.restart_count,
                "state": state,
                "image": "chaoskit/embedded-envoy",
                "imageID": "",
            }
            if self.cp.spec.spec.sidecar_injection == "classic":
                containers.append({"name": PROXY_CONTAINER})
                statuses.append(proxy_status)
            else:
                # Istio's native-sidecar shape: istio-init runs once, istio-proxy restarts
                # with the pod and reports in initContainerStatuses.
                init_containers = [
                    {"name": "istio-init", "image": "chaoskit/embedded-envoy"},
                    {
                        "name": PROXY_CONTAINER,
                        "image": "chaoskit/embedded-envoy",
                        "restartPolicy": "Always",
                    },
                ]
                init_statuses = [
                    {
                        "name": "istio-init",
                        "ready": True,
                        "restartCount": 0,
                        "state": {
                            "terminated": {
                                "exitCode": 0,
                                "reason": "Completed",
                                "startedAt": started,
                                "finishedAt": started,
                            }
                        },
                        "image": "chaoskit/embedded-envoy",
                        "imageID": "",
                    },
                    {**proxy_status, "started": pod.running},
                ]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod.name,
                "namespace": pod.namespace,
                "uid": f"{pod.namespace}/{pod.name}",
                "creationTimestamp": started,
                "labels": pod.labels,
                "annotations": {
                    **pod.annotations,
                    APP_SETTINGS_ANNOTATION: json.dumps(pod.app_settings),
                    # What Istio's injector sets, so `kubectl logs POD` picks the app.
                    "kubectl.kubernetes.io/default-container": pod.app,
                    **(
                        {
                            HOST_PORTS_ANNOTATION: json.dumps(
                                {str(k): v for k, v in pod.ports.items()}
                            )
                        }
                        if pod.ports
                        else {}
                    ),
                },
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": pod.workload,
                        "uid": pod.workload,
                        "controller": True,
                    }
                ],
            },
            "spec": {
                **({"initContainers": init_containers} if init_containers else {}),
                "containers": containers,
                "nodeName": "chaoskit-embedded",
            },
            "status": {
                "phase": pod.phase,
                "podIP": pod.ip,
                "podIPs": [{"ip": pod.ip}],
                "hostIP": "127.0.0.1",
                "startTime": started,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                **({"initContainerStatuses": init_statuses} if init_statuses else {}),
                "containerStatuses": statuses,
            },
        }

    async def list_pods(self, request: web.Request) -> web.StreamResponse:
        namespace = request.match_info.get("namespace")
        selector = request.query.get("labelSelector")

        def snapshot() -> list[JsonObject]:
            return [
                self._pod_json(p)
                for p in sorted(self.cp.pods.values(), key=lambda p: (p.namespace, p.name))
                if (namespace is None or p.namespace == namespace)
                and selector_matches(selector, p.labels)
                and field_selector_matches(request, self._pod_json(p))
            ]

        if watch.wants_watch(request):
            return await watch.stream(request, snapshot, "pods")
        items = snapshot()
        return self.answer_list(
            request,
            "pods",
            {
                "apiVersion": "v1",
                "kind": "PodList",
                "metadata": {"resourceVersion": str(self.cp.store.revision)},
                "items": items,
            },
        )

    async def pod_object(self, request: web.Request) -> web.Response:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        pod = self.cp.pod(namespace, name)
        if request.method == "GET":
            return self.answer_object(request, "pods", self._pod_json(pod))
        if request.method == "PATCH":
            if request.content_type not in POD_PATCH_TYPES:
                return _error(415, "UnsupportedMediaType", unsupported_pod_patch(request))
            current = self._pod_json(pod)
            patched = merge_patch(current, await self._body(request))
            labels = (patched.get("metadata") or {}).get("labels") or {}
            if labels != current["metadata"]["labels"]:
                if not isinstance(labels, dict) or not all(
                    isinstance(v, str) for v in labels.values()
                ):
                    raise BadRequest("metadata.labels must map label names to strings")
                # The cluster backend labels a replica to select it for a replica fault.
                self.cp.relabel_pod(pod, labels)
            annotations = pod_annotations(patched)
            value = annotations.pop(APP_SETTINGS_ANNOTATION, None)
            pod.annotations = annotations  # every other annotation is kept, as a pod's are
            # Deleting the app-settings annotation (`kubectl annotate pod P key-`) returns
            # the app to its mesh-spec settings; the annotation then shows those.
            settings = (
                self.cp.spec_settings(pod) if value is None else settings_from_annotation(value)
            )
            if settings != pod.app_settings:
                self.cp.set_app_settings(pod, settings)
                await self.cp.wait_settings(pod)
            return web.json_response(self._pod_json(pod))
        if request.method == "DELETE":
            old, _ = await self.cp.delete_pod(namespace, name)
            return web.json_response(self._pod_json(old))
        return _error(405, "MethodNotAllowed", f"{request.method} is not allowed on pods")

    # --- secrets --------------------------------------------------------------------------------

    async def secret_collection(self, request: web.Request) -> web.Response:
        namespace = request.match_info["namespace"]
        store = self.cp.store
        if request.method == "GET":
            items = store.select(SECRETS, namespace, request.query.get("labelSelector"))
            return self.answer_list(
                request,
                "secrets",
                {"apiVersion": "v1", "kind": "SecretList", "metadata": {}, "items": items},
            )
        if request.method == "POST":
            body = await self._body(request)
            return web.json_response(store.create(SECRETS, namespace, body), status=201)
        return _error(405, "MethodNotAllowed", f"{request.method} is not allowed")

    async def secret_object(self, request: web.Request) -> web.Response:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        store = self.cp.store
        if request.method == "GET":
            return web.json_response(store.get(SECRETS, namespace, name))
        if request.method == "PUT":
            return web.json_response(
                store.replace(SECRETS, namespace, name, await self._body(request))
            )
        if request.method == "DELETE":
            store.delete(SECRETS, namespace, name)
            return web.json_response(
                {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}
            )
        return _error(405, "MethodNotAllowed", f"{request.method} is not allowed")

    # --- chaoskit extensions -------------------------------------------------------------------

    async def proxy_status(self, request: web.Request) -> web.Response:
        rows = []
        for proxy, pod in sorted(self.cp.pods.items()):
            conn = self.cp.xds.connections.get(proxy)
            if not pod.running and pod.exit_code is not None:
                # istioctl lists only connected proxies; a dead pod must not vanish silently.
                cause = "killed by a fault" if pod.killed_by_chaos else "LOST"
                state = f"NOT RUNNING (exit code {pod.exit_code}, {cause})"
            elif conn is None:
                state = "NOT CONNECTED"
            elif conn.nack:
                state = f"STALE (NACK: {conn.nack})"
            elif conn.synced_version >= self.cp.pushed_version:
                state = "SYNCED"
            else:
                state = "NOT SENT" if conn.sent_version < self.cp.pushed_version else "STALE"
            rows.append(
                {
                    "proxy": proxy,
                    "kind": pod.kind,
                    "state": state,
                    "version": conn.synced_version if conn else None,
                    "acked": conn.acked_version if conn else None,
                    "ip": pod.ip,
                    **({"ports": {str(k): v for k, v in pod.ports.items()}} if pod.ports else {}),
                    "running": pod.running,
                    "lost": not pod.running
                    and not pod.killed_by_chaos
                    and pod.exit_code is not None,
                }
            )
        return web.json_response({"pushedVersion": self.cp.pushed_version, "proxies": rows})

    async def sync(self, request: web.Request) -> web.Response:
        revision = int(request.query.get("minVersion") or self.cp.store.revision)
        timeout = float(request.query.get("timeoutSeconds", "10"))
        synced = await self.cp.wait_synced(revision, timeout)
        return web.json_response({"version": revision, "proxies": synced})

    async def kill(self, request: web.Request) -> web.Response:
        """``?mode=app-crash|pod-deleted|node-lost`` (``endpointDelaySeconds`` overrides how
        long the endpoint stays in EDS); without a mode the whole pod process is SIGKILLed."""
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        mode = request.query.get("mode")
        if mode is not None:
            try:
                check_mode(mode)
                delay_text = request.query.get("endpointDelaySeconds")
                delay = float(delay_text) if delay_text is not None else None
            except ValueError as exc:
                raise BadRequest(f"kill {namespace}/{name}: {exc}") from None
            if delay is not None and delay < 0:
                raise BadRequest(f"kill {namespace}/{name}: endpointDelaySeconds must be >= 0")
            pod = await self.cp.kill_in_mode(namespace, name, mode, delay)
            return web.json_response(self._pod_json(pod))
        pod = self.cp.kill_pod(namespace, name)
        if pod.process is not None:
            await pod.process.wait()
            pod.exit_code = pod.process.returncode
        return web.json_response(self._pod_json(pod))

    async def restart(self, request: web.Request) -> web.Response:
        pod = await self.cp.restart_pod(request.match_info["namespace"], request.match_info["name"])
        return web.json_response(self._pod_json(pod))

    async def mesh_info(self, request: web.Request) -> web.Response:
        return web.json_response(self.cp.describe())
