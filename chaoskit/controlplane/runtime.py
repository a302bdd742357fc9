"""The control plane at run time: store, pods, compile-and-push, and sync tracking."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import os
import secrets as token_source
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from chaoskit.controlplane.address_mode import PORT_MODE, resolve_address_mode
from chaoskit.controlplane.addresses import AddressBlock
from chaoskit.controlplane.certificates import tls_secret
from chaoskit.controlplane.compat import compat_for
from chaoskit.controlplane.compiler import Compiler
from chaoskit.controlplane.kills import APP_CRASH, NODE_LOST, default_endpoint_delay
from chaoskit.controlplane.kinds import ISTIO_KINDS, SECRETS
from chaoskit.controlplane.meshconfig import MeshConfigHistory, bootstrap_stats_matcher
from chaoskit.controlplane.model import (
    MeshState,
    Ordered,
    PodView,
    PortView,
    ServiceView,
    TlsSecret,
)
from chaoskit.controlplane.pods import PodProcess, PodRunner, pod_name
from chaoskit.controlplane.port_block import PortBlock
from chaoskit.controlplane.store import (
    AdmissionDenied,
    Invalid,
    JsonObject,
    Kind,
    NotFound,
    ObjectStore,
)
from chaoskit.controlplane.xds_server import XdsServer
from chaoskit.errors import ConfigError, EmulatorError, ReadinessTimeout
from chaoskit.istio.loading import load_document
from chaoskit.istio.resources import (
    LOADABLE_TYPES,
    DestinationRule,
    EnvoyFilter,
    Gateway,
    GatewayHTTPRoute,
    IstioResource,
    ServiceEntry,
    VirtualService,
)
from chaoskit.istio.yaml_source import YamlDocument
from chaoskit.mesh.apps.base import AppContext, AppSettingsError, create_app
from chaoskit.mesh.bootstrap import ADMIN_PORT, Bootstrap, HostPort
from chaoskit.mesh.delta import meta_text, resource_texts
from chaoskit.topology.ambient import (
    REDIRECTION_ANNOTATION,
    WAYPOINT_APP,
    ZTUNNEL_APP,
    ZTUNNEL_OUTBOUND_PORT,
    all_workloads,
    ambient_namespaces,
    service_waypoints,
    waypoint_for,
)
from chaoskit.topology.spec import MeshSpec

APP_SETTINGS_ANNOTATION = "chaoskit.dev/app-settings"
# Kinds that change routes but no cluster (Envoy's RDS/LDS, not CDS/EDS)
_ROUTING_ONLY = frozenset({"virtualservices", "gateways", "httproutes"})
T = TypeVar("T", bound=IstioResource)
GATEWAY_APP = "ingress-gateway"


@dataclass(frozen=True, slots=True)
class MeshOptions:
    state_dir: Path
    ingress_http_port: int = 0  # 0: pick a free port
    ingress_https_port: int = 0
    seed: int = 0
    address_block: int | None = None
    address_mode: str | None = None  # ip | port | auto; None: the environment's, else auto


def validate_istio(kind: Kind, body: JsonObject) -> None:
    """What a cluster checks before it stores an Istio object, answered as it answers.

    Two stages refuse an object, with different answers (both in chaoskit's rule set, the
    one ``chaoskit analyze`` uses):

    - the CRD's schema (types, enums, unknown fields, its CEL rules such as durations): the
      API server's own 422 ``Invalid``, ``<Kind>.<group> "<name>" is invalid: ...``, with one
      cause per field;
    - Istio's validating webhook (every other rule): istiod answers ``configuration is
      invalid: ...`` with no code or reason (istio/istio 1.28.10
      ``pkg/webhooks/validation/server/server.go``), and the API server turns a denial into
      a 400 ``Failure`` whose message is ``admission webhook "validation.istio.io" denied the
      request: ...``, keeping the empty reason (kubernetes/apiserver v0.34.0
      ``pkg/admission/plugin/webhook/errors/statuserror.go``). kubectl prints that as
      ``Error from server: error when creating "FILE": admission webhook ...``.
    """
    meta = body.get("metadata") or {}
    name = meta.get("name", "")
    document = YamlDocument(source=f"{kind.plural}/{name}", index=1, data=body)
    result = load_document(document, default_namespace=meta.get("namespace", "default"))
    errors = [p for p in result.problems if p.level == "Error"]
    if not errors:
        return
    resource_type = LOADABLE_TYPES.get(kind.kind)
    try:
        if resource_type is not None:
            resource_type.model_validate(body)
    except pydantic.ValidationError:
        causes = [
            {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {_bare(p.message)}",
                "field": p.path,
            }
            for p in errors
        ]
        fields = [f"{c['field']}: {c['message']}" for c in causes]
        listed = fields[0] if len(fields) == 1 else "[" + ", ".join(fields) + "]"
        raise Invalid(
            f'{kind.kind}.{kind.group} "{name}" is invalid: {listed}',
            details={"name": name, "group": kind.group, "kind": kind.kind, "causes": causes},
        ) from None
    text = "; ".join(f"{p.path or 'document'}: {_bare(p.message)}" for p in errors)
    raise AdmissionDenied(
        f'admission webhook "validation.istio.io" denied the request: configuration is '
        f"invalid: {text}"
    )


def _bare(message: str) -> str:
    return message.removeprefix("Schema validation error: ")


class ControlPlane:
    def __init__(self, spec: MeshSpec, options: MeshOptions) -> None:
        self.spec = spec
        self.options = options
        # The spec's workloads plus what ambient adds (ztunnel, waypoints), ztunnel first.
        self.workloads = all_workloads(spec)
        self.ambient_namespaces = ambient_namespaces(spec)
        self._service_waypoints = service_waypoints(spec)
        self.token = token_source.token_urlsafe(24)
        self.compat = compat_for(spec.spec.istio_version)
        self.mesh_config = MeshConfigHistory()
        self.store = ObjectStore()
        for kind in ISTIO_KINDS.values():
            self.store.validators[kind.key] = validate_istio
        self.store.listeners.append(self._on_store_change)
        self.xds = XdsServer(self.token, self._on_connect)
        self.runner = PodRunner(options.state_dir)
        self.pods: dict[str, PodProcess] = {}  # proxy id → pod
        # Deleted pods whose endpoints callers still have (the endpoint controller lags).
        self._leaving: list[PodProcess] = []
        self.addresses: AddressBlock | None = None
        self.port_block: PortBlock | None = None
        self.address_mode = ""  # decided at start
        self._source_keys = 0
        self._order: dict[tuple[str, str, str], int] = {}
        self._order_seq = 0
        self._models: dict[tuple[str, str, str, str], IstioResource] = {}
        self._push_task: asyncio.Task[None] | None = None
        self._push_again = False
        self._holding_pushes = False
        self._pods_generation = 0  # bumped when the pod set or a pod's process changes
        # (store revision, pod generation) → its compiler, texts and per-view resources
        self._compiled: (
            tuple[
                tuple[int, int],
                Compiler,
                _SharedTexts,
                dict[tuple[int, int, int], tuple[object, object, object, dict[str, str]]],
            ]
            | None
        ) = None
        # Bumped by every store change but a VirtualService's or a Gateway's: with the pod
        # generation, what the current compiler's clusters were compiled from.
        self._cluster_revision = 0
        self._clusters_key: tuple[int, int] | None = None
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.pushed_version = 0
        self.push_count = 0

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, ready_timeout_s: float = 30.0) -> None:
        self._check_app_settings()
        self.address_mode = resolve_address_mode(self.options.address_mode)
        if self.address_mode == PORT_MODE:
            self._check_port_mode()
            self.port_block = PortBlock.claim()
        else:
            self.addresses = AddressBlock.claim(self.options.address_block)
        self._seed_secrets()
        self._seed_resources()
        await self.xds.start()
        await self.runner.open([w.app.name for w in self.workloads])
        self.runner.forks.on_lost = self._fork_server_lost
        # Start every pod before the first push, as istiod debounces a burst of endpoint
        # events into one push: one compilation for the whole start-up, not one per pod.
        # The fork requests are sent together; the pods then start in parallel.
        self._holding_pushes = True
        try:
            await asyncio.gather(
                *(
                    self._create_pod(workload.name, workload.namespace, replica)
                    for workload in self.workloads
                    for replica in range(workload.replicas)
                )
            )
        finally:
            self._holding_pushes = False
        self.schedule_push()
        await self.wait_ready(ready_timeout_s)

    def _check_port_mode(self) -> None:
        """Ambient needs distinct pod addresses: ztunnel knows a connection's source
        workload by its IP (its Workload resources are keyed by address; so does
        chaoskit.mesh.ztunnel with the peer's IP), and in port mode every pod's is 127.0.0.1."""
        if self.ambient_namespaces:
            raise ConfigError(
                "mesh spec: ambient namespaces ("
                + ", ".join(sorted(self.ambient_namespaces))
                + ") need a loopback address per pod (ztunnel tells workloads apart by "
                "source IP), which port mode cannot give; run in ip mode (Linux, or macOS "
                "with `sudo ifconfig lo0 alias 127.N.0.M` per pod), or use sidecars"
            )

    def _allocate(self, pod: PodProcess) -> None:
        """The pod's address (ip mode) or its ports on 127.0.0.1 (port mode)."""
        if self.port_block is None:
            assert self.addresses is not None
            pod.ip = pod.ip or self.addresses.allocate()
            return
        pod.ip = "127.0.0.1"
        wanted = (ADMIN_PORT, *pod.container_ports)  # no ztunnel: _check_port_mode
        pod.ports = self.port_block.allocate(tuple(dict.fromkeys(wanted)))
        # A stand-in source address for hash policies: distinct per pod, never bound.
        self._source_keys += 1
        pod.source_key = f"127.255.{self._source_keys // 250}.{self._source_keys % 250 + 1}"

    def _check_app_settings(self) -> None:
        """Refuse a spec whose app settings an app would reject, before starting anything."""
        for workload in self.spec.spec.workloads:
            if workload.app.name in (GATEWAY_APP, WAYPOINT_APP, ZTUNNEL_APP):
                continue
            context = AppContext(
                workload.name,
                workload.namespace,
                "127.0.0.1",
                workload.labels,
                workload.env,
                _no_outbound,
            )
            try:
                create_app(workload.app.name, context, workload.app.settings)
            except AppSettingsError as exc:
                raise ConfigError(
                    f"mesh spec: workload {workload.namespace}/{workload.name}: app.settings: {exc}"
                ) from None

    def _seed_secrets(self) -> None:
        for secret in self.spec.spec.secrets:
            if secret.self_signed is not None:
                body = tls_secret(secret.name, secret.namespace, list(secret.self_signed.hosts))
                self.store.put_system(SECRETS, secret.namespace, secret.name, body)

    def _seed_resources(self) -> None:
        """The spec's initial Istio resources, validated like any apply."""
        by_kind = {kind.kind: kind for kind in ISTIO_KINDS.values()}
        for path in self.spec.resource_files():
            for number, body in enumerate(yaml.safe_load_all(path.read_text()), start=1):
                if not body:
                    continue
                kind = by_kind.get(str(body.get("kind")))
                if kind is None:
                    raise ConfigError(f"{path} document {number}: not an Istio resource kind")
                namespace = body.get("metadata", {}).get("namespace", "default")
                try:
                    self.store.create(kind, namespace, body)
                except (Invalid, AdmissionDenied) as exc:
                    raise ConfigError(f"{path} document {number}: {exc}") from None

    async def stop(self) -> None:
        self._stopping = True
        await self.xds.stop()
        for pod in self.pods.values():
            if pod.node_lost and pod.process is not None:  # a frozen pod cannot stop
                with contextlib.suppress(ProcessLookupError):
                    pod.process.send_signal(signal.SIGCONT)
        await asyncio.gather(*(self.runner.stop(p) for p in self.pods.values()))
        await self.runner.close()
        for task in self._watchers:
            task.cancel()
        if self.addresses is not None:
            self.addresses.release()
        if self.port_block is not None:
            self.port_block.release()

    def _fork_server_lost(self, why: str) -> None:
        """The pods' parent died: none of them can be watched, so the mesh stops, loudly."""
        sys.stderr.write(f"chaoskit mesh: {why}; stopping the mesh\n")
        os.kill(os.getpid(), signal.SIGTERM)  # serve_forever's orderly stop

    # --- pods ------------------------------------------------------------------------------------

    def _workload(self, name: str, namespace: str) -> Any:
        for workload in self.workloads:
            if workload.name == name and workload.namespace == namespace:
                return workload
        raise NotFound(f'workload "{namespace}/{name}" not found')

    def container_ports(self, labels: dict[str, str], namespace: str) -> tuple[int, ...]:
        ports = {
            port.container_port
            for service in self.spec.spec.services
            if service.namespace == namespace
            and all(labels.get(k) == v for k, v in service.effective_selector.items())
            for port in service.ports
        }
        return tuple(sorted(ports))

    async def _create_pod(
        self,
        workload_name: str,
        namespace: str,
        replica: int,
        ip: str | None = None,
        *,
        in_eds: bool = True,
    ) -> PodProcess:
        workload = self._workload(workload_name, namespace)
        kind = self._pod_kind(workload.app.name, namespace)
        pod = PodProcess(
            name=pod_name(workload.name),
            namespace=namespace,
            workload=workload.name,
            replica=replica,
            ip=ip or "",
            labels=dict(workload.labels),
            kind=kind,
            app=workload.app.name,
            app_settings=dict(workload.app.settings),
            container_ports=self.container_ports(dict(workload.labels), namespace),
            # The CNI plugin marks a pod whose traffic it redirects to ztunnel (istio/istio
            # cni/pkg/nodeagent, annotation.AmbientRedirection, tag 1.30.3).
            annotations={REDIRECTION_ANNOTATION: "enabled"} if kind == "ambient" else {},
            env=dict(workload.env),
            in_eds=in_eds,
        )
        self._allocate(pod)
        self.pods[pod.proxy_id] = pod
        self._pods_generation += 1
        await self._start_process(pod)
        self.schedule_push()
        return pod

    def _pod_kind(self, app: str, namespace: str) -> str:
        if app == GATEWAY_APP:
            return "gateway"
        if app in (WAYPOINT_APP, ZTUNNEL_APP):
            return app
        return "ambient" if namespace in self.ambient_namespaces else "sidecar"

    def ztunnel_address(self) -> tuple[str, int] | None:
        """Where ambient pods' outbound connections are redirected (the node's ztunnel)."""
        pod = next((p for p in self.pods.values() if p.kind == ZTUNNEL_APP), None)
        return (pod.ip, pod.host_port(ZTUNNEL_OUTBOUND_PORT)) if pod is not None else None

    def relabel_pod(self, pod: PodProcess, labels: dict[str, str]) -> int:
        """Change a running pod's labels, as ``kubectl label pod`` does; returns the config
        version that carries them (subsets, workload selectors, EnvoyFilters follow).

        A pod's Services are fixed when it starts (its app listens on their ports), so a
        change that would add it to, or take it out of, a Service is refused.
        """

        def services(selected: dict[str, str]) -> list[str]:
            return sorted(
                s.name
                for s in self.spec.spec.services
                if s.namespace == pod.namespace
                and all(selected.get(k) == v for k, v in s.effective_selector.items())
            )

        before, after = services(pod.labels), services(labels)
        if before != after:
            raise Invalid(
                f"pod {pod.namespace}/{pod.name}: these labels would change the Services that "
                f"select it ({', '.join(before) or 'none'} → {', '.join(after) or 'none'}); "
                "the embedded mesh cannot move a running pod between Services: keep the "
                "selector labels, or change the mesh spec"
            )
        pod.labels = dict(labels)
        self._pods_generation += 1
        version = self.store.advance()
        self.schedule_push()
        return version

    def host_ports(self, pod: PodProcess) -> tuple[HostPort, ...]:
        """The ports of 127.0.0.1 that reach ``pod``'s listeners: the ingress ports, on the
        gateway's first replica (its pod shows them as ``hostPort``s)."""
        if pod.kind != "gateway" or pod.replica != 0:
            return ()
        host_ports = (
            HostPort(self.options.ingress_http_port, 8080),
            HostPort(self.options.ingress_https_port, 8443),
        )
        return tuple(h for h in host_ports if h.host_port)

    def _bootstrap(self, pod: PodProcess) -> Bootstrap:
        host_ports = self.host_ports(pod)
        return Bootstrap(
            pod=pod.name,
            namespace=pod.namespace,
            ip=pod.ip,
            kind=pod.kind,
            labels=tuple(sorted(pod.labels.items())),
            app=pod.app,
            app_settings=pod.app_settings,
            container_ports=pod.container_ports,
            xds_address=self.xds.address,
            token=self.token,
            log_dir=str(self.options.state_dir / "logs"),
            env=pod.env,
            host_ports=host_ports,
            seed=self.options.seed,
            ztunnel=self.ztunnel_address() if pod.kind == "ambient" else None,
            stats_matcher=bootstrap_stats_matcher(self.mesh_config.current),
            admin_port=pod.host_port(ADMIN_PORT),
            port_map=tuple(sorted(pod.ports.items())),
            source_key=pod.source_key,
        )

    async def _start_process(self, pod: PodProcess) -> None:
        self._pods_generation += 1
        await self.runner.start(pod, self._bootstrap(pod))
        task = asyncio.get_running_loop().create_task(self._watch(pod))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, pod: PodProcess) -> None:
        process = pod.process
        assert process is not None
        code = await process.wait()
        if pod.process is process:
            pod.exit_code = code
            pod.ready = False
            self._pods_generation += 1
            if not self._stopping:
                await self.xds.notify()  # waiters for readiness or sync must see the death

    def _not_ready(self, pod: PodProcess) -> str | None:
        """Why ``pod`` is not serving yet, or None when it runs with a config acknowledged."""
        if not pod.running:
            return "not started" if pod.exit_code is None else f"exit code {pod.exit_code}"
        conn = self.xds.connections.get(pod.proxy_id)
        if conn is None:
            return "not connected"
        if conn.acked_version == 0:
            return f"rejected its config (NACK: {conn.nack})" if conn.nack else "no config acked"
        return None

    async def wait_ready(self, timeout_s: float, proxies: Iterable[str] | None = None) -> None:
        """Wait until every wanted pod runs and its proxy acknowledged a config.

        Fails at once, naming every such pod, when one exited or rejected its first config
        (neither heals by waiting), and at the deadline names each pod still pending.
        """
        wanted = [
            pod
            for pod in (self.pods.get(x) for x in (proxies if proxies is not None else self.pods))
            if pod is not None and not pod.killed_by_chaos
        ]

        def failed() -> list[PodProcess]:
            return [
                p
                for p in wanted
                if p.exit_code is not None
                or (not p.running and p.process is not None)
                or ((c := self.xds.connections.get(p.proxy_id)) and c.nack and not c.acked_version)
            ]

        def settled() -> bool:
            return bool(failed()) or all(self._not_ready(p) is None for p in wanted)

        await self.xds.wait_until(settled, timeout_s)
        broken = failed()
        if broken:
            raise EmulatorError(
                f"{len(broken)} of {len(wanted)} pods failed to start: "
                + "; ".join(
                    f"pod {p.namespace}/{p.name}: {self._not_ready(p)} "
                    f"(log: {p.log_path}{_log_hint(self.runner.log_tail(p, 3))})"
                    for p in broken
                )
            )
        pending = {p.proxy_id: why for p in wanted if (why := self._not_ready(p)) is not None}
        if pending:
            raise ReadinessTimeout(
                f"{len(pending)} of {len(wanted)} pods not ready after {timeout_s:.0f}s: "
                + ", ".join(f"{proxy} ({why})" for proxy, why in sorted(pending.items()))
            )
        for pod in wanted:
            pod.ready = True

    def pods_and_leaving(self) -> list[PodProcess]:
        """Every pod, and the deleted ones whose endpoints callers still have."""
        return [*self.pods.values(), *self._leaving]

    def is_ready(self, pod: PodProcess) -> bool:
        """Running and serving: connected to the push channel with a config acknowledged."""
        conn = self.xds.connections.get(pod.proxy_id)
        serving = pod.running and not pod.app_down and not pod.node_lost
        return serving and conn is not None and conn.acked_version > 0

    def pod(self, namespace: str, name: str) -> PodProcess:
        pod = self.pods.get(f"{name}.{namespace}")
        if pod is None:
            raise NotFound(f'pods "{name}" not found', details={"name": name, "kind": "pods"})
        return pod

    def kill_pod(self, namespace: str, name: str) -> PodProcess:
        """SIGKILL the pod's process (app and sidecar); its endpoint stays in EDS."""
        pod = self.pod(namespace, name)
        pod.killed_by_chaos = True
        self.runner.kill(pod)
        return pod

    async def kill_in_mode(
        self, namespace: str, name: str, mode: str, endpoint_delay_s: float | None = None
    ) -> PodProcess:
        """Kill a replica the way ``mode`` says (see :mod:`.kills`); returns the pod."""
        pod = self.pod(namespace, name)
        if not pod.running or pod.node_lost or pod.app_down:
            raise Invalid(f"pod {namespace}/{name} is not running; restart it first")
        delay = default_endpoint_delay(mode) if endpoint_delay_s is None else endpoint_delay_s
        if mode == APP_CRASH:
            await self._crash_app(pod)
        elif mode == NODE_LOST:
            await self._lose_node(pod)
        else:
            await self._delete_pod_late(pod)
        if delay is not None:
            loop = asyncio.get_running_loop()
            pod.endpoint_timer = loop.call_later(delay, self._leave_eds, pod)
        return pod

    async def _crash_app(self, pod: PodProcess) -> None:
        if pod.kind == "gateway":
            raise Invalid(f"pod {pod.name} is a gateway and runs no app to crash")
        pod.app_down = True
        self.xds.send_control(pod.proxy_id, "app", {"running": False})
        await self.wait_settings(pod)

    async def _lose_node(self, pod: PodProcess) -> None:
        """Every pod drops connects to the address, then the pod itself freezes (its
        established connections hang, its push channel goes quiet)."""
        pod.killed_by_chaos = True
        pod.node_lost = True
        await self._send_network()
        assert pod.process is not None
        pod.process.send_signal(signal.SIGSTOP)
        self._pods_generation += 1

    async def _send_network(self) -> None:
        unreachable = sorted(a for p in self.pods.values() if p.node_lost for a in p.addresses)
        waiting = []
        for proxy, pod in self.pods.items():
            if pod.node_lost or not pod.running:
                continue
            if self.xds.send_control(proxy, "network", {"unreachable": unreachable}) is not None:
                waiting.append(pod)
        for pod in waiting:
            await self.wait_settings(pod)

    async def _delete_pod_late(self, pod: PodProcess) -> None:
        """Both containers die at once; the ReplicaSet's replacement starts now, while
        the old endpoint stays in EDS until ``_leave_eds``."""
        pod.killed_by_chaos = True
        self.runner.kill(pod)
        if pod.process is not None:
            await pod.process.wait()
            pod.exit_code = pod.process.returncode
        pod.deleted = True
        del self.pods[pod.proxy_id]  # grace period 0: the API object goes at once
        self._leaving.append(pod)
        # The replacement is an endpoint once Ready, as the EndpointSlice controller has it.
        replacement = await self._create_pod(pod.workload, pod.namespace, pod.replica, in_eds=False)
        task = asyncio.get_running_loop().create_task(self._join_eds_when_ready(replacement))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _join_eds_when_ready(self, pod: PodProcess, timeout_s: float = 30.0) -> None:
        with contextlib.suppress(ReadinessTimeout, EmulatorError):
            await self.wait_ready(timeout_s, [pod.proxy_id])
        if self.pods.get(pod.proxy_id) is pod:
            self._back_in_eds(pod)

    def _leave_eds(self, pod: PodProcess) -> None:
        pod.endpoint_timer = None
        if pod.deleted:
            self._leaving.remove(pod)
        elif pod.app_down:
            pod.in_eds = False
        else:
            return
        self._pods_generation += 1
        self.schedule_push()

    async def restart_pod(self, namespace: str, name: str, timeout_s: float = 15.0) -> PodProcess:
        """Restart the container in place (same name and address), as kubelet does; a
        crashed app restarts alone, and a lost node comes back with its pod."""
        pod = self.pod(namespace, name)
        if pod.endpoint_timer is not None:
            pod.endpoint_timer.cancel()
            pod.endpoint_timer = None
        if pod.node_lost:
            return await self._node_back(pod, timeout_s)
        if pod.app_down and pod.running:
            pod.app_down = False
            pod.restart_count += 1
            self.xds.send_control(pod.proxy_id, "app", {"running": True})
            await self.wait_settings(pod)
            self._back_in_eds(pod)
            return pod
        if pod.running:
            await self.runner.stop(pod)
        pod.restart_count += 1
        pod.killed_by_chaos = False
        pod.app_down = False
        self._back_in_eds(pod)
        await self._start_process(pod)
        await self.wait_ready(timeout_s, [pod.proxy_id])
        return pod

    async def _node_back(self, pod: PodProcess, timeout_s: float) -> PodProcess:
        assert pod.process is not None
        with contextlib.suppress(ProcessLookupError):
            pod.process.send_signal(signal.SIGCONT)
        pod.node_lost = False
        pod.killed_by_chaos = False
        self._pods_generation += 1
        await self._send_network()
        self.schedule_push()
        await self.wait_ready(timeout_s, [pod.proxy_id])
        return pod

    def _back_in_eds(self, pod: PodProcess) -> None:
        if not pod.in_eds:
            pod.in_eds = True
            self._pods_generation += 1
            self.schedule_push()

    async def delete_pod(self, namespace: str, name: str) -> tuple[PodProcess, PodProcess]:
        """Delete a pod; its Deployment replaces it with a new pod (new name and address)."""
        pod = self.pod(namespace, name)
        await self.runner.stop(pod)
        del self.pods[pod.proxy_id]
        self._pods_generation += 1
        replacement = await self._create_pod(pod.workload, pod.namespace, pod.replica)
        return pod, replacement

    def spec_settings(self, pod: PodProcess) -> dict[str, Any]:
        """The app settings the mesh spec gives ``pod``'s workload (before any change)."""
        return dict(self._workload(pod.workload, pod.namespace).app.settings)

    def replicas(self, workload_name: str, namespace: str) -> list[PodProcess]:
        """The workload's pods, by replica index (a Deployment's ReplicaSet)."""
        pods = [
            p for p in self.pods.values() if (p.workload, p.namespace) == (workload_name, namespace)
        ]
        return sorted(pods, key=lambda p: p.replica)

    async def scale(
        self, workload_name: str, namespace: str, replicas: int, timeout_s: float = 30.0
    ) -> None:
        """Set a workload's replica count, as the Deployment controller does: new pods are
        added (and waited for), the highest-numbered ones removed; endpoints follow."""
        self._workload(workload_name, namespace)
        current = self.replicas(workload_name, namespace)
        if replicas < len(current):
            for pod in current[replicas:]:
                await self.runner.stop(pod)
                del self.pods[pod.proxy_id]
            self.schedule_push()
            return
        taken = {p.replica for p in current}
        free = (i for i in range(64 + len(current)) if i not in taken)
        created = [
            await self._create_pod(workload_name, namespace, next(free))
            for _ in range(replicas - len(current))
        ]
        await self.wait_ready(timeout_s, [p.proxy_id for p in created])

    def set_app_settings(self, pod: PodProcess, settings: dict[str, Any]) -> None:
        if pod.kind == "gateway":
            raise Invalid(f"pod {pod.name} is a gateway and runs no app")
        try:  # validate here so a bad setting is a 422, not a silent NACK
            create_app(
                pod.app,
                AppContext(pod.name, pod.namespace, pod.ip, pod.labels, pod.env, _no_outbound),
                settings,
            )
        except AppSettingsError as exc:
            raise Invalid(
                f"metadata.annotations[{APP_SETTINGS_ANNOTATION}]: {exc}",
                details={"name": pod.name, "kind": "pods"},
            ) from None
        pod.app_settings = settings
        self.xds.send_settings(pod.proxy_id, settings)

    async def wait_settings(self, pod: PodProcess, timeout_s: float = 5.0) -> None:
        conn = self.xds.connections.get(pod.proxy_id)
        if conn is None:
            return
        target = conn.settings_version
        await self.xds.wait_until(lambda: conn.settings_acked >= target, timeout_s)
        if conn.settings_error:
            raise Invalid(conn.settings_error)

    # --- configuration --------------------------------------------------------------------------

    def _on_connect(self, proxy: str) -> None:
        """A (re)connected pod gets config, and the node network if a node is lost."""
        self.schedule_push()
        unreachable = sorted(a for p in self.pods.values() if p.node_lost for a in p.addresses)
        if unreachable:
            self.xds.send_control(proxy, "network", {"unreachable": unreachable})

    def _on_store_change(self, kind: Kind, namespace: str, name: str, event: str) -> None:
        key = (kind.key, namespace, name)
        if kind.plural not in _ROUTING_ONLY:
            self._cluster_revision += 1
        if event == "ADDED":
            self._order_seq += 1
            self._order[key] = self._order_seq
        elif event == "DELETED":
            self._order.pop(key, None)
        self.schedule_push()

    def schedule_push(self) -> None:
        if self._holding_pushes:
            return  # start() pushes once every pod exists
        if self._push_task is not None and not self._push_task.done():
            self._push_again = True
            return
        with contextlib.suppress(RuntimeError):
            self._push_task = asyncio.get_running_loop().create_task(self._push_loop())

    async def _push_loop(self) -> None:
        while True:
            self._push_again = False
            version = self.store.revision
            # Nothing in the store or the pod set changed (a proxy connected): reuse the last
            # compilation, so a start-up storm of N connects costs O(N) pushes of one
            # proxy's config, not N recompilations of the whole mesh.
            key = (self.store.revision, self._pods_generation)
            if self._compiled is None or self._compiled[0] != key:
                previous = self._compiled[2] if self._compiled is not None else None
                clusters_key = (self._cluster_revision, self._pods_generation)
                clusters = None
                if self._compiled is not None and self._clusters_key == clusters_key:
                    clusters = self._compiled[1].shared_clusters()
                self._clusters_key = clusters_key
                compiler = Compiler(self.mesh_state(), clusters)
                self._compiled = (key, compiler, _SharedTexts(previous), {})
            _, compiler, encoder, views = self._compiled
            # Proxies of one view share the compiler's listener and cluster tuples, hence one
            # resource dict and one delta: the push costs O(views × resources + proxies).
            self.xds.begin_push()
            for proxy, pod in list(self.pods.items()):
                if proxy in self.xds.connections:
                    snapshot = compiler.snapshot(self.pod_view(pod), version)
                    view_key = (
                        id(snapshot.listeners),
                        id(snapshot.clusters),
                        id(snapshot.inbound_filters),
                    )
                    view = views.get(view_key)
                    if view is None:
                        texts = resource_texts(snapshot, encoder.text)
                        view = views[view_key] = (
                            snapshot.listeners,
                            snapshot.clusters,
                            snapshot.inbound_filters,
                            texts,
                        )
                    self.xds.push(proxy, version, view[3], functools.partial(meta_text, snapshot))
            self.pushed_version = version
            self.push_count += 1
            await self.xds.notify()
            if not self._push_again:
                return
            await asyncio.sleep(0)

    def expected_proxies(self) -> list[PodProcess]:
        """Pods that should be up: all but those a chaos fault killed on purpose."""
        return [pod for pod in self.pods.values() if not pod.killed_by_chaos]

    def lost_pods(self) -> list[PodProcess]:
        """Pods that died without being killed by a fault: the mesh is not what it claims."""
        return [p for p in self.expected_proxies() if not p.running and p.exit_code is not None]

    def describe_lost(self, pods: Iterable[PodProcess]) -> str:
        return "; ".join(
            f"pod {p.namespace}/{p.name} exited with code {p.exit_code} "
            f"(log: {p.log_path}{_log_hint(self.runner.log_tail(p, 3))})"
            for p in pods
        )

    def proxy_lag(self, pod: PodProcess, revision: int) -> str | None:
        """Why ``pod`` does not have config ``revision`` yet, or None when it does."""
        conn = self.xds.connections.get(pod.proxy_id)
        if not pod.running:
            return f"not running (exit code {pod.exit_code})"
        if conn is None:
            return "not connected to the control plane"
        if conn.synced_version >= revision:
            return None
        if conn.nack:
            return f"rejected the config (NACK: {conn.nack})"
        return f"at version {conn.synced_version}"

    async def wait_synced(self, revision: int, timeout_s: float = 10.0) -> dict[str, int]:
        """Wait until every proxy that should run has config version ≥ ``revision``.

        Like ``istioctl x wait``, but over every expected proxy, not only the connected
        ones: a pod that died or cannot reconnect fails the wait, named, instead of being
        left out of the count.
        """
        # Checked on every ack, so amortized O(proxies) per wait, not O(proxies²): a cursor
        # skips the proxies already synced; the pod list is re-read only when it changed.
        expected: list[PodProcess] = []
        cursor, generation = 0, -1

        def settled() -> bool:
            nonlocal expected, cursor, generation
            if generation != self._pods_generation:
                generation = self._pods_generation
                if self.lost_pods():
                    return True  # fail now: waiting cannot bring a dead pod back
                expected, cursor = self.expected_proxies(), 0
            while cursor < len(expected) and self.proxy_lag(expected[cursor], revision) is None:
                cursor += 1
            if cursor < len(expected):
                return False
            if any(self.proxy_lag(p, revision) is not None for p in expected):
                cursor = 0  # one fell behind again (a reconnect): look again
                return False
            return True

        await self.xds.wait_until(settled, timeout_s)
        lost = self.lost_pods()
        if lost:
            raise EmulatorError(
                f"config version {revision} cannot reach every proxy: {self.describe_lost(lost)}"
            )
        expected = self.expected_proxies()  # now: a pod deleted meanwhile is not behind
        behind = {
            pod.proxy_id: lag
            for pod in expected
            if (lag := self.proxy_lag(pod, revision)) is not None
        }
        if behind:
            raise ReadinessTimeout(
                f"{len(behind)} of {len(expected)} proxies did not acknowledge config version "
                f"{revision} within {timeout_s}s: "
                + ", ".join(f"{p} ({why})" for p, why in sorted(behind.items()))
            )
        return {p.proxy_id: self.xds.connections[p.proxy_id].synced_version for p in expected}

    def pod_view(self, pod: PodProcess) -> PodView:
        return PodView(
            name=pod.name,
            namespace=pod.namespace,
            workload=pod.workload,
            labels=tuple(sorted(pod.labels.items())),
            ip=pod.ip,
            kind=pod.kind,
            running=pod.running,
            ports=tuple(sorted(pod.ports.items())),
        )

    def _model(self, kind: Kind, body: JsonObject) -> IstioResource:
        meta = body["metadata"]
        key = (kind.key, meta["namespace"], meta["name"], meta["resourceVersion"])
        model = self._models.get(key)
        if model is None:
            document = YamlDocument(source=kind.plural, index=1, data=body)
            result = load_document(document, default_namespace=meta["namespace"])
            model = result.resources[0].resource
            self._models[key] = model
        return model

    def _ordered(self, plural: str, cls: type[T]) -> list[Ordered[T]]:
        kind = ISTIO_KINDS[plural]
        out: list[Ordered[T]] = []
        for body in self.store.all(kind):
            meta = body["metadata"]
            model = self._model(kind, body)
            assert isinstance(model, cls)
            out.append(
                Ordered(
                    model,
                    meta["namespace"],
                    self._order.get((kind.key, meta["namespace"], meta["name"]), 0),
                )
            )
        return out

    def mesh_state(self) -> MeshState:
        services = [
            ServiceView(
                name=s.name,
                namespace=s.namespace,
                ports=tuple(
                    PortView(p.port, p.container_port, p.name, p.protocol) for p in s.ports
                ),
                selector=tuple(sorted(s.effective_selector.items())),
            )
            for s in self.spec.spec.services
        ]
        entries = self._ordered("serviceentries", ServiceEntry)
        for entry in entries:
            spec = entry.resource.spec
            ports = tuple(
                PortView(p.number, p.target_port or p.number, p.name, p.protocol)
                for p in spec.ports or ()
            )
            endpoints = tuple(
                (e.address, tuple(sorted((e.labels or {}).items())))
                for e in spec.endpoints or ()
                if e.address
            )
            for host in spec.hosts:
                services.append(
                    ServiceView(host, entry.namespace, ports, None, endpoints, host=host)
                )
        secrets: dict[tuple[str, str], TlsSecret] = {}
        for body in self.store.all(SECRETS):
            data = body.get("data") or {}
            with contextlib.suppress(KeyError, ValueError):
                secrets[(body["metadata"]["namespace"], body["metadata"]["name"])] = TlsSecret(
                    base64.b64decode(data["tls.crt"]).decode(),
                    base64.b64decode(data["tls.key"]).decode(),
                )
        return MeshState(
            services=services,
            # A NotReady pod (its app crashed) is not an endpoint; its proxy still gets config.
            pods=[self.pod_view(p) for p in [*self.pods.values(), *self._leaving] if p.in_eds],
            virtual_services=self._ordered("virtualservices", VirtualService),
            destination_rules=self._ordered("destinationrules", DestinationRule),
            gateways=self._ordered("gateways", Gateway),
            service_entries=entries,
            envoy_filters=self._ordered("envoyfilters", EnvoyFilter),
            http_routes=self._ordered("httproutes", GatewayHTTPRoute),
            secrets=secrets,
            compat=self.compat,
            ambient={ns: waypoint_for(self.spec, ns) or "" for ns in self.ambient_namespaces},
            service_waypoints={
                fqdn: (ref.namespace, ref.name) for fqdn, ref in self._service_waypoints.items()
            },
        )

    def compiler(self) -> Compiler:
        return Compiler(self.mesh_state())

    def describe(self) -> dict[str, Any]:
        return {
            "pods": [
                {
                    "name": p.name,
                    "namespace": p.namespace,
                    "ip": p.ip,
                    "running": p.running,
                    **({"ports": {str(k): v for k, v in p.ports.items()}} if p.ports else {}),
                }
                for p in self.pods.values()
            ],
            "addressMode": self.address_mode,
        }


class _SharedTexts:
    """Encode each compiled resource once per push, and reuse last push's string objects.

    Proxies of one view share the compiler's resource objects, so each is encoded once (not
    once per proxy). A resource equal (as a frozen dataclass) to one of the last push gets
    that push's very text object without being encoded again: a push re-encodes only what
    changed, and the per-proxy diff in XdsServer.push compares identities, not megabytes.
    """

    def __init__(self, previous: _SharedTexts | None = None) -> None:
        self._previous = previous.by_value if previous is not None else {}
        self._by_object: dict[int, tuple[object, str]] = {}
        self.by_value: dict[tuple[Callable[[Any], Any], Any], str] = {}

    def text(self, obj: Any, build: Callable[[Any], Any]) -> str:
        hit = self._by_object.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        key = (build, obj)  # build: one resource may travel in more than one shape
        try:
            text = self._previous.get(key)
        except TypeError:  # unhashable: encode it every time
            key, text = None, None  # type: ignore[assignment]
        if text is None:
            text = json.dumps(build(obj), separators=(",", ":"))
        if key is not None:
            self.by_value[key] = text
        self._by_object[id(obj)] = (obj, text)  # keeps obj alive, so its id stays unique
        return text


def _log_hint(tail: str) -> str:
    return f", ends with: {tail.strip()}" if tail.strip() else ", empty"


async def _no_outbound(request: Any, port: int) -> Any:
    raise RuntimeError("validation context: no outbound calls")


def settings_from_annotation(value: str) -> dict[str, Any]:
    try:
        settings = json.loads(value)
    except json.JSONDecodeError as exc:
        raise Invalid(
            f"metadata.annotations[{APP_SETTINGS_ANNOTATION}]: not JSON ({exc.msg} at column "
            f"{exc.colno}); write e.g. '{{\"errorRate\": 0.5}}'"
        ) from None
    if not isinstance(settings, dict):
        raise Invalid(f"metadata.annotations[{APP_SETTINGS_ANNOTATION}]: must be a JSON object")
    return settings
