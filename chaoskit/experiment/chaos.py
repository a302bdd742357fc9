"""Fault injection with guaranteed rollback: the ``chaos`` fixture.

Every method snapshots what it changes before changing it and registers the undo first,
so the fixture's teardown restores the mesh whatever the test did (failed, raised, was
interrupted). Faults return a :class:`Fault` that can prove it took effect.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import json
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaoskit.controlplane.kills import NODE_LOST, POD_DELETED, check_mode
from chaoskit.durations import parse_seconds
from chaoskit.errors import ChaoskitWarning, ConfigError
from chaoskit.experiment.ambient import ambient_without_waypoint
from chaoskit.experiment.backend import MeshBackend, Pod
from chaoskit.experiment.faults import (
    configured_percent,
    fault_spec,
    http_routes_for,
    targets,
    with_fault,
    with_pool_limits,
)
from chaoskit.experiment.mutations import mutate
from chaoskit.experiment.predict import Predictor
from chaoskit.experiment.record import ExperimentRecord, FaultRecord
from chaoskit.experiment.services import check_service
from chaoskit.experiment.subsets import missing_subsets
from chaoskit.kube.undo import Journal, ObjectUndo
from chaoskit.observe.proof import faults_in_config, injection_counts, judge_injection
from chaoskit.stats import Verdict

_route_numbers = itertools.count(1)


@dataclass
class Fault:
    """An injected condition, its rollback, and what proves it took effect."""

    record: FaultRecord
    service: str = ""
    namespace: str = ""
    percent: float | None = None  # delay/abort: the share of matching requests
    flag: str = ""  # the access-log flag of an injected request: DI or FI
    route_name: str | None = None
    undo: list[Callable[[], None]] = field(default_factory=list)
    log_marks: dict[str, int] = field(default_factory=dict)
    parent: Fault | None = None  # the applied YAML this fault was written in
    # The sidecars seen carrying the fault; config does not change while it is in force,
    # so it is read once, not after every window (a config_dump per pod is costly on kind).
    carriers: list[str] = field(default_factory=list)
    pods: list[str] = field(default_factory=list)  # replica faults: the pods they act on

    @property
    def description(self) -> str:
        return self.record.description

    def __repr__(self) -> str:
        return f"<Fault {self.record.description}>"


class FaultNotInEffect(ConfigError):
    """The fault is not in the callers' config or was not observed at its rate."""


def _name_faulted_routes(obj: dict[str, Any]) -> dict[str, Any]:
    """Give unnamed faulted routes a name: the access log then tells which requests took
    them, so the injected share can be counted (route names do not change routing)."""
    if obj.get("kind") != "VirtualService":
        return obj
    named = copy.deepcopy(obj)
    for route in (named.get("spec") or {}).get("http") or []:
        if route.get("fault") and not route.get("name"):
            route["name"] = f"chaoskit-fault-{next(_route_numbers)}"
    return named


def _faults_in(obj: dict[str, Any], marks: dict[str, int]) -> list[Fault]:
    """One provable fault per delay/abort in a VirtualService's routes."""
    if obj.get("kind") != "VirtualService":
        return []
    spec = obj.get("spec") or {}
    if spec.get("gateways") and "mesh" not in spec["gateways"]:
        return []  # a gateway's faults are not in the sidecars' routes
    namespace = obj["metadata"].get("namespace", "default")
    found = []
    for route in spec.get("http") or []:
        fault = route.get("fault") or {}
        for kind, flag in (("delay", "DI"), ("abort", "FI")):
            if kind not in fault:
                continue
            percent = configured_percent(kind, fault[kind] or {})
            for host in spec.get("hosts") or []:
                service = host.split(".")[0]
                ns = host.split(".")[1] if host.count(".") >= 1 else namespace
                text = f"{kind} on {percent:g}% of route {route['name']} to {service}.{ns}"
                record = FaultRecord(kind, text, f"{service}.{ns}", "", time.time())
                found.append(
                    Fault(record, service, ns, percent, flag, route["name"], log_marks=marks)
                )
    return found


def _merge_into_parent(parent: FaultRecord, description: str, proof: dict[str, Any]) -> None:
    """Applied YAML can carry several faults: its proof has the same keys as one fault's
    (all in config, the union of carriers, the judgement when there is only one) plus each
    fault's own proof under ``faults``."""
    parts = [p for p in (parent.proof or {}).get("faults", []) if p["fault"] != description]
    parts.append({"fault": description, **proof})
    carriers = sorted({s for p in parts for s in p["sidecars"]})
    parent.proof = {
        "in_config": all(p["in_config"] for p in parts),
        "sidecars": carriers,
        "judgement": parts[0]["judgement"] if len(parts) == 1 else None,
        "faults": parts,
    }


def _dump(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


class Chaos:
    def __init__(
        self,
        backend: MeshBackend,
        run_id: str,
        record: ExperimentRecord,
        *,
        namespace: str = "bookinfo",
        mutation: str | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.backend = backend
        self.run_id = run_id
        self.record = record
        self.namespace = namespace
        self.mutation = mutation
        self.journal = journal
        self.faults: list[Fault] = []
        self._changes: list[ObjectUndo] = []

    # --- Istio config -----------------------------------------------------------------

    def _objects_for(self, service: str, namespace: str, kind: str) -> dict[str, Any] | None:
        candidates = [
            o
            for o in self.backend.list_objects()
            if o.get("kind") == kind and targets(o, service, namespace)
        ]
        candidates.sort(key=lambda o: o["metadata"].get("creationTimestamp", ""))
        return candidates[0] if candidates else None

    @contextlib.contextmanager
    def _planning(self) -> Iterator[None]:
        """Record the backend's pre-flight of what this fault changes (a cluster's blast
        radius; the embedded mesh has none), also when the change then fails."""
        take = getattr(self.backend, "take_planned", None)
        if not callable(take):
            yield
            return
        take()  # what rollbacks and resets planned before is not this fault's
        try:
            yield
        finally:
            self.record.planned_changes.extend(take())

    def _apply(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply (weakened by the session's mutation, if any) and remember the undo."""
        if self.mutation:
            objects = [mutate(o, self.mutation) or o for o in objects]
        objects = [_name_faulted_routes(o) for o in objects]
        self.record.applied_objects.extend(objects)
        with self._planning():
            changes = self.backend.apply_objects(objects, self.run_id)
        self._changes.extend(changes)
        for line in missing_subsets(self.backend.list_objects(), objects):
            if line not in self.record.warnings:
                self.record.warnings.append(line)
                warnings.warn(line, ChaoskitWarning, stacklevel=3)
        if self.journal is not None:
            self.journal.write(self._changes)
        return objects

    def apply(self, source: str | Path, namespace: str | None = None) -> Fault:
        """Apply any Istio YAML (a file, or YAML text) as the condition under test."""
        path = (
            Path(source)
            if not str(source).lstrip().startswith(("apiVersion", "---", "#"))
            else None
        )
        if path is not None and not path.exists():
            raise ConfigError(f"{source}: no such file; pass a path to Istio YAML or YAML text")
        text = path.read_text() if path is not None else str(source)
        where = path.name if path is not None else "inline YAML"
        try:
            objects = [o for o in yaml.safe_load_all(text) if o]
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path or 'inline YAML'}: not valid YAML: {exc}") from None
        strays = [i for i, o in enumerate(objects, start=1) if not isinstance(o, dict)]
        if strays:
            raise ConfigError(
                f"{path or 'inline YAML'}: document(s) {strays} are not objects; "
                "each document must be one Istio resource (apiVersion, kind, metadata, spec)"
            )
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("namespace", namespace or "default")
        marks = self._log_marks()
        applied = self._apply(objects)
        names = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in applied)
        parent = self._track(
            Fault(
                FaultRecord(
                    "resources", f"{names} from {where}", where, _dump(applied), time.time()
                )
            )
        )
        # Faults written in the YAML get proven like injected ones.
        for obj in applied:
            for fault in _faults_in(obj, marks):
                fault.parent = parent
                self.faults.append(fault)
        return parent

    def _inject(
        self,
        kind: str,
        service: str,
        namespace: str | None,
        percent: float,
        headers: dict[str, str] | None,
        description: str,
        **spec: Any,
    ) -> Fault:
        if not 0 < percent <= 100:
            raise ConfigError(f"{kind} on {service}: percent={percent} must be in (0, 100]")
        if percent < 1:
            # Istio's percentage.value is a percent; 0.5 is half a percent, not half.
            warnings.warn(
                f"{kind} on {service}: percent={percent:g} injects into {percent:g}% of "
                f"requests (about 1 in {round(100 / percent)}); if you meant a fraction, "
                f"write percent={percent * 100:g}",
                ChaoskitWarning,
                stacklevel=3,
            )
        ns = namespace or self.namespace
        check_service(self.backend, service, ns, kind)  # before any load is sent
        in_force = self.backend.list_objects()
        http_routes = http_routes_for(in_force, service, ns)
        if http_routes:
            raise ConfigError(
                f"{kind} on {service}: {service}.{ns} is routed by HTTPRoute "
                f"{', '.join(http_routes)}, and Gateway API has no fault injection. A "
                "VirtualService fault for the same host would not act: istiod puts the "
                "HTTPRoute's routes first for callers in its namespace and in the waypoint "
                "(pilot/pkg/model/virtualservice.go, SelectVirtualServices). Route the service "
                "with a VirtualService for the experiment instead (delete the HTTPRoute and "
                "chaos.apply a VirtualService with the same backends), then inject the fault; "
                "in ambient mode the waypoint applies it"
            )
        existing = self._objects_for(service, ns, "VirtualService")
        route_name = f"chaoskit-{kind}-{next(_route_numbers)}" if headers else None
        vs = with_fault(
            existing, service, ns, fault_spec(kind, percent, **spec), headers, route_name or ""
        )
        marks = self._log_marks()
        applied = self._apply([vs])
        scope = f" for {', '.join(f'{k}={v}' for k, v in headers.items())}" if headers else ""
        record = FaultRecord(
            kind,
            f"{description} on {percent:g}% of requests to {service}.{ns}{scope}",
            f"{service}.{ns}",
            _dump(applied),
            time.time(),
        )
        fault = Fault(
            record,
            service,
            ns,
            percent,
            "DI" if kind == "delay" else "FI",
            route_name,
            log_marks=marks,
        )
        return self._track(fault)

    def delay(
        self,
        service: str,
        fixed_delay: str = "5s",
        percent: float = 100.0,
        *,
        headers: dict[str, str] | None = None,
        namespace: str | None = None,
    ) -> Fault:
        """Istio's HTTPFaultInjection.Delay on calls to ``service`` (enforced by callers)."""
        return self._inject(
            "delay",
            service,
            namespace,
            percent,
            headers,
            f"{fixed_delay} delay",
            fixed_delay=fixed_delay,
        )

    def abort(
        self,
        service: str,
        http_status: int = 503,
        percent: float = 100.0,
        *,
        headers: dict[str, str] | None = None,
        namespace: str | None = None,
    ) -> Fault:
        """Istio's HTTPFaultInjection.Abort: callers answer ``http_status`` themselves."""
        return self._inject(
            "abort",
            service,
            namespace,
            percent,
            headers,
            f"HTTP {http_status} abort",
            http_status=http_status,
        )

    def pool_squeeze(
        self,
        service: str,
        *,
        max_connections: int = 1,
        pending: int = 1,
        max_requests_per_connection: int = 1,
        namespace: str | None = None,
    ) -> Fault:
        """Squeeze the connection pool (and so trip the circuit breaker) to ``service``."""
        ns = namespace or self.namespace
        check_service(self.backend, service, ns, "pool_squeeze")
        pool = {
            "tcp": {"maxConnections": max_connections},
            "http": {
                "http1MaxPendingRequests": pending,
                "maxRequestsPerConnection": max_requests_per_connection,
            },
        }
        dr = with_pool_limits(self._objects_for(service, ns, "DestinationRule"), service, ns, pool)
        applied = self._apply([dr])
        text = (
            f"connection pool of {service}.{ns} squeezed to {max_connections} "
            f"connection(s), {pending} pending"
        )
        return self._track(
            Fault(FaultRecord("pool", text, f"{service}.{ns}", _dump(applied), time.time()))
        )

    # --- pods -----------------------------------------------------------------------------

    def _replicas(self, service: str, namespace: str | None, count: int) -> list[Pod]:
        ns = namespace or self.namespace
        pods = [p for p in self.backend.pods(ns, f"app={service}") if p.running]
        if not pods:
            check_service(self.backend, service, ns, "a pod fault")
        if len(pods) < count:
            raise ConfigError(
                f"{service}.{ns} has {len(pods)} running replica(s), the fault needs {count}; "
                "raise its replicas (ini chaos_replicas, e.g. 'bookinfo/ratings-v1=3')"
            )
        return pods[:count]

    def replica_errors(
        self,
        service: str,
        rate: float = 1.0,
        status: int = 503,
        *,
        replicas: int = 1,
        namespace: str | None = None,
    ) -> Fault:
        """Make ``replicas`` instances of ``service`` answer ``status`` to a share ``rate``."""
        return self._settle_pods(
            service,
            namespace,
            replicas,
            {"errorRate": rate, "errorStatus": status},
            "replica-errors",
            f"{rate:.0%} HTTP {status} from",
        )

    def replica_latency(
        self, service: str, latency: str, *, replicas: int = 1, namespace: str | None = None
    ) -> Fault:
        """Slow ``replicas`` instances of ``service`` down by ``latency`` per request."""
        return self._settle_pods(
            service,
            namespace,
            replicas,
            {"latency": latency},
            "replica-latency",
            f"{latency} latency in",
        )

    def _settle_pods(
        self,
        service: str,
        namespace: str | None,
        replicas: int,
        settings: dict[str, Any],
        kind: str,
        what: str,
    ) -> Fault:
        pods = self._replicas(service, namespace, replicas)
        fault = Fault(
            FaultRecord(
                kind,
                f"{what} {', '.join(p.name for p in pods)}",
                f"{service}.{pods[0].namespace}",
                yaml.safe_dump(settings),
                time.time(),
            )
        )
        fault.pods = [p.name for p in pods]
        for pod in pods:
            before = self.backend.app_settings(pod)
            fault.undo.append(functools.partial(self.backend.set_app_settings, pod, before))
            merged = {**before, **settings}
            if "errorRate" in settings:
                # The fault's errors replace the app's own (a twin's errorCodes), which
                # may not stand next to errorRate.
                merged.pop("errorCodes", None)
            with self._planning():
                self.backend.set_app_settings(pod, merged)
        return self._track(fault)

    def kill(
        self,
        service: str,
        *,
        replicas: int = 1,
        mode: str = POD_DELETED,
        endpoint_delay: str | None = None,
        namespace: str | None = None,
    ) -> Fault:
        """Kill ``replicas`` instances of ``service``; ``mode`` says how they die:

        - ``"pod-deleted"`` (default): the pod is deleted (grace period 0); its address
          refuses connections until the endpoint leaves EDS (Istio's default
          ``connect-failure`` retry sends those calls to another replica) and the
          ReplicaSet starts a replacement. The same as the cluster backend does, and
          Chaos Mesh's pod-kill.
        - ``"app-crash"``: the app container dies and its sidecar answers 503 UF, which
          Istio's default retry policy does not retry and outlier detection counts, until
          the pod turns NotReady and leaves EDS; the rollback restarts the container.
        - ``"node-lost"`` (embedded mesh only): the pod's node stops answering; connects to
          it time out at the DestinationRule's ``connectTimeout`` (10 s by default) and
          established connections hang; the rollback brings the node back.

        ``endpoint_delay`` (a duration, e.g. ``"2s"``; embedded mesh only) is how long the
        killed pod's endpoint stays in EDS, for a slower endpoint controller than the
        defaults' (0.1 s after a deletion, 1.1 s after a crash). Timings and sources:
        ``chaoskit.controlplane.kills``.
        """
        ns = namespace or self.namespace
        try:
            check_mode(mode)
            delay_s = None if endpoint_delay is None else parse_seconds(endpoint_delay)
        except ValueError as exc:
            raise ConfigError(f"chaos.kill({service!r}): {exc}") from None
        if delay_s is not None and mode == NODE_LOST:
            raise ConfigError(
                f"chaos.kill({service!r}, mode='node-lost'): endpoint_delay does not apply; "
                "a lost node's endpoints stay while the fault lasts"
            )
        pods = self._replicas(service, namespace, replicas)
        names = ", ".join(p.name for p in pods)
        fault = Fault(
            FaultRecord(
                "kill",
                f"{mode}: killed {names}",
                f"{service}.{ns}",
                yaml.safe_dump({"mode": mode}),
                time.time(),
            )
        )
        fault.pods = [p.name for p in pods]
        for pod in pods:
            fault.undo.append(functools.partial(self.backend.restart_pod, pod))
            with self._planning():
                if delay_s is None:
                    self.backend.kill_pod(pod, mode)
                else:
                    self.backend.kill_pod(pod, mode, delay_s)
        return self._track(fault)

    # --- bookkeeping ------------------------------------------------------------------------

    def _track(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        self.record.faults.append(fault.record)
        return fault

    def _log_marks(self) -> dict[str, int]:
        marks = {}
        for pod in self.backend.pods():
            if not pod.running:  # dead, or on a lost node (whose admin port hangs)
                continue
            try:
                marks[pod.name] = self.backend.log_mark(pod)
            except Exception:
                continue
        return marks

    def prove(self, fault: Fault) -> dict[str, Any]:
        """Check the fault is in its callers' config and was injected at its rate.

        Raises :class:`FaultNotInEffect` otherwise: an experiment whose fault never applied
        must not pass.
        """
        if fault.percent is None:
            return {"in_config": True, "sidecars": [], "judgement": None}
        if fault.percent <= 0:
            field_name = "percentage.value" + (" (or percent)" if fault.flag == "DI" else "")
            raise FaultNotInEffect(
                f"{fault.description}: the fault acts on 0% of requests, so the experiment "
                f"proves nothing; Istio reads a missing {field_name} as 0, not 100. "
                "Set it, e.g. 'percentage: {value: 100}'"
            )
        carriers = list(fault.carriers)
        records: list[dict[str, Any]] = []
        for pod in self.backend.pods():
            if pod.labels.get("istio") == "ingressgateway" or not pod.running:
                continue
            if not fault.carriers:
                config = json.loads(self.backend.admin(pod, "/config_dump"))
                if faults_in_config(config, fault.service, fault.namespace):
                    carriers.append(pod.name)
            records += self.backend.access_log(pod, fault.log_marks.get(pod.name, 0))[1]
        fault.carriers = carriers
        if not carriers:
            raise FaultNotInEffect(
                ambient_without_waypoint(
                    fault.description, self.backend.pods(), fault.service, fault.namespace
                )
                or f"{fault.description}: no sidecar has the fault in its routes for "
                f"{fault.service}.{fault.namespace}; the experiment proves nothing"
            )
        counts = injection_counts(
            records, fault.service, fault.namespace, fault.flag, fault.route_name
        )
        judgement = judge_injection(
            counts, fault.percent, "delay" if fault.flag == "DI" else "abort"
        )
        proof = {"in_config": True, "sidecars": carriers, "judgement": judgement.to_dict()}
        fault.record.proof = proof
        if fault.parent is not None:
            _merge_into_parent(fault.parent.record, fault.description, proof)
        if counts.matched == 0:
            raise FaultNotInEffect(
                f"{fault.description}: no request took the faulted route; send load that matches it"
            )
        if judgement.verdict is Verdict.FAIL:
            raise FaultNotInEffect(
                f"{fault.description} did not take effect as configured: {judgement}"
            )
        if judgement.verdict is Verdict.INCONCLUSIVE:
            raise FaultNotInEffect(f"{fault.description} was not seen to act: {judgement}")
        return proof

    def predict(self) -> Predictor:
        """Expected outcomes from the config in force now (see :mod:`.predict`)."""
        pods = [p.labels for p in self.backend.pods(None) if p.running]
        return Predictor(self.backend.list_objects(), pods)

    def heal(self) -> None:
        """End every fault now (for a recovery window); the same as the final rollback."""
        self.rollback()

    def rollback(self) -> None:
        """Undo everything, newest first; errors are collected and raised at the end."""
        problems: list[str] = []
        for fault in reversed(self.faults):
            for undo in reversed(fault.undo):
                try:
                    undo()
                except Exception as exc:  # keep undoing the rest
                    problems.append(f"{fault.description}: {exc}")
        try:
            self.backend.rollback(self._changes)
        except Exception as exc:
            problems.append(f"restoring Istio resources: {exc}")
        now = time.time()
        for fault in self.faults:
            fault.record.removed = fault.record.removed or now
        self.faults.clear()
        self._changes.clear()
        if self.journal is not None:
            self.journal.clear()
        if problems:
            raise ConfigError("rollback incomplete:\n  " + "\n  ".join(problems))
