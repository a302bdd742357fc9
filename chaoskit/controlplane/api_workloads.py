"""Deployments (with ``scale``), Nodes and ``pods/log``: the rest of what kubectl and the
cluster backend read on a cluster, served by the embedded mesh.

Each workload of the mesh spec is a Deployment; scaling it adds or removes pods as the
Deployment controller would. The one Node is the loopback host; its ``providerID`` uses the
``chaoskit://`` scheme so that nothing mistakes it for a kind or cloud node. ``pods/log`` for
``istio-proxy`` is the sidecar's access log as JSON lines with the keys of the
``accessLogFormat`` that ``chaoskit cluster up`` configures on kind; for the app container
it is the pod process's own output.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from chaoskit.controlplane import watch
from chaoskit.controlplane.pod_patch import POD_PATCH_TYPES
from chaoskit.controlplane.pods import PodProcess
from chaoskit.controlplane.selectors import field_selector_matches
from chaoskit.controlplane.store import BadRequest, JsonObject, NotFound
from chaoskit.mesh.bootstrap import ADMIN_PORT
from chaoskit.mesh.envoy_format import line_for

if TYPE_CHECKING:
    from chaoskit.controlplane.api import KubeApi

NODE_NAME = "chaoskit-embedded"
PROVIDER_ID = "chaoskit://embedded"
KUBELET_VERSION = "v1.34.0-chaoskit"
SIDECAR = "istio-proxy"
# Our access records carry bookkeeping the Envoy format has no command for.

ISTIOD = ("istio-system", "istiod")


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _nano(ts: float) -> str:
    moment = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


async def all_records(page: Callable[[int], Awaitable[JsonObject]]) -> list[JsonObject]:
    """Every record the sidecar still holds: its admin endpoint answers a page at a time
    (the oldest after ``since``), and ``kubectl logs`` shows the whole log, newest included."""
    records: list[JsonObject] = []
    seq = 0
    while True:
        data = await page(seq)
        batch = list(data.get("records") or [])
        records += batch
        if not batch or int(batch[-1].get("seq", 0)) >= int(data.get("last", 0)):
            return records
        seq = int(batch[-1]["seq"])


def log_since(query: Mapping[str, str], now: float) -> float | None:
    """The moment ``pods/log`` shows lines from (epoch seconds), or ``None`` for all.

    As the kubelet reads ``PodLogOptions`` (``NewLogOptions`` and ``logWriter.write`` in
    kubernetes/kubernetes pkg/kubelet/kuberuntime/logs/logs.go @ 04791b49): ``sinceSeconds``
    counts back from now, ``sinceTime`` is RFC 3339, and a line older than that is skipped.
    The API server accepts only one of the two (``ValidatePodLogOptions``).
    """
    seconds, moment = query.get("sinceSeconds"), query.get("sinceTime")
    if seconds is not None and moment is not None:
        raise BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if seconds is not None:
        try:
            count = int(seconds)
        except ValueError:
            raise BadRequest(f"sinceSeconds must be an integer, got {seconds!r}") from None
        if count < 1:
            raise BadRequest(f"sinceSeconds: Invalid value: {count}: must be greater than 0")
        return now - count
    if moment is not None:
        try:
            parsed = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(
                f"sinceTime must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got {moment!r}"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed.timestamp()
    return None


class WorkloadRoutes:
    def __init__(self, api: KubeApi) -> None:
        self.api = api
        self.cp = api.cp
        self.generations: dict[tuple[str, str], int] = {}
        r = api.app.router
        base = "/apis/apps/v1"
        r.add_get(base + "/deployments", self.list_deployments)
        r.add_get(base + "/namespaces/{namespace}/deployments", self.list_deployments)
        r.add_get(base + "/namespaces/{namespace}/deployments/{name}", self.get_deployment)
        r.add_patch(base + "/namespaces/{namespace}/deployments/{name}", self.patch_deployment)
        r.add_route("*", base + "/namespaces/{namespace}/deployments/{name}/scale", self.scale)
        r.add_get("/api/v1/nodes", self.list_nodes)
        r.add_get("/api/v1/nodes/{name}", self.get_node)
        r.add_get("/api/v1/namespaces/{namespace}/pods/{name}/log", self.pod_log)

    # --- deployments ------------------------------------------------------------------------

    def _deployment_json(self, workload: Any) -> JsonObject:
        key = (workload.namespace, workload.name)
        generation = self.generations.get(key, 1)
        pods = self.cp.replicas(workload.name, workload.namespace)
        ready = sum(1 for p in pods if self.cp.is_ready(p))
        labels = dict(workload.labels)
        containers = [{"name": workload.app.name, "image": f"chaoskit/{workload.app.name}"}]
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": workload.name,
                "namespace": workload.namespace,
                "uid": f"{workload.namespace}/{workload.name}",
                "labels": labels,
                "generation": generation,
                "resourceVersion": str(self.cp.store.revision),
                "creationTimestamp": _iso(self.api.started_at),
            },
            "spec": {
                "replicas": len(pods),
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
            },
            "status": {
                "observedGeneration": generation,
                "replicas": len(pods),
                "updatedReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "conditions": [
                    {
                        "type": "Available",
                        "status": "True" if ready == len(pods) else "False",
                        "reason": "MinimumReplicasAvailable",
                    },
                    {
                        "type": "Progressing",
                        "status": "True",
                        "reason": "NewReplicaSetAvailable",
                    },
                ],
            },
        }

    def _istiod_json(self) -> JsonObject:
        """The control plane as the Deployment ``istioctl install`` creates: the embedded
        control plane process itself (no pod object), its image tagged with the emulated
        release, which is what ``chaoskit cluster doctor`` compares with the pin."""
        version = self.cp.compat.istio_version
        image = f"docker.io/istio/pilot:{version}"  # a patch release: 1.28 reads 1.28.10
        namespace, name = ISTIOD
        labels = {"app": "istiod", "istio": "pilot"}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": f"{namespace}/{name}",
                "labels": labels,
                "generation": 1,
                "resourceVersion": str(self.cp.store.revision),
                "creationTimestamp": _iso(self.api.started_at),
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "discovery", "image": image}]},
                },
            },
            "status": {
                "observedGeneration": 1,
                "replicas": 1,
                "updatedReplicas": 1,
                "readyReplicas": 1,
                "availableReplicas": 1,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}
                ],
            },
        }

    def _workloads(self, namespace: str | None) -> list[Any]:
        return [w for w in self.cp.workloads if namespace is None or w.namespace == namespace]

    def _workload(self, request: web.Request) -> Any:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        for workload in self._workloads(namespace):
            if workload.name == name:
                return workload
        raise NotFound(
            f'deployments.apps "{name}" not found',
            details={"name": name, "group": "apps", "kind": "deployments"},
        )

    async def list_deployments(self, request: web.Request) -> web.StreamResponse:
        namespace = request.match_info.get("namespace")

        def snapshot() -> list[JsonObject]:
            found = [self._deployment_json(w) for w in self._workloads(namespace)]
            if namespace in (None, ISTIOD[0]):
                found.append(self._istiod_json())
            return [d for d in found if field_selector_matches(request, d)]

        if watch.wants_watch(request):
            return await watch.stream(request, snapshot, "deployments")
        items = snapshot()
        body = {
            "apiVersion": "apps/v1",
            "kind": "DeploymentList",
            "metadata": {"resourceVersion": str(self.cp.store.revision)},
            "items": items,
        }
        return self.api.answer_list(request, "deployments", body)

    async def get_deployment(self, request: web.Request) -> web.Response:
        key = (request.match_info["namespace"], request.match_info["name"])
        if key == ISTIOD:
            return self.api.answer_object(request, "deployments", self._istiod_json())
        deployment = self._deployment_json(self._workload(request))
        return self.api.answer_object(request, "deployments", deployment)

    async def patch_deployment(self, request: web.Request) -> web.Response:
        """A merge (or strategic merge) PATCH of the Deployment that sets ``spec.replicas``,
        as a client scales on a real cluster without the ``scale`` subresource. The rest of
        a Deployment comes from the mesh spec, so any other field is refused by name."""
        workload = self._workload(request)
        if request.content_type not in POD_PATCH_TYPES:
            raise BadRequest(
                f"patch type {request.content_type} is not supported on deployments of the "
                "embedded mesh; send a merge patch or a strategic merge patch"
            )
        body = await request.json()
        spec = (body or {}).get("spec") if isinstance(body, dict) else None
        others = sorted(set(body or {}) - {"spec"}) + sorted(
            f"spec.{key}" for key in (spec or {}) if key != "replicas"
        )
        if others or not isinstance(spec, dict) or "replicas" not in spec:
            raise BadRequest(
                "the embedded mesh patches only spec.replicas of a Deployment (its pods come "
                f"from the mesh spec); this patch sets {', '.join(others) or 'no spec.replicas'}"
            )
        await self._set_replicas(workload, spec["replicas"])
        deployment = self._deployment_json(workload)
        return self.api.answer_object(request, "deployments", deployment)

    async def _set_replicas(self, workload: Any, replicas: Any) -> None:
        if not isinstance(replicas, int) or isinstance(replicas, bool) or not 0 <= replicas <= 64:
            raise BadRequest(
                f"spec.replicas must be an integer from 0 to 64 (the mesh spec's bound), "
                f"got {replicas!r}"
            )
        key = (workload.namespace, workload.name)
        if replicas != len(self.cp.replicas(workload.name, workload.namespace)):
            self.generations[key] = self.generations.get(key, 1) + 1
            await self.cp.scale(workload.name, workload.namespace, replicas)

    def _scale_json(self, workload: Any) -> JsonObject:
        replicas = len(self.cp.replicas(workload.name, workload.namespace))
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                "name": workload.name,
                "namespace": workload.namespace,
                "resourceVersion": str(self.cp.store.revision),
            },
            "spec": {"replicas": replicas},
            "status": {
                "replicas": replicas,
                "selector": ",".join(f"{k}={v}" for k, v in sorted(workload.labels.items())),
            },
        }

    async def scale(self, request: web.Request) -> web.Response:
        """``deployments/scale``: GET, and PUT or merge PATCH of ``spec.replicas``."""
        workload = self._workload(request)
        if request.method == "GET":
            return web.json_response(self._scale_json(workload))
        if request.method not in ("PUT", "PATCH"):
            raise BadRequest(f"{request.method} is not allowed on deployments/scale")
        body = await request.json()
        await self._set_replicas(workload, ((body or {}).get("spec") or {}).get("replicas"))
        return web.json_response(self._scale_json(workload))

    # --- nodes ------------------------------------------------------------------------------

    def _node_json(self) -> JsonObject:
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "uid": NODE_NAME,
                "labels": {
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "node-role.kubernetes.io/control-plane": "",
                },
                "creationTimestamp": _iso(self.api.started_at),
            },
            "spec": {"providerID": PROVIDER_ID},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "nodeInfo": {"kubeletVersion": KUBELET_VERSION, "operatingSystem": "linux"},
            },
        }

    async def list_nodes(self, request: web.Request) -> web.Response:
        body = {
            "apiVersion": "v1",
            "kind": "NodeList",
            "metadata": {},
            "items": [self._node_json()],
        }
        return self.api.answer_list(request, "nodes", body)

    async def get_node(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name != NODE_NAME:
            raise NotFound(f'nodes "{name}" not found', details={"name": name, "kind": "nodes"})
        return self.api.answer_object(request, "nodes", self._node_json())

    # --- pods/log ---------------------------------------------------------------------------

    async def pod_log(self, request: web.Request) -> web.Response:
        pod = self.cp.pod(request.match_info["namespace"], request.match_info["name"])
        names = [pod.app] + ([SIDECAR] if pod.kind == "sidecar" else [])
        container = request.query.get("container") or (names[0] if len(names) == 1 else "")
        if not container:
            raise BadRequest(
                f"a container name must be specified for pod {pod.name}, choose one of: "
                f"[{' '.join(names)}]"
            )
        if container not in names:
            raise BadRequest(
                f"container {container} is not valid for pod {pod.name}; choose one of: "
                f"[{' '.join(names)}]"
            )
        since = log_since(request.query, time.time())
        tail = request.query.get("tailLines")
        if container == SIDECAR:
            # The kubelet takes the tail first and then drops the lines before `since`, so
            # only without a tail may the sidecar leave the older records out.
            lines = await self._access_log(pod, since if tail is None else None)
        else:
            lines = self._process_log(pod)
        if tail is not None:
            try:
                count = int(tail)
            except ValueError:
                raise BadRequest(f"tailLines must be an integer, got {tail!r}") from None
            lines = lines[-count:] if count > 0 else []
        if since is not None:
            lines = [(ts, text) for ts, text in lines if ts >= since]
        if request.query.get("timestamps") == "true":
            lines = [(ts, f"{_nano(ts)} {text}") for ts, text in lines]
        text = "".join(f"{line}\n" for _, line in lines)
        return web.Response(text=text, content_type="text/plain")

    async def _access_log(
        self, pod: PodProcess, since: float | None = None
    ) -> list[tuple[float, str]]:
        """The sidecar's records from its admin endpoint (fresher than its buffered file),
        those started at or after ``since`` when given."""
        if not pod.running:
            return self._access_file(pod)
        after = f"fromTs={since!r}&" if since is not None else ""
        base = f"http://{pod.ip}:{pod.host_port(ADMIN_PORT)}/chaoskit/access_log?{after}since="
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def page(seq: int) -> JsonObject:
                async with session.get(f"{base}{seq}") as reply:
                    return dict(await reply.json())

            records = await all_records(page)
        return [self._envoy_line(record) for record in records]

    def _access_file(self, pod: PodProcess) -> list[tuple[float, str]]:
        path = self.cp.options.state_dir / "logs" / f"{pod.name}.{pod.namespace}.access.jsonl"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        lines = []
        for line in text.splitlines():
            try:
                lines.append(self._envoy_line(json.loads(line)))
            except ValueError:
                continue
        return lines

    def _envoy_line(self, record: JsonObject) -> tuple[float, str]:
        """The line Envoy would have written for ``record`` under the mesh config in force
        when the request started (typed JSON with nulls, or text; envoy_format.py)."""
        started = float(record.get("start_ts") or 0.0)
        return started, line_for(self.cp.mesh_config.at(started), record)

    def _process_log(self, pod: PodProcess) -> list[tuple[float, str]]:
        if pod.log_path is None:
            return []
        try:
            text = pod.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        stamp = pod.started_at
        return [(stamp, line) for line in text.splitlines()]
