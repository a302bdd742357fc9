"""The ``load`` fixture: send load through the gateway (or from a pod inside the mesh) and
get back a :class:`~chaoskit.observe.Window` to judge, with the fault proven in effect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chaoskit.assertions import RateMetric
from chaoskit.experiment.backend import MeshBackend, Pod
from chaoskit.experiment.chaos import Chaos
from chaoskit.experiment.record import ExperimentRecord
from chaoskit.load import LoadProfile, run_load
from chaoskit.mesh.apps.bookinfo.catalog import (
    DETAILS_UNAVAILABLE,
    RATINGS_UNAVAILABLE,
    REVIEWS_UNAVAILABLE,
)
from chaoskit.observe import EjectionSampler, EjectionTimeline, Window
from chaoskit.observe.proof import host_names
from chaoskit.observe.requestlog import RequestLog

# Bookinfo's own error texts, always looked for (istio-semantics §5).
BOOKINFO_TEXTS = (REVIEWS_UNAVAILABLE, RATINGS_UNAVAILABLE, DETAILS_UNAVAILABLE)
IN_MESH_CLIENT = "app=fortio"


class LoadDriver:
    def __init__(
        self,
        backend: MeshBackend,
        record: ExperimentRecord,
        chaos: Chaos,
        *,
        scale: float = 1.0,
        seed: int = 0,
        workdir: Path | None = None,
    ) -> None:
        self.backend = backend
        self.record = record
        self.chaos = chaos
        self.scale = scale
        self.seed = seed
        self.workdir = workdir
        self.windows: list[Window] = []

    def _gateway(self) -> Pod | None:
        pods = self.backend.pods("istio-system", "istio=ingressgateway")
        return pods[0] if pods else None

    def run(
        self,
        path: str = "/productpage",
        *,
        duration: float | str = "10s",
        users: int = 4,
        rate: float | None = None,
        login: str | None = None,
        logins: list[str | None] | None = None,
        headers: dict[str, str] | None = None,
        look_for: tuple[str, ...] | list[str] = (),
        label: str = "during fault",
        service: str | None = None,
        https: bool = False,
        host: str | None = None,
        think: float | str = 0.0,
        timeout: float | str = "30s",
        processes: int = 1,
        distributed: bool = False,
        watch_ejections: str | None = None,
        seen_from: str = "",
        prove: bool = True,
    ) -> Window:
        """Send load and return its window.

        ``rate`` switches to the open model (requests per second on a fixed schedule);
        otherwise ``users`` closed-loop users. ``service="my-service:80"`` sends from the
        in-mesh client pod (fortio) through its sidecar instead of through the gateway.
        ``watch_ejections="ratings"`` samples outlier ejections of that service as seen
        by the pods ``seen_from`` selects (a label selector). ``processes=N`` sends from N
        worker processes, ``distributed=True`` with a Locust master dealing them the users.
        """
        all_headers = dict(headers or {})
        if host is not None:
            all_headers["host"] = host
        if service is not None:
            client = self.backend.pods(None, IN_MESH_CLIENT)
            target = f"http://{client[0].ip}:8080"
            path = f"/fetch/{service}{path}"
            gateway = None
        else:
            target = self.backend.ingress_https if https else self.backend.ingress_http
            gateway = self._gateway()
        markers = tuple(dict.fromkeys((*BOOKINFO_TEXTS, *look_for)))
        profile = LoadProfile.build(
            target,
            path=path,
            duration=duration,
            model="open" if rate is not None else "closed",
            users=users,
            rate=rate,
            login=login,
            logins=logins,
            headers=all_headers,
            markers=markers,
            think=think,
            timeout=timeout,
            processes=processes,
            distributed=distributed,
            seed=self.seed,
        ).scaled(self.scale)
        mark = self.backend.access_log(gateway, 10**12)[0] if gateway else 0
        sampler = self._sampler(watch_ejections, seen_from)
        if sampler is not None:
            sampler.__enter__()
        try:
            result = run_load(profile, self.workdir)
        finally:
            if sampler is not None:
                sampler.stop()
        flags: dict[str, str] = {}
        if gateway is not None:
            for entry in self.backend.access_log(gateway, mark)[1]:
                flags[entry.get("request_id", "")] = entry.get("response_flags", "-")
        window = Window(
            label,
            result.records,
            profile,
            result.started,
            result.finished,
            markers={text: index for index, text in enumerate(markers)},
            flags=flags,
            sink=self.record,
        )
        if sampler is not None:
            window.ejections = EjectionTimeline(sampler.ejections, sampler.hosts, result.started)
            self.record.ejections.extend(window.ejections.to_json())
        self.record.windows.append(window.to_json())
        self.windows.append(window)
        if prove:
            for fault in self.chaos.faults:
                if fault.percent is not None:
                    self.chaos.prove(fault)
        return window

    def received(self, window: Window, selector: str, namespace: str | None = None) -> int:
        """How many requests the pods ``selector`` picks received (inbound access log) while
        ``window`` ran: mirrored copies, for instance, which the client never sees."""
        ns = namespace or self.chaos.namespace
        latest = window.end + window.profile.timeout_s
        count = 0
        for pod in self.backend.pods(ns, selector):
            for entry in self.backend.access_log(pod, 0)[1]:
                inbound = entry.get("direction") == "inbound"
                if inbound and window.start <= float(entry.get("start_ts", 0)) <= latest:
                    count += 1
        return count

    def calls_to(self, window: Window, service: str, namespace: str | None = None) -> RequestLog:
        """What the callers' sidecars logged for calls to ``service`` during ``window``."""
        ns = namespace or self.chaos.namespace
        names = host_names(service, ns)
        latest = window.end + window.profile.timeout_s
        records = []
        for pod in self.backend.pods():
            if not pod.running:
                continue
            for entry in self.backend.access_log(pod, 0)[1]:
                if entry.get("direction") != "outbound":
                    continue
                if str(entry.get("authority", "")).rsplit(":", 1)[0] not in names:
                    continue
                if window.start <= float(entry.get("start_ts", 0)) <= latest:
                    records.append(entry)
        return RequestLog(f"{service}.{ns}", records, window.label, self.record)

    def received_share(
        self, window: Window, selector: str, namespace: str | None = None
    ) -> RateMetric:
        """The share of ``window``'s requests that the pods ``selector`` picks also received."""
        got = min(self.received(window, selector, namespace), window.n)
        subject = f"share of requests also received by {selector}"
        return RateMetric(got, window.n, subject, window.label, self.record)

    def _sampler(self, service: str | None, seen_from: str) -> EjectionSampler | None:
        if service is None:
            return None
        name, _, namespace = service.partition(".")
        namespace = namespace or self.chaos.namespace
        observers = {
            p.name: p
            for p in self.backend.pods(None, seen_from)
            if p.running and p.labels.get("app") != name
        }

        def read(pod_name: str) -> str:
            return self.backend.admin(observers[pod_name], "/clusters")

        def stats(pod_name: str) -> str:
            return self.backend.admin(observers[pod_name], "/stats?filter=ejections_enforced_total")

        return EjectionSampler(
            read,
            sorted(observers),
            f"||{name}.{namespace}.svc.cluster.local",
            read_stats=stats,
        )

    def describe(self) -> list[dict[str, Any]]:
        return [w.to_json() for w in self.windows]
