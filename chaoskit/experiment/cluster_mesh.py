"""A real cluster (``--mesh kind|kube``) behind the same seam as the embedded mesh.

The experiment layer speaks :class:`~chaoskit.experiment.backend.MeshBackend`; this adapter
answers it with :class:`chaoskit.cluster.backend.KubeBackend` (snapshots, journal, blast
radius, ``pods/exec``) plus what a real cluster needs on top:

- **Config reached the sidecars.** Istio has no "distribution complete" signal since 1.23,
  so after a write the adapter polls the affected proxies' ``config_dump`` until the
  listeners, clusters and routes of every one of them have changed and stopped changing.
- **Per-replica faults** (one replica answers 503, or is slow) are Envoy's HTTP fault
  filter on that pod's inbound listener, added with an ``EnvoyFilter`` selecting a label
  the adapter puts on the pod. To the callers this is what a failing replica looks like:
  its answers are 5xx (outlier detection counts them) or late.
- **Access logs** are the sidecars' JSON lines (``chaoskit.cluster.accesslog``), read
  through ``pods/log``; marks are microseconds since the epoch.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chaoskit.cluster import discovery, pins
from chaoskit.cluster.accesslog import parse_log
from chaoskit.cluster.backend import KubeBackend, RollbackError
from chaoskit.cluster.guard import GuardReport, verify
from chaoskit.controlplane.kills import APP_CRASH, POD_DELETED
from chaoskit.durations import parse_seconds
from chaoskit.errors import BackendError, ConfigError, ReadinessTimeout
from chaoskit.experiment.backend import Pod, list_istio_objects, validate
from chaoskit.experiment.cluster_kill import APP_CRASH_COMMAND, checked_mode, crash_app
from chaoskit.kube.client import KubeClient
from chaoskit.kube.objects import RUN_LABEL, clean
from chaoskit.kube.undo import ObjectRef, ObjectUndo
from chaoskit.topology.podshape import PROXY_CONTAINER, all_ready, has_sidecar

REPLICA_FAULT_LABEL = "chaoskit.dev/replica-fault"
# The HTTP filter a replica fault inserts before the router (its name in config_dump).
FAULT_FILTER = "chaoskit.replica_fault"
ENVOY_FILTER_VERSION = "v1alpha3"
# The embedded apps' fault settings that Envoy's fault filter can reproduce.
REPLICA_FAULT_KEYS = ("errorRate", "errorStatus", "latency")
_CONFIG_TYPES = ("ListenersConfigDump", "ClustersConfigDump", "RoutesConfigDump")
# pilot-agent starts Envoy with --file-flush-interval-msec 1000 (istio/istio
# pkg/envoy/proxy.go, tag 1.28.10): an access line reaches the log up to a second after the
# request. A read waits that long (plus scheduling slack) once per batch of reads.
LOG_FLUSH_S = 1.0
LOG_FLUSH_SLACK_S = 0.25
# How many proxies' config_dumps are read at once while waiting for a change (Bookinfo's
# namespace has eight sidecars with three ratings replicas).
READERS = 8


@dataclass(frozen=True)
class ClusterTarget:
    """Where and how far a session may act on a real cluster."""

    mesh: str  # kind | kube
    context: str
    kubeconfig: str | None
    namespaces: tuple[str, ...]
    ingress_http: str = pins.INGRESS_HTTP
    ingress_https: str = pins.INGRESS_HTTPS
    client_url: str = pins.FORTIO_URL
    allow_non_kind: bool = False


# Fields every xDS push rewrites whatever it carries: the push's version (istiod's
# "<time>/<counter>", on each config type and on each resource in it) and the time Envoy
# took the resource (envoy/admin/v3/config_dump_shared.proto, ``version_info`` and
# ``last_updated``). An unrelated push changes only these, so they are not "arrival".
PER_PUSH_FIELDS = frozenset({"version_info", "last_updated"})


def config_fingerprint(dump: dict[str, Any]) -> str:
    """A hash of a proxy's listeners, clusters and routes, without the per-push fields
    (:data:`PER_PUSH_FIELDS`) and without secrets (which rotate on their own)."""
    parts = []
    for config in dump.get("configs") or []:
        kind = str(config.get("@type", "")).rsplit(".", 1)[-1]
        if kind in _CONFIG_TYPES:
            parts.append(_without(config, PER_PUSH_FIELDS))
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _without(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def inbound_fault(dump: dict[str, Any]) -> str | None:
    """The replica-fault filter a proxy's active listeners carry, as sorted JSON (``None``:
    none does). Istio inserts an EnvoyFilter's ``HTTP_FILTER`` patch into the HTTP
    connection manager's ``http_filters`` of the matched listener, which Envoy dumps under
    ``ListenersConfigDump.dynamic_listeners[].active_state.listener`` (a listener still
    warming is in ``warming_state`` and serves nothing yet)."""
    for config in dump.get("configs") or []:
        if not str(config.get("@type", "")).endswith(".ListenersConfigDump"):
            continue
        for listener in config.get("dynamic_listeners") or []:
            found = _named((listener.get("active_state") or {}).get("listener"), FAULT_FILTER)
            if found is not None:
                return json.dumps(found, sort_keys=True)
    return None


def _named(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        if value.get("name") == name:
            return value
        items: Iterable[Any] = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = _named(item, name)
        if found is not None:
            return found
    return None


def replica_fault_filter(
    name: str, namespace: str, selector: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """An EnvoyFilter adding Envoy's HTTP fault filter to one pod's inbound listener."""
    unknown = sorted(set(settings) - set(REPLICA_FAULT_KEYS))
    if unknown:
        raise ConfigError(
            f"replica fault settings {unknown} cannot be produced on a real cluster; "
            f"supported: {', '.join(REPLICA_FAULT_KEYS)}"
        )
    fault: dict[str, Any] = {}
    rate = float(settings.get("errorRate", 0.0))
    if rate:
        fault["abort"] = {
            "http_status": int(settings.get("errorStatus", 503)),
            "percentage": {"numerator": round(rate * 1_000_000), "denominator": "MILLION"},
        }
    if settings.get("latency"):
        seconds = parse_seconds(str(settings["latency"]))
        fault["delay"] = {
            "fixed_delay": f"{seconds:.3f}s",
            "percentage": {"numerator": 1_000_000, "denominator": "MILLION"},
        }
    return {
        "apiVersion": f"networking.istio.io/{ENVOY_FILTER_VERSION}",
        "kind": "EnvoyFilter",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "workloadSelector": {"labels": {REPLICA_FAULT_LABEL: selector}},
            "configPatches": [
                {
                    "applyTo": "HTTP_FILTER",
                    "match": {
                        "context": "SIDECAR_INBOUND",
                        "listener": {
                            "filterChain": {
                                "filter": {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "subFilter": {"name": "envoy.filters.http.router"},
                                }
                            }
                        },
                    },
                    "patch": {
                        "operation": "INSERT_BEFORE",
                        "value": {
                            "name": FAULT_FILTER,
                            "typed_config": {
                                "@type": "type.googleapis.com/"
                                "envoy.extensions.filters.http.fault.v3.HTTPFault",
                                **fault,
                            },
                        },
                    },
                }
            ],
        },
    }


def describe_replica_fault(settings: dict[str, Any]) -> str:
    """The replica fault's settings in words: "HTTP 503 on 50% of requests, 250ms delay"."""
    parts = []
    rate = float(settings.get("errorRate", 0.0))
    if rate:
        parts.append(f"HTTP {int(settings.get('errorStatus', 503))} on {rate:.0%} of requests")
    if settings.get("latency"):
        parts.append(f"{settings['latency']} delay")
    return ", ".join(parts) or "no fault"


def _running(obj: dict[str, Any]) -> bool:
    """Running, not terminating, and every container ready: a native sidecar's readiness is
    in ``initContainerStatuses`` (``chaoskit.topology.podshape``)."""
    status = obj.get("status") or {}
    ready = all_ready(obj)
    terminating = bool((obj.get("metadata") or {}).get("deletionTimestamp"))
    return status.get("phase") == "Running" and ready and not terminating


class ClusterBackend:
    """:class:`~chaoskit.experiment.backend.MeshBackend` on a real cluster."""

    def __init__(
        self,
        kube: KubeBackend,
        target: ClusterTarget,
        guard: GuardReport | None = None,
        *,
        settle_s: float = 1.0,
        timeout_s: float = 60.0,
        # Between config_dump rounds: a round reads every witness at once, so polling
        # often costs little and a push is seen soon after it lands.
        interval_s: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.client: KubeClient = kube.client
        self.target = target
        self.guard = guard
        self.name = target.mesh
        self.ingress_http = target.ingress_http
        self.ingress_https = target.ingress_https
        self.settle_s = settle_s
        self.timeout_s = timeout_s
        self.interval_s = interval_s
        self._sleep = sleep
        self._clock = clock
        self._faults: dict[tuple[str, str], dict[str, Any]] = {}
        self._killed: dict[tuple[str, str], tuple[str, int]] = {}
        self.planned: list[str] = []  # the last pre-flight: what the last write set changed
        self._plan_log: list[str] = []  # every pre-flight since take_planned()
        self._flushed_at: float | None = None  # when the last wait for a log flush ended
        # When the last load window ended (this backend's clock); None: unknown, or running.
        self._load_ended_at: float | None = None
        self._pool: ThreadPoolExecutor | None = None  # reads the witnesses' config_dumps
        self.discovered: list[str] = []  # how connect() found the addresses, one line each
        self.istio_version = self._istio_version()
        self.dataplane_mode = self._dataplane_mode()

    # --- facts --------------------------------------------------------------------------

    def _dataplane_mode(self) -> str:
        """The data plane of the first namespace of the blast radius (the experiments'),
        read from its labels as Istio reads them (``chaoskit.topology.ambient``)."""
        from chaoskit.topology.ambient import dataplane_of

        if not self.target.namespaces:
            return "sidecar"
        try:
            namespace = self.client.namespace(self.target.namespaces[0]) or {}
        except BackendError:
            return "sidecar"
        labels = (namespace.get("metadata") or {}).get("labels") or {}
        return dataplane_of({str(k): str(v) for k, v in labels.items()})

    def _istio_version(self) -> str:
        """The tag of istiod's image: what actually runs, not what was asked for."""
        try:
            deployment = self.client.deployment(pins.ISTIO_NAMESPACE, "istiod")
        except BackendError:
            return "unknown"
        containers = deployment["spec"]["template"]["spec"].get("containers") or [{}]
        image = str(containers[0].get("image", ""))
        return image.rpartition(":")[2] if ":" in image else "unknown"

    def in_mesh_client(self) -> str:
        if not self.target.client_url:
            raise ConfigError(
                "in-mesh load (service=...) needs the fortio client's URL on this cluster; "
                "set ini chaos_client_url (kind: http://127.0.0.1:8088, see kind-config.yaml)"
            )
        return self.target.client_url

    # --- the blast radius, before each change ----------------------------------------------

    def _plan(self, lines: list[str]) -> None:
        self.planned = lines
        self._plan_log += lines

    def take_planned(self) -> list[str]:
        """The pre-flights since the last call, one line per change (for the experiment's
        record), and forget them."""
        taken, self._plan_log = self._plan_log, []
        return taken

    # --- Istio resources ------------------------------------------------------------------

    def apply_objects(self, objects: list[dict[str, Any]], run_id: str) -> list[ObjectUndo]:
        validate(objects, "chaoskit")
        # All or nothing: anything outside the blast radius refuses the whole set up front.
        self._plan([c.describe() for c in self.kube.preflight(objects)])
        witnesses = self._witnesses(objects)
        before = self._fingerprints(witnesses)
        undos: list[ObjectUndo] = []
        changed = False
        for obj in objects:
            body = copy.deepcopy(obj)
            meta = body.setdefault("metadata", {})
            namespace = str(meta.get("namespace") or "default")
            ref = ObjectRef(str(body["kind"]), namespace, str(meta["name"]))
            current = self.client.get_object(ref.plural, namespace, ref.name)
            undos.append(ObjectUndo(ref, clean(current) if current else None))
            self.kube.apply(body, namespace)
            # Labels and annotations never reach Envoy: only a new spec is worth waiting for.
            changed |= current is None or current.get("spec") != body.get("spec")
        if changed:
            self._wait_for_sidecars(witnesses, before, "the applied resources")
        return undos

    def rollback(self, changes: list[ObjectUndo]) -> None:
        # The proxies a rollback reaches are those of the objects as they are now and as
        # they will be: deleting a gateway-bound VirtualService the run created changes the
        # gateway only, so a placeholder without its spec would wait on every sidecar.
        objects = [
            obj
            for c in changes
            for obj in (c.before, self.client.get_object(c.ref.plural, *c.key[1:]))
            if obj is not None
        ] or [{"kind": c.ref.kind, "metadata": {}} for c in changes]
        witnesses = self._witnesses(objects)
        before = self._fingerprints(witnesses)
        specs = self._specs(changes)
        problem: RollbackError | None = None
        try:
            self.kube.restore(changes)
        except RollbackError as exc:  # conflicts are left alone; the rest was restored
            problem = exc
        # Only what rollback did write is worth waiting for (a conflict writes nothing).
        if self._specs(changes) != specs:
            self._wait_for_sidecars(witnesses, before, "the restored resources")
        if problem is not None:
            raise problem

    @property
    def left_to_others(self) -> set[tuple[str, str, str]]:
        """(kind, namespace, name) of the objects rollback left to somebody else's change:
        the session's reset must not write them either."""
        return {(r.kind, r.namespace, r.name) for r in self.kube.left_to_others}

    def _specs(self, changes: list[ObjectUndo]) -> list[Any]:
        """Each object's spec now (``None``: absent): labels never reach Envoy."""
        found = []
        for change in changes:
            current = self.client.get_object(change.ref.plural, *change.key[1:])
            found.append(None if current is None else ("spec", current.get("spec")))
        return found

    def list_objects(self) -> list[dict[str, Any]]:
        return list_istio_objects(self.client)

    def delete_object(self, kind: str, namespace: str, name: str) -> None:
        ref = ObjectRef(kind, namespace, name)
        current = self.client.get_object(ref.plural, namespace, name)
        witnesses = self._witnesses([current or {"kind": kind}])
        before = self._fingerprints(witnesses)
        if self.kube.delete(kind, namespace, name).action == "deleted":
            self._wait_for_sidecars(witnesses, before, f"the deletion of {ref.describe()}")

    def sync(self) -> None:
        """Writes wait for the sidecars themselves."""

    # --- knowing the sidecars have it -----------------------------------------------------

    def _witnesses(self, objects: Iterable[dict[str, Any]]) -> list[Pod]:
        """The proxies whose config a change shows up in: the gateway for gateway-bound
        objects, every sidecar in the blast radius for the rest (not a gateway there: a
        mesh-bound VirtualService never reaches it)."""
        gateway_only = all(
            o.get("kind") == "Gateway"
            or (
                o.get("kind") == "VirtualService"
                and (o.get("spec") or {}).get("gateways")
                and "mesh" not in (o.get("spec") or {}).get("gateways", [])
            )
            for o in objects
        )
        if gateway_only:
            found = self.client.pods(pins.ISTIO_NAMESPACE, "istio=ingressgateway")
        else:
            found = [
                p
                for ns in self.kube.namespaces
                for p in self.client.pods(ns, "")
                if not str(
                    ((p.get("metadata") or {}).get("labels") or {}).get("istio", "")
                ).endswith("gateway")
            ]
        pods = [Pod.from_json(p) for p in found if _running(p) and has_sidecar(p)]
        return sorted(pods, key=lambda p: (p.namespace, p.name))

    def _fingerprints(
        self, pods: list[Pod], errors: dict[str, str] | None = None
    ) -> dict[str, str | None]:
        """Each proxy's fingerprint; ``None`` where its config_dump could not be read (the
        reason goes into ``errors``): an unreadable proxy has not shown a change."""
        # One exec per proxy, all at once: each waits on its own round trip to the sidecar.
        dumps = self._readers().map(self._read_config, pods)
        prints: dict[str, str | None] = {}
        for pod, (dump, error) in zip(pods, dumps, strict=True):
            prints[pod.name] = None if dump is None else config_fingerprint(dump)
            if error and errors is not None:
                errors[pod.name] = error
        return prints

    def _read_config(self, pod: Pod) -> tuple[dict[str, Any] | None, str]:
        try:
            return self.kube.config_dump(pod.namespace, pod.name), ""
        except BackendError as exc:
            return None, str(exc)

    def _readers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(READERS, thread_name_prefix="chaoskit-config-dump")
        return self._pool

    def _wait_for_sidecars(self, pods: list[Pod], before: dict[str, str | None], what: str) -> None:
        """Wait until every witness proxy's config changed, then settled.

        Done once each proxy's fingerprint differs from its fingerprint before the write and
        no proxy has moved for ``settle_s`` (seen by at least one more read): istiod may
        push a set of objects in more than one push. The witnesses are the proxies the
        change concerns, so one that never changes did not get it: a timeout names it.
        (A proxy whose config could not be read before the write counts as changed once
        it can be read.)
        """
        if not pods:
            return
        deadline = self._clock() + self.timeout_s
        last: dict[str, str | None] = {}
        quiet_since = self._clock()
        errors: dict[str, str] = {}
        while True:
            now = self._clock()
            errors.clear()
            current = self._fingerprints(pods, errors)
            waiting = sorted(
                p.name for p in pods if current[p.name] is None or current[p.name] == before[p.name]
            )
            if current != last:
                last, quiet_since = current, now
            elif not waiting and now - quiet_since >= self.settle_s:
                return
            if now >= deadline:
                changed = len(pods) - len(waiting)
                unread = "".join(f"; {name}: {errors[name]}" for name in waiting if name in errors)
                if waiting:
                    detail = (
                        f"no config change seen on {', '.join(waiting)} "
                        f"({changed} of {len(pods)} changed{unread})"
                    )
                else:
                    detail = f"their config was still changing after {self.timeout_s:g}s"
                raise ReadinessTimeout(
                    f"{what} did not reach every sidecar within {self.timeout_s:g}s "
                    f"({detail}); check `istioctl proxy-status` and the istiod logs"
                )
            self._sleep(self.interval_s)

    # --- pods -------------------------------------------------------------------------------

    def pods(self, namespace: str | None = None, selector: str = "") -> list[Pod]:
        """The mesh's pods: those with a sidecar (or the gateway's proxy). The rest of the
        cluster (kube-system, istiod) has no Envoy to read and nothing to inject into."""
        found = []
        for obj in self.client.pods(namespace, selector):
            if not has_sidecar(obj):
                continue
            pod = Pod.from_json(obj)
            found.append(
                Pod(
                    pod.name,
                    pod.namespace,
                    pod.ip,
                    pod.labels,
                    _running(obj),
                    containers=pod.containers,
                )
            )
        return sorted(found, key=lambda p: (p.namespace, p.name))

    def app_settings(self, pod: Pod) -> dict[str, Any]:
        return dict(self._faults.get((pod.namespace, pod.name), {}))

    def set_app_settings(self, pod: Pod, settings: dict[str, Any]) -> None:
        """Make one replica fail or slow down (Envoy's fault filter on its inbound side);
        ``{}`` removes the fault."""
        key = (pod.namespace, pod.name)
        name = f"chaoskit-replica-fault-{pod.name}"[:253]
        selector = hashlib.sha256(f"{pod.namespace}/{pod.name}".encode()).hexdigest()[:16]
        # The filter before the write tells a replaced fault from its new settings (a proxy
        # that cannot be read now shows the new filter once it has one).
        before = self._read_config(pod)[0] if settings else None
        had = None if before is None else inbound_fault(before)
        same = self._faults.get(key) == dict(settings)
        where = f"envoyfilters.networking.istio.io {pod.namespace}/{name}"
        if not settings:
            if key not in self._faults:
                return
            self._plan(
                [
                    f"delete {where} and the label {REPLICA_FAULT_LABEL} of pod "
                    f"{pod.namespace}/{pod.name} (the replica fault ends)"
                ]
            )
            self.client.delete_object("envoyfilters", pod.namespace, name, ENVOY_FILTER_VERSION)
            self.client.patch_pod(
                pod.namespace, pod.name, {"metadata": {"labels": {REPLICA_FAULT_LABEL: None}}}
            )
            del self._faults[key]
        else:
            body = replica_fault_filter(name, pod.namespace, selector, settings)
            body["metadata"]["labels"] = {RUN_LABEL: self.kube.run_id}
            if pod.namespace not in self.kube.namespaces:
                raise ConfigError(
                    f"pod {pod.namespace}/{pod.name} is outside the blast radius "
                    f"({', '.join(sorted(self.kube.namespaces))})"
                )
            self._plan(
                [
                    f"label pod {pod.namespace}/{pod.name} {REPLICA_FAULT_LABEL}={selector}",
                    f"{'replace' if key in self._faults else 'create'} {where} "
                    f"({describe_replica_fault(settings)} on that pod's inbound side, labelled "
                    f"{self.kube.run_selector})",
                ]
            )
            self.client.patch_pod(
                pod.namespace, pod.name, {"metadata": {"labels": {REPLICA_FAULT_LABEL: selector}}}
            )
            if key in self._faults:
                self.client.delete_object("envoyfilters", pod.namespace, name, ENVOY_FILTER_VERSION)
            self.client.create_object("envoyfilters", pod.namespace, body, ENVOY_FILTER_VERSION)
            self._faults[key] = dict(settings)
        self._wait_for_fault(pod, had, present=bool(settings), same=same)

    def _wait_for_fault(self, pod: Pod, had: str | None, *, present: bool, same: bool) -> None:
        """Wait until the pod's active inbound listener carries the new fault filter (one
        other than ``had``, the one before the write, unless the settings were the same) or,
        ``present`` false, no fault filter at all. ``same``: the settings did not change.

        This names exactly what the write must change in that one proxy, so no quiet
        period is needed: once the listener Envoy serves has the filter, the label and the
        EnvoyFilter have both reached it, however many pushes istiod made of them.
        """
        deadline = self._clock() + self.timeout_s
        reads, last = 0, ""
        while True:
            dump, error = self._read_config(pod)
            reads += 1
            now = None if dump is None else inbound_fault(dump)
            if dump is not None:
                if not present and now is None:
                    return
                if present and now is not None and (now != had or same):
                    return
                last = f"its inbound fault filter is {now or 'absent'}"
            else:
                last = error
            if self._clock() >= deadline:
                wanted = "the new replica fault" if present else "the replica fault removed"
                raise ReadinessTimeout(
                    f"the sidecar of {pod.namespace}/{pod.name} did not have {wanted} within "
                    f"{self.timeout_s:g}s ({reads} config_dump reads; last: {last[:300]}); "
                    "check `istioctl proxy-status` and the istiod logs"
                )
            self._sleep(self.interval_s)

    def sweep_replica_faults(self) -> list[str]:
        """Delete replica-fault EnvoyFilters a crashed run left behind."""
        removed = []
        for namespace in sorted(self.kube.namespaces):
            found = self.client.list_resources(
                "envoyfilters", namespace, RUN_LABEL, ENVOY_FILTER_VERSION
            )
            for item in found:
                name = item["metadata"]["name"]
                if name.startswith("chaoskit-replica-fault-"):
                    self.client.delete_object("envoyfilters", namespace, name, ENVOY_FILTER_VERSION)
                    removed.append(f"envoyfilter {namespace}/{name}")
        return removed

    def kill_pod(
        self, pod: Pod, mode: str = POD_DELETED, endpoint_delay_s: float | None = None
    ) -> None:
        """``pod-deleted``: delete the pod at once; its ReplicaSet starts a replacement
        (Chaos Mesh's pod-kill). ``app-crash``: end the app container's PID 1 (see
        :mod:`.cluster_kill`). ``node-lost`` is refused."""
        where = f"pod {pod.namespace}/{pod.name}"
        checked_mode(mode, self.name, where)
        if endpoint_delay_s is not None:
            raise ConfigError(
                f"chaos.kill of {where}: endpoint_delay is for the embedded mesh; on the "
                f"{self.name} backend the cluster's endpoint controller and istiod decide it"
            )
        selector = ",".join(
            f"{k}={v}" for k, v in sorted(pod.labels.items()) if k in ("app", "version")
        )
        ready = sum(1 for p in self.pods(pod.namespace, selector) if p.running)
        self.kube.check_namespace(pod.namespace, f"kill {where}")
        if mode == APP_CRASH:
            self._plan(
                [
                    f"exec `{' '.join(APP_CRASH_COMMAND)}` in {where} (its app container "
                    "exits; the kubelet restarts it)"
                ]
            )
            self._killed[(pod.namespace, pod.name)] = (selector, ready)
            crash_app(
                self.client,
                pod.namespace,
                pod.name,
                timeout_s=self.timeout_s,
                sleep=self._sleep,
                clock=self._clock,
            )
            return
        self._plan(
            [
                f"delete pod {pod.namespace}/{pod.name} (grace period 0; its ReplicaSet starts "
                "a replacement)"
            ]
        )
        self._killed[(pod.namespace, pod.name)] = (selector, ready)
        self.kube.kill_pod(pod.namespace, pod.name)

    def restart_pod(self, pod: Pod) -> None:
        """Wait until the killed pod's workload is back to the ready count it had."""
        selector, wanted = self._killed.pop((pod.namespace, pod.name), ("", 0))
        if not selector:
            return
        deadline = self._clock() + max(self.timeout_s, 180.0)
        while True:
            ready = sum(1 for p in self.pods(pod.namespace, selector) if p.running)
            if ready >= wanted:
                return
            if self._clock() >= deadline:
                raise ReadinessTimeout(
                    f"{selector} in {pod.namespace} has {ready} ready pod(s), not {wanted}, "
                    "after the kill; check `kubectl get pods` and the ReplicaSet's events"
                )
            self._sleep(1.0)

    # --- sidecars ---------------------------------------------------------------------------

    def admin(self, pod: Pod, path: str) -> str:
        return self.kube.admin(pod.namespace, pod.name, path)

    def log_mark(self, pod: Pod) -> int:
        """Now, in microseconds: later log lines are "after the mark"."""
        return int(time.time() * 1_000_000)

    def log_mark_at(self, moment: float) -> int:
        """The mark of a moment (epoch seconds): a cluster's marks are times, so reading
        "after this mark" asks pods/log only for the lines since then."""
        return int(moment * 1_000_000)

    def load_started(self) -> None:
        """A load window begins: until it ends, reads fall back to the batch rule."""
        self._load_ended_at = None

    def load_ended(self, finished: float) -> None:
        """The load window's last request was answered at ``finished`` (epoch seconds)."""
        self._load_ended_at = self._clock() - max(0.0, time.time() - finished)

    def _await_log_flush(self) -> None:
        """Make sure what was served before this read is in the sidecars' logs.

        When the end of the last load window is known, a read waits until one flush
        interval (and the slack) after it, and reads after that need not wait: nothing
        has been served since. Otherwise the first read of a batch waits one flush
        interval; reads within an interval of that wait need not: what was served before
        the batch began had been flushed when the wait ended.
        """
        now = self._clock()
        if self._load_ended_at is not None:
            flushed = self._load_ended_at + LOG_FLUSH_S + LOG_FLUSH_SLACK_S
            if now < flushed:
                self._sleep(flushed - now)
            return
        if self._flushed_at is not None and now - self._flushed_at < LOG_FLUSH_S:
            return
        self._sleep(LOG_FLUSH_S + LOG_FLUSH_SLACK_S)
        self._flushed_at = self._clock()

    def access_log(
        self, pod: Pod, since: int, from_ts: float | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        # from_ts: pods/log is asked only for the lines since then (a second early: sinceTime
        # counts whole seconds); the caller filters on the records' start_ts too.
        if from_ts is not None:
            since = max(since, self.log_mark_at(from_ts - 1.0))
        self._await_log_flush()
        after = since / 1_000_000
        text = self.client.pod_log(
            pod.namespace, pod.name, PROXY_CONTAINER, since_s=after - 1 if since else None
        )
        newest, records = parse_log(text, after)
        return int(newest * 1_000_000), records

    def close(self) -> None:
        """Remove replica faults, undo everything the session changed, disconnect."""
        problems = []
        for namespace, name in list(self._faults):
            try:
                pod = Pod(name, namespace, "", {}, True)
                self.set_app_settings(pod, {})
            except BackendError as exc:
                problems.append(str(exc))
        try:
            self.kube.rollback()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            self.client.close()
        if problems:
            raise BackendError("replica faults not removed: " + "; ".join(problems))


def connect(target: ClusterTarget, run_id: str, journal_dir: Path) -> ClusterBackend:
    """Check the target is safe to touch, then heal leftovers of crashed runs."""
    report = verify(target.kubeconfig, target.context, allow_non_kind=target.allow_non_kind)
    client = KubeClient.from_kubeconfig(target.kubeconfig, report.context)
    target, found = discover(client, target)
    kube = KubeBackend(client, namespaces=target.namespaces, run_id=run_id, journal_dir=journal_dir)
    backend = ClusterBackend(kube, target, report)
    backend.discovered = found
    kube.recover()
    kube.sweep()
    backend.sweep_replica_faults()
    return backend


def discover(client: KubeClient, target: ClusterTarget) -> tuple[ClusterTarget, list[str]]:
    """Fill in the addresses the target leaves empty from the cluster's objects
    (:mod:`chaoskit.cluster.discovery`); what is still unknown falls back to kind's
    published ports (the client only on kind). Also returns how each was found."""
    how: list[str] = []
    http, https = (
        discovery.ingress(client)
        if not (target.ingress_http and target.ingress_https)
        else (None, None)
    )
    namespaces = dict.fromkeys((*target.namespaces, pins.BOOKINFO_NAMESPACE, pins.DEMO_NAMESPACE))
    fortio = None if target.client_url else discovery.load_client(client, namespaces)
    fallback_client = pins.FORTIO_URL if target.mesh == "kind" else ""
    chosen: dict[str, str] = {}
    for key, given, found, fallback in (
        ("ingress_http", target.ingress_http, http, pins.INGRESS_HTTP),
        ("ingress_https", target.ingress_https, https, pins.INGRESS_HTTPS),
        ("client_url", target.client_url, fortio, fallback_client),
    ):
        if given:
            chosen[key] = given
            how.append(f"{key} {given}: set (ini chaos_{key})")
        elif found is not None:
            chosen[key] = found.url
            how.append(f"{key} {found.url}: {found.how}")
        else:
            chosen[key] = fallback
            if fallback:
                how.append(f"{key} {fallback}: not found in the cluster; kind's published port")
    updated = replace(
        target,
        ingress_http=chosen["ingress_http"],
        ingress_https=chosen["ingress_https"],
        client_url=chosen["client_url"],
    )
    return updated, how


def scale_workloads(backend: ClusterBackend, replicas: dict[str, int]) -> None:
    """Set Deployments' replica counts (ini chaos_replicas); the session's close restores them."""
    for key, count in replicas.items():
        namespace, _, deployment = key.partition("/")
        backend.kube.scale(namespace, deployment, count)
    for key in replicas:
        namespace, _, deployment = key.partition("/")
        backend.kube.wait_rollout(namespace, deployment)
