"""A loopback Kubernetes API server for the contract tests of the cluster backend.

It serves what the embedded mesh's API server does not have and a kind cluster does:
nodes (with ``spec.providerID``, switchable to a cloud provider), Deployments with rollout
status, ``pods/exec`` over the websocket channel protocol (``v5``/``v4.channel.k8s.io``), and
Istio custom objects with resourceVersions, 409 conflicts (stale updates, and deletes whose
``preconditions.resourceVersion`` is not current) and 422 on an update without a
resourceVersion (as the real API server answers for custom resources), and namespaces with
uids (kube-system's tells one cluster from a re-created one). Tests can inject
error statuses and slow answers per method and path.

It runs aiohttp on 127.0.0.1 in a thread of its own and writes a kubeconfig with a bearer
token, so the official ``kubernetes`` client talks to it as to any cluster.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import itertools
import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from tests.contract.upstream import injected_pod, kubelet_status

JsonObject = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ISTIO_GROUP = "networking.istio.io"
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")
KIND_PROVIDER = "kind://docker/chaoskit/chaoskit-control-plane"
CLOUD_PROVIDER = "gce://example-project/europe-west1-b/gke-prod-pool-1"


def status(code: int, reason: str, message: str) -> web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return web.json_response(body, status=code)


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


@dataclass
class Rule:
    """An injected misbehaviour for requests whose method and path match."""

    method: str
    path: re.Pattern[str]
    status: int = 0
    reason: str = ""
    message: str = ""
    delay_s: float = 0.0
    times: int | None = 1  # None: every matching request
    hits: int = 0


@dataclass
class FakeApiServer:
    context: str = "kind-fake"
    token: str = "fake-token"
    provider: str = "kind"  # "kind" or "cloud": what the nodes' providerID says
    # Where the injector puts istio-proxy: "native" (Istio 1.28 on a kubelet >= 1.33, so
    # on kind v1.34) or "classic" (spec.containers).
    sidecar_shape: str = "native"
    rollout_polls: int = 2  # GETs of a Deployment before a change has rolled out
    objects: dict[tuple[str, str, str], JsonObject] = field(default_factory=dict)
    deployments: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    pods: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    # (namespace, pod, container) whose PID 1 has no SIGTERM handler (it ignores the signal)
    term_ignored: set[tuple[str, str, str]] = field(default_factory=set)
    # (namespace, pod, admin path) → what ``pilot-agent request GET <path>`` prints
    admin: dict[tuple[str, str, str], str | Callable[[], str]] = field(default_factory=dict)
    # admin path → the answer of every pod without one of its own (pods made later too)
    admin_default: dict[str, str | Callable[[], str]] = field(default_factory=dict)
    # admin path → the answer for (namespace, pod), for what differs by pod (config_dump)
    admin_by_pod: dict[str, Callable[[str, str], str]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    # (namespace, pod) → [(epoch seconds, line)]: the istio-proxy container's log
    logs: dict[tuple[str, str], list[tuple[float, str]]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    log_since: list[str | None] = field(default_factory=list)  # each pods/log's sinceTime
    before_put: Callable[[str, str, str], None] | None = None
    # namespace → metadata.uid; a re-created cluster has a new kube-system uid
    namespace_uids: dict[str, str] = field(
        default_factory=lambda: {"kube-system": "uid-kube-system-1"}
    )
    # namespace -> labels (e.g. istio-injection=enabled)
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # (namespace, name) -> the ConfigMap (istio-system/istio holds the mesh config)
    configmaps: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    # (namespace, name) -> a Service / a Secret (what `chaoskit mesh snapshot` reads)
    services: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    secrets: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    # (method, path, Accept) of every request: what a test checks content negotiation with
    accepts: list[tuple[str, str, str]] = field(default_factory=list)
    # (namespace, name) -> the DaemonSet (ambient: istio-system/ztunnel)
    daemonsets: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    url: str = ""
    kubeconfig: Path = Path()

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._revision = itertools.count(1000)
        self._pod_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._pending: dict[tuple[str, str], int] = {}

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, directory: Path) -> FakeApiServer:
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as exc:  # surfaced to the starting thread
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-apiserver", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        self.kubeconfig = self.write_kubeconfig(directory / "kubeconfig", self.context, self.url)
        return self

    async def _start_site(self) -> None:
        app = web.Application(middlewares=[self._auth, self._inject])
        self._routes(app.router)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._runner is None:
            return
        runner, self._runner = self._runner, None  # a second stop() does nothing
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def write_kubeconfig(self, path: Path, context: str, server: str) -> Path:
        """A kubeconfig whose context ``context`` points at ``server`` (default: this one)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": server}}],
            "users": [{"name": "tester", "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": "tester"}}],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(config))
        return path

    # --- what tests set up -----------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status_code: int,
        *,
        times: int | None = 1,
        reason: str = "InternalError",
        message: str = "injected failure",
    ) -> Rule:
        rule = Rule(method, re.compile(path), status_code, reason, message, times=times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def slow(self, method: str, path: str, seconds: float, *, times: int | None = None) -> Rule:
        rule = Rule(method, re.compile(path), delay_s=seconds, times=times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def next_version(self) -> str:
        return str(next(self._revision))

    def put_object(self, plural: str, obj: JsonObject) -> JsonObject:
        """Store an Istio object as if someone else had applied it."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta["resourceVersion"] = self.next_version()
        with self._lock:
            self.objects[(plural, meta["namespace"], meta["name"])] = obj
        return obj

    def add_deployment(
        self,
        namespace: str,
        name: str,
        labels: dict[str, str],
        replicas: int = 1,
        container_ports: list[JsonObject] | None = None,
    ) -> JsonObject:
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "generation": 1,
                "resourceVersion": self.next_version(),
                "labels": dict(labels),
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {"containers": [{"name": name, "ports": container_ports or []}]},
                },
            },
            "status": {},
        }
        with self._lock:
            self.deployments[(namespace, name)] = deployment
            self._settle(deployment)
            for _ in range(replicas):
                self.add_pod(namespace, name, labels)
        return deployment

    def add_pod(
        self,
        namespace: str,
        owner: str,
        labels: dict[str, str],
        containers: tuple[str, ...] | None = None,
        *,
        shape: str | None = None,
        pod: JsonObject | None = None,
    ) -> JsonObject:
        """A started pod. Without ``containers`` it is the sidecar injector's own pod in
        ``shape`` (default :attr:`sidecar_shape`), as Istio 1.28 writes it; with them, a
        pod outside the mesh with just those containers."""
        name = f"{owner}-{next(self._pod_ids):05d}"
        if pod is not None:  # given whole (e.g. a waypoint's, from Istio's golden file)
            pod["metadata"].update(name=name, namespace=namespace)
        elif containers is None:
            pod = injected_pod(shape or self.sidecar_shape, namespace, name, labels)
        else:
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
                "spec": {"containers": [{"name": c} for c in containers]},
            }
        pod["metadata"].setdefault("annotations", {})["fake.chaoskit.dev/owner"] = owner
        pod["status"] = kubelet_status(pod, "10.244.0.10")
        with self._lock:
            self.pods[(namespace, name)] = pod
        return pod

    def add_service(
        self,
        namespace: str,
        name: str,
        selector: dict[str, str],
        ports: list[JsonObject],
        **spec: Any,
    ) -> JsonObject:
        """A Service as the API server returns it (a ClusterIP assigned unless given)."""
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": f"uid-svc-{name}",
                "resourceVersion": self.next_version(),
            },
            "spec": {
                "clusterIP": f"10.96.0.{len(self.services) + 10}",
                "type": "ClusterIP",
                "selector": dict(selector),
                "ports": [{"protocol": "TCP", **p} for p in ports],
                **spec,
            },
        }
        with self._lock:
            self.services[(namespace, name)] = service
        return service

    def add_secret(
        self,
        namespace: str,
        name: str,
        data: dict[str, str],
        secret_type: str = "kubernetes.io/tls",
    ) -> JsonObject:
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": secret_type,
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-secret-{name}"},
            "data": dict(data),
        }
        with self._lock:
            self.secrets[(namespace, name)] = secret
        return secret

    def namespace_names(self) -> list[str]:
        """Every namespace something lives in, and those given a uid or labels."""
        with self._lock:
            names = set(self.namespace_uids) | set(self.namespace_labels)
            for keys in (self.deployments, self.pods, self.services, self.secrets):
                names |= {ns for ns, _ in keys}
            names |= {ns for _, ns, _ in self.objects}
        return sorted(names)

    def set_nodes(self, provider: str) -> None:
        self.provider = provider

    # --- middleware --------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return status(401, "Unauthorized", "Unauthorized")
        return await handler(request)

    @web.middleware
    async def _inject(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        with self._lock:
            self.log.append((request.method, request.path))
            self.accepts.append((request.method, request.path, request.headers.get("Accept", "")))
            rule = next(
                (
                    r
                    for r in self.rules
                    if r.method in (request.method, "*")
                    and r.path.search(request.path)
                    and (r.times is None or r.hits < r.times)
                ),
                None,
            )
            if rule is not None:
                rule.hits += 1
        if rule is not None:
            if rule.delay_s:
                await asyncio.sleep(rule.delay_s)
            if rule.status:
                return status(rule.status, rule.reason, rule.message)
        return await handler(request)

    # --- routes ------------------------------------------------------------------------------

    def _routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/version", self._version)
        r.add_get("/api/v1/nodes", self._nodes)
        r.add_get("/api/v1/namespaces", self._list_namespaces)
        r.add_get("/api/v1/namespaces/{name}", self._namespace)
        r.add_get("/api/v1/namespaces/{ns}/services", self._list_services)
        r.add_get("/api/v1/namespaces/{ns}/secrets", self._list_secrets)
        r.add_get("/api/v1/namespaces/{ns}/configmaps/{name}", self._configmap)
        r.add_get("/apis/apps/v1/namespaces/{ns}/daemonsets/{name}", self._daemonset)
        r.add_get("/api/v1/pods", self._list_pods)
        r.add_get("/api/v1/namespaces/{ns}/pods", self._list_pods)
        r.add_get("/api/v1/namespaces/{ns}/pods/{name}/log", self._pod_log)
        r.add_route("*", "/api/v1/namespaces/{ns}/pods/{name}", self._pod)
        r.add_get("/api/v1/namespaces/{ns}/pods/{name}/exec", self._exec)
        r.add_get("/apis/apps/v1/namespaces/{ns}/deployments", self._list_deployments)
        r.add_route("*", "/apis/apps/v1/namespaces/{ns}/deployments/{name}", self._deployment)
        base = "/apis/" + ISTIO_GROUP + "/{version}"
        r.add_get(base + "/{plural}", self._list_all_istio)
        r.add_route("*", base + "/namespaces/{ns}/{plural}", self._istio_collection)
        r.add_route("*", base + "/namespaces/{ns}/{plural}/{name}", self._istio_object)

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "34", "gitVersion": "v1.34.3"})

    async def _nodes(self, request: web.Request) -> web.Response:
        provider = KIND_PROVIDER if self.provider == "kind" else CLOUD_PROVIDER
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "chaoskit-control-plane"},
            "spec": {"providerID": provider},
        }
        return web.json_response({"kind": "NodeList", "apiVersion": "v1", "items": [node]})

    async def _namespace(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        metadata: JsonObject = {"name": name, "labels": dict(self.namespace_labels.get(name, {}))}
        if name in self.namespace_uids:
            metadata["uid"] = self.namespace_uids[name]
        return web.json_response({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})

    def _namespace_object(self, name: str) -> JsonObject:
        metadata: JsonObject = {"name": name, "labels": dict(self.namespace_labels.get(name, {}))}
        if name in self.namespace_uids:
            metadata["uid"] = self.namespace_uids[name]
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}

    async def _list_namespaces(self, request: web.Request) -> web.Response:
        items = [self._namespace_object(n) for n in self.namespace_names()]
        return web.json_response({"kind": "NamespaceList", "apiVersion": "v1", "items": items})

    async def _list_services(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        with self._lock:
            items = [copy.deepcopy(v) for (sns, _), v in sorted(self.services.items()) if sns == ns]
        return web.json_response({"kind": "ServiceList", "apiVersion": "v1", "items": items})

    async def _list_secrets(self, request: web.Request) -> web.Response:
        """Full Secrets, or their metadata only when the client asks for a
        PartialObjectMetadataList in Accept, as the real API server negotiates it."""
        ns = request.match_info["ns"]
        selector = request.query.get("fieldSelector", "")
        # A Secret's type is one of its field labels (kubernetes pkg/registry/core/secret).
        wanted = selector.removeprefix("type=") if selector.startswith("type=") else None
        if selector and wanted is None:
            return status(400, "BadRequest", f'field label not supported: "{selector}"')
        with self._lock:
            items = [
                copy.deepcopy(v)
                for (sns, _), v in sorted(self.secrets.items())
                if sns == ns and wanted in (None, v.get("type"))
            ]
        if "as=PartialObjectMetadataList" in request.headers.get("Accept", ""):
            partial = [
                {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": i["metadata"],
                }
                for i in items
            ]
            return web.json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {},
                    "items": partial,
                }
            )
        return web.json_response({"kind": "SecretList", "apiVersion": "v1", "items": items})

    async def _daemonset(self, request: web.Request) -> web.Response:
        key = (request.match_info["ns"], request.match_info["name"])
        with self._lock:
            found = copy.deepcopy(self.daemonsets.get(key))
        if found is None:
            return status(404, "NotFound", f'daemonsets.apps "{key[1]}" not found')
        return web.json_response(found)

    async def _configmap(self, request: web.Request) -> web.Response:
        key = (request.match_info["ns"], request.match_info["name"])
        with self._lock:
            found = copy.deepcopy(self.configmaps.get(key))
        if found is None:
            return status(404, "NotFound", f'configmaps "{key[1]}" not found')
        return web.json_response(found)

    # --- pods -----------------------------------------------------------------------------

    async def _list_pods(self, request: web.Request) -> web.Response:
        ns = request.match_info.get("ns")
        selector = request.query.get("labelSelector", "")
        with self._lock:
            items = [
                copy.deepcopy(p)
                for (pns, _), p in sorted(self.pods.items())
                if ns in (None, pns) and selector_matches(selector, p["metadata"]["labels"])
            ]
        return web.json_response({"kind": "PodList", "apiVersion": "v1", "items": items})

    async def _pod(self, request: web.Request) -> web.Response:
        key = (request.match_info["ns"], request.match_info["name"])
        with self._lock:
            pod = self.pods.get(key)
            if pod is None:
                return status(404, "NotFound", f'pods "{key[1]}" not found')
            if request.method == "GET":
                return web.json_response(pod)
            if request.method == "PATCH":
                patch = json.loads(await request.text())
                labels = pod["metadata"].setdefault("labels", {})
                for name, value in (patch.get("metadata", {}).get("labels") or {}).items():
                    if value is None:  # JSON merge patch: null removes the key
                        labels.pop(name, None)
                    else:
                        labels[name] = value
                return web.json_response(pod)
            if request.method == "DELETE":
                del self.pods[key]
                owner = pod["metadata"]["annotations"]["fake.chaoskit.dev/owner"]
                if (key[0], owner) in self.deployments:
                    self.add_pod(key[0], owner, pod["metadata"]["labels"])  # the ReplicaSet
                return web.json_response(pod)
        return status(405, "MethodNotAllowed", request.method)

    async def _pod_log(self, request: web.Request) -> web.Response:
        """``kubectl logs --timestamps``: RFC 3339 (nanoseconds) then the line; ``sinceTime``
        counts whole seconds, as the real API does."""
        key = (request.match_info["ns"], request.match_info["name"])
        if request.query.get("container") not in (None, "istio-proxy"):
            return status(400, "BadRequest", "container not found")
        since = request.query.get("sinceTime")
        self.log_since.append(since)
        floor = (
            datetime.datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp()
            if since
            else 0.0
        )
        with self._lock:
            if key not in self.pods:
                return status(404, "NotFound", f'pods "{key[1]}" not found')
            lines = list(self.logs.get(key, []))
        out = []
        for when, line in lines:
            if when < floor:
                continue
            moment = datetime.datetime.fromtimestamp(when, datetime.UTC)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}123Z"
            out.append(f"{stamp} {line}\n" if request.query.get("timestamps") else line + "\n")
        return web.Response(text="".join(out), content_type="text/plain")

    async def _exec(self, request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["ns"], request.match_info["name"]
        command = request.query.getall("command", [])
        container = request.query.get("container", "")
        with self._lock:
            pod = self.pods.get((ns, name))
        if pod is None:
            return status(404, "NotFound", f'pods "{name}" not found')
        # The API server accepts any container of the pod, init containers too
        # (kubernetes pkg/registry/core/pod/strategy.go, podHasContainerWithName).
        spec = pod["spec"]
        containers = [c["name"] for c in spec["containers"] + spec.get("initContainers", [])]
        if container and container not in containers:
            return status(400, "BadRequest", f"container {container} is not valid for pod {name}")
        ws = web.WebSocketResponse(protocols=("v5.channel.k8s.io", "v4.channel.k8s.io"))
        await ws.prepare(request)
        stdout, stderr, code = self._run(ns, name, command, container)
        for start in range(0, len(stdout), 4096):  # several frames, as a real server sends
            await ws.send_bytes(b"\x01" + stdout[start : start + 4096].encode())
        if stderr:
            await ws.send_bytes(b"\x02" + stderr.encode())
        if code == 0:
            outcome: JsonObject = {"metadata": {}, "status": "Success"}
        else:
            outcome = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: exit code {code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
            }
        await ws.send_bytes(b"\x03" + json.dumps(outcome).encode())
        await ws.close()
        return ws

    def _run(self, ns: str, pod: str, command: list[str], container: str) -> tuple[str, str, int]:
        if command == ["/bin/sh", "-c", "kill -s TERM 1"]:
            return self._sigterm_pid1(ns, pod, container)
        if command[:3] != ["pilot-agent", "request", "GET"] or len(command) != 4:
            return "", f"exec: {' '.join(command)}: not found in the fake\n", 127
        with self._lock:
            answer = self.admin.get((ns, pod, command[3]), self.admin_default.get(command[3]))
            by_pod = self.admin_by_pod.get(command[3])
        if by_pod is not None and (ns, pod, command[3]) not in self.admin:
            return by_pod(ns, pod), "", 0
        if answer is None:
            return "", f"Error: 404 {command[3]}\n", 1
        return (answer() if callable(answer) else answer), "", 0

    def _sigterm_pid1(self, ns: str, pod: str, container: str) -> tuple[str, str, int]:
        """PID 1 exits on SIGTERM (exit code 143) unless it ignores it; the kubelet then
        restarts the container (restartPolicy Always): restartCount + 1, lastState
        terminated, as ``kubectl get pod -o yaml`` shows after a crash."""
        if (ns, pod, container) in self.term_ignored:
            return "", "", 0
        with self._lock:
            for status in self.pods[(ns, pod)]["status"]["containerStatuses"]:
                if status["name"] == container:
                    status["restartCount"] += 1
                    status["lastState"] = {"terminated": {"exitCode": 143, "reason": "Error"}}
        return "", "", 137  # the shell died with its container

    # --- Deployments ------------------------------------------------------------------------

    def _settle(self, deployment: JsonObject) -> None:
        want = int(deployment["spec"].get("replicas", 1))
        deployment["status"] = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": want,
            "updatedReplicas": want,
            "readyReplicas": want,
            "availableReplicas": want,
        }

    def _advance(self, key: tuple[str, str], deployment: JsonObject) -> None:
        left = self._pending.get(key, 0)
        if left > 1:
            self._pending[key] = left - 1
        elif left == 1:
            self._pending.pop(key)
            self._settle(deployment)

    async def _list_deployments(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        with self._lock:
            items = [copy.deepcopy(d) for (dns, _), d in self.deployments.items() if dns == ns]
        return web.json_response(
            {"kind": "DeploymentList", "apiVersion": "apps/v1", "items": items}
        )

    async def _deployment(self, request: web.Request) -> web.Response:
        key = (request.match_info["ns"], request.match_info["name"])
        body = await request.json() if request.method == "PATCH" else None
        with self._lock:
            deployment = self.deployments.get(key)
            if deployment is None:
                return status(404, "NotFound", f'deployments.apps "{key[1]}" not found')
            if request.method == "GET":
                self._advance(key, deployment)
                return web.json_response(copy.deepcopy(deployment))
            if request.method == "PATCH":
                if request.content_type != "application/merge-patch+json":
                    return status(415, "UnsupportedMediaType", request.content_type)
                replicas = (body.get("spec") or {}).get("replicas")
                if replicas is not None and replicas != deployment["spec"]["replicas"]:
                    deployment["spec"]["replicas"] = replicas
                    deployment["metadata"]["generation"] += 1
                    deployment["status"]["observedGeneration"] = (
                        deployment["metadata"]["generation"] - 1
                    )
                    self._pending[key] = self.rollout_polls
                    owned = [
                        k
                        for k, p in self.pods.items()
                        if k[0] == key[0]
                        and p["metadata"]["annotations"]["fake.chaoskit.dev/owner"] == key[1]
                    ]
                    for extra in owned[replicas:]:
                        del self.pods[extra]
                    labels = deployment["spec"]["template"]["metadata"]["labels"]
                    for _ in range(replicas - len(owned)):
                        self.add_pod(key[0], key[1], labels)
                deployment["metadata"]["resourceVersion"] = self.next_version()
                return web.json_response(copy.deepcopy(deployment))
        return status(405, "MethodNotAllowed", request.method)

    # --- Istio custom objects ---------------------------------------------------------------

    @staticmethod
    def _check_version(request: web.Request) -> web.Response | None:
        if request.match_info["version"] not in ISTIO_VERSIONS:
            return status(404, "NotFound", "the server could not find the requested resource")
        return None

    def _served(self, obj: JsonObject, version: str) -> JsonObject:
        return {**copy.deepcopy(obj), "apiVersion": f"{ISTIO_GROUP}/{version}"}

    async def _list_all_istio(self, request: web.Request) -> web.Response:
        if (bad := self._check_version(request)) is not None:
            return bad
        return self._list(request, None)

    def _list(self, request: web.Request, ns: str | None) -> web.Response:
        plural, version = request.match_info["plural"], request.match_info["version"]
        selector = request.query.get("labelSelector", "")
        with self._lock:
            items = [
                self._served(o, version)
                for (p, ons, _), o in sorted(self.objects.items())
                if p == plural
                and (ns is None or ons == ns)
                and selector_matches(selector, o["metadata"].get("labels") or {})
            ]
        return web.json_response({"apiVersion": f"{ISTIO_GROUP}/{version}", "items": items})

    async def _istio_collection(self, request: web.Request) -> web.Response:
        if (bad := self._check_version(request)) is not None:
            return bad
        ns, plural, version = (
            request.match_info["ns"],
            request.match_info["plural"],
            request.match_info["version"],
        )
        if request.method == "GET":
            return self._list(request, ns)
        if request.method != "POST":
            return status(405, "MethodNotAllowed", request.method)
        body = await request.json()
        name = body["metadata"]["name"]
        with self._lock:
            if (plural, ns, name) in self.objects:
                return status(
                    409, "AlreadyExists", f'{plural}.{ISTIO_GROUP} "{name}" already exists'
                )
            meta = body["metadata"]
            meta.pop("resourceVersion", None)
            meta.update(namespace=ns, uid=f"uid-{name}-{self.next_version()}", generation=1)
            meta["creationTimestamp"] = "2026-01-01T00:00:00Z"
            meta["resourceVersion"] = self.next_version()
            self.objects[(plural, ns, name)] = body
            return web.json_response(self._served(body, version), status=201)

    async def _istio_object(self, request: web.Request) -> web.Response:
        if (bad := self._check_version(request)) is not None:
            return bad
        ns, plural, name, version = (
            request.match_info["ns"],
            request.match_info["plural"],
            request.match_info["name"],
            request.match_info["version"],
        )
        key = (plural, ns, name)
        body = (
            await request.json()
            if request.method == "PUT" or (request.method == "DELETE" and request.can_read_body)
            else None
        )
        if request.method == "PUT" and self.before_put is not None:
            self.before_put(plural, ns, name)
        with self._lock:
            current = self.objects.get(key)
            if current is None:
                return status(404, "NotFound", f'{plural}.{ISTIO_GROUP} "{name}" not found')
            if request.method == "GET":
                return web.json_response(self._served(current, version))
            if request.method == "DELETE":
                wanted = ((body or {}).get("preconditions") or {}).get("resourceVersion")
                if wanted and wanted != current["metadata"]["resourceVersion"]:
                    return status(
                        409,
                        "Conflict",
                        f"Precondition failed: ResourceVersion in precondition: {wanted}, "
                        f"ResourceVersion in object meta: {current['metadata']['resourceVersion']}",
                    )
                del self.objects[key]
                return web.json_response(
                    {"kind": "Status", "apiVersion": "v1", "status": "Success"}
                )
            if request.method == "PUT":
                assert body is not None
                sent = body.get("metadata", {}).get("resourceVersion")
                if not sent:
                    return status(
                        422,
                        "Invalid",
                        f'{plural}.{ISTIO_GROUP} "{name}" is invalid: metadata.resourceVersion: '
                        "Invalid value: 0x0: must be specified for an update",
                    )
                if sent != current["metadata"]["resourceVersion"]:
                    return status(
                        409,
                        "Conflict",
                        f'Operation cannot be fulfilled on {plural}.{ISTIO_GROUP} "{name}": the '
                        "object has been modified; please apply your changes to the latest "
                        "version and try again",
                    )
                meta = body["metadata"]
                old = current["metadata"]
                for field_name in ("uid", "creationTimestamp"):
                    meta[field_name] = old[field_name]
                meta["namespace"] = ns
                meta["generation"] = old["generation"] + (
                    0 if body.get("spec") == current.get("spec") else 1
                )
                meta["resourceVersion"] = self.next_version()
                self.objects[key] = body
                return web.json_response(self._served(body, version))
        return status(405, "MethodNotAllowed", request.method)
