"""The ``load`` fixture: send load through the gateway (or from a pod inside the mesh) and
get back a :class:`~chaoskit.observe.Window` to judge, with the fault proven in effect."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chaoskit.assertions import RateMetric
from chaoskit.errors import ConfigError
from chaoskit.experiment.abort import AbortWatch, RunAborted
from chaoskit.experiment.ambient import ejection_observers
from chaoskit.experiment.backend import MeshBackend, Pod
from chaoskit.experiment.chaos import Chaos
from chaoskit.experiment.predict import Prediction
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
# Locust ramps users up at spawn_rate per second; a window here is judged as one steady
# load, so every user starts at once (Locust's spawn_rate=users) and a ramp is a series of
# windows.
_NO_SPAWN_RATE = (
    "load.run(spawn_rate={spawn_rate:g}): chaoskit does not ramp users up; every user of a "
    "window starts at once (Locust's spawn_rate=users), so each window measures one steady "
    "load. Drop spawn_rate; for a ramp, run one window per step, e.g. "
    "`for n in (2, 4, 8): load.run(users=n, duration='10s')`, or send a fixed rate with "
    "rate= (the open model)"
)
BOOKINFO_TEXTS = (REVIEWS_UNAVAILABLE, RATINGS_UNAVAILABLE, DETAILS_UNAVAILABLE)


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
        abort_below: float | None = None,
        bookinfo: bool = True,
        csv_dir: Path | None = None,
    ) -> None:
        # On the built-in mesh a load goes to Bookinfo's /productpage and looks for its
        # error texts; on a mesh from the user's own spec, to / with only the texts asked.
        self.bookinfo = bookinfo
        self.backend = backend
        self.abort_below = abort_below
        self.record = record
        self.chaos = chaos
        self.scale = scale
        self.seed = seed
        self.workdir = workdir
        # Locust's CSV statistics of every window go here (ini chaos_locust_csv).
        self.csv_dir = csv_dir
        self.windows: list[Window] = []

    def _abort_watch(self, entry: Pod | None) -> AbortWatch | None:
        """Watch the pod the load enters through, when the run has an abort floor."""
        if self.abort_below is None or entry is None:
            return None
        pod = entry

        def read() -> str:
            return self.backend.admin(pod, "/stats?filter=downstream_rq_")

        return AbortWatch(read, self.abort_below, on_trip=lambda _reason: self.chaos.rollback())

    def _client_pod(self) -> Pod | None:
        pods = [p for p in self.backend.pods(None, "app=fortio") if p.running]
        return pods[0] if pods else None

    def _gateway(self) -> Pod | None:
        pods = self.backend.pods("istio-system", "istio=ingressgateway")
        return pods[0] if pods else None

    def run(
        self,
        path: str | None = None,
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
        spawn_rate: float | None = None,
        user: str | type | list[str] | list[type] | None = None,
        locustfile: str | Path | None = None,
    ) -> Window:
        """Send load and return its window.

        ``path`` defaults to ``/productpage`` on the built-in Bookinfo mesh and to ``/`` on a
        mesh from ``--chaos-spec``. ``rate`` switches to the open model (requests per second
        on a fixed schedule); otherwise ``users`` closed-loop users.
        ``service="my-service:80"`` sends from the in-mesh client pod (fortio) through its
        sidecar instead of through the gateway.
        ``watch_ejections="ratings"`` samples outlier ejections of that service as seen
        by the pods ``seen_from`` selects (a label selector). ``processes=N`` sends from N
        worker processes, ``distributed=True`` with a Locust master dealing them the users.
        ``spawn_rate`` (Locust's ramp-up) is refused with what to write instead.

        ``locustfile="loadtests/locustfile.py", user="ShopUser"`` (or
        ``user="loadtests/locustfile.py:ShopUser"``, or the class itself) drives the load with
        a Locust user class instead of one path: its tasks, weights and ``wait_time`` run
        unchanged in the worker against the ingress, and every request is recorded with
        Locust's name and method (``window.by_name()``). ``user=[Reader, Buyer]`` (or names)
        runs several classes, shared by their ``weight``/``fixed_count`` as in Locust;
        ``locustfile=`` alone runs every class the file defines, as ``locust -f`` does.
        """
        if spawn_rate is not None:
            raise ConfigError(_NO_SPAWN_RATE.format(spawn_rate=spawn_rate, users=users))
        own = resolve_user_class(user, locustfile)
        if own is not None:
            if path is not None:
                raise ConfigError(
                    f"load.run(path={path!r}) with a user class: its tasks choose the paths; "
                    "drop the path"
                )
            if service is not None:
                raise ConfigError(
                    "load.run(service=...) with a user class is not supported: a user class "
                    "sends through the ingress gateway (its host)"
                )
        if path is None:
            path = "/productpage" if self.bookinfo else "/"
        all_headers = dict(headers or {})
        if host is not None:
            all_headers["host"] = host
        if service is not None:
            target = self.backend.in_mesh_client()
            path = f"/fortio/fetch/{service}{path}"
            gateway = None
            entry_pod = self._client_pod()
        else:
            target = self.backend.ingress_https if https else self.backend.ingress_http
            gateway = entry_pod = self._gateway()
        resolve: tuple[tuple[str, str], ...] = ()
        if https and host is not None and service is None:
            # Name the gateway by the virtual host so the TLS handshake carries it as SNI
            # (a Gateway's TLS server only accepts its hosts' names), resolved to the ingress.
            address = urlsplit(target)
            resolve = ((host, address.hostname or "127.0.0.1"),)
            target = f"https://{host}:{address.port or 443}"
        always = BOOKINFO_TEXTS if self.bookinfo else ()
        markers = tuple(dict.fromkeys((*always, *look_for)))
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
            resolve=resolve,
            locustfile=None if own is None else own[0],
            user_classes=() if own is None else own[1],
            csv_prefix=self._csv_prefix(label),
        ).scaled(self.scale)
        # Envoy's response flags per request: from the gateway's access log, or for a load
        # from inside the mesh from the client sidecar's outbound records (the embedded
        # in-mesh client passes x-request-id on; real fortio does not, so on a cluster
        # share(flag=) of such a window is a clear error, not a vacuous 0 %).
        expect = None if own is not None else self._page_expectation(path, service, login)
        flag_source, direction = (gateway, "") if gateway else (entry_pod, "outbound")
        mark = self.backend.log_mark(flag_source) if flag_source else 0
        sampler = self._sampler(watch_ejections, seen_from)
        watch = self._abort_watch(entry_pod)
        if sampler is not None:
            sampler.__enter__()
        if watch is not None:
            watch.__enter__()
        # A backend whose logs reach readers late (a cluster's flush interval) waits from
        # the end of the load rather than from each batch of reads.
        started, ended = (getattr(self.backend, n, None) for n in ("load_started", "load_ended"))
        if started is not None:
            started()
        try:
            result = run_load(profile, self.workdir)
        finally:
            if sampler is not None:
                sampler.stop()
            if watch is not None:
                watch.stop()
        if ended is not None:
            ended(result.finished)
        if watch is not None and watch.tripped:
            raise RunAborted(
                f"abort guard: {watch.reason} (--chaos-abort-below); every fault was rolled "
                "back and the run stops after this experiment"
            )
        flags: dict[str, str] = {}
        if flag_source is not None:
            for entry in self.backend.access_log(flag_source, mark)[1]:
                if not direction or entry.get("direction") == direction:
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
            expect_text=expect,
        )
        if sampler is not None:
            window.ejections = EjectionTimeline(
                sampler.ejections,
                sampler.hosts,
                result.started,
                label,
                self.record,
                resolution_s=sampler.resolution_s,
            )
            self.record.ejections.extend(window.ejections.to_json())
        entry = window.to_json()
        if result.csv_files:
            entry["locust_csv"] = self._csv_names(result.csv_files)
        if self.record.warnings:
            # Config that routes to nothing (a missing subset): show what the callers got.
            entry["summary"]["mesh_flags"] = self._mesh_flags(window)
        self.record.windows.append(entry)
        self.windows.append(window)
        if prove:
            for fault in self.chaos.faults:
                if fault.percent is not None:
                    self.chaos.prove(fault)
        return window

    def _csv_prefix(self, label: str) -> str | None:
        """``<csv_dir>/<experiment>-w<N>-<label>``: Locust's ``--csv`` prefix for the next
        window, unique per experiment and window."""
        if self.csv_dir is None:
            return None
        words = f"{self.record.name}-w{len(self.windows) + 1}-{label}"
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", words).strip("-")[:150]
        return str(self.csv_dir / slug)

    def _csv_names(self, files: list[str]) -> list[str]:
        """The files relative to the report directory (``csv_dir``'s parent) when inside it."""
        assert self.csv_dir is not None
        base = self.csv_dir.parent
        return [
            str(Path(f).relative_to(base)) if Path(f).is_relative_to(base) else f for f in files
        ]

    def _page_expectation(
        self, path: str, service: str | None, login: str | None
    ) -> Callable[[str], Prediction | None] | None:
        """For Bookinfo pages through the gateway: the share of pages with a given error
        text that the routing in force predicts (read before the load, as it ran)."""
        if not self.bookinfo or service is not None or not path.startswith("/productpage"):
            return None
        predictor = self.chaos.predict()

        def expect(text: str) -> Prediction | None:
            try:
                found = predictor.text_share(text, user=login)
            except ConfigError:  # a routing the model does not cover: no prediction
                return None
            return Prediction(found.value, f"under the routing in force: {found.why}")

        return expect

    def _mesh_flags(self, window: Window) -> dict[str, int]:
        """Envoy response flags of every sidecar's outbound calls during ``window`` (the
        callers inside the mesh, where a missing subset's ``NC`` replies happen)."""
        counts: dict[str, int] = {}
        for entry in self._logged(window, self.backend.pods(None), "outbound"):
            for flag in str(entry.get("response_flags") or "-").split(","):
                counts[flag] = counts.get(flag, 0) + 1
        return dict(sorted(counts.items()))

    def _logged(self, window: Window, pods: list[Pod], *directions: str) -> list[dict[str, Any]]:
        """The access-log entries of ``pods`` in the given directions that started while
        ``window`` ran (or within its request timeout after)."""
        latest = window.end + window.profile.timeout_s
        # Each backend reads only the records since the window began: the embedded mesh
        # asks its sidecars' admin endpoint, a cluster asks pods/log for sinceTime.
        return [
            entry
            for pod in pods
            if pod.running
            for entry in self.backend.access_log(pod, 0, from_ts=window.start)[1]
            if entry.get("direction") in directions
            and window.start <= float(entry.get("start_ts", 0)) <= latest
        ]

    def received(self, window: Window, selector: str, namespace: str | None = None) -> int:
        """How many requests the pods ``selector`` picks received (inbound access log) while
        ``window`` ran: mirrored copies, for instance, which the client never sees."""
        pods = self.backend.pods(namespace or self.chaos.namespace, selector)
        return len(self._logged(window, pods, "inbound"))

    def calls_to(self, window: Window, service: str, namespace: str | None = None) -> RequestLog:
        """What the callers' sidecars logged for calls to ``service`` during ``window``; in
        ambient mode, what the service's waypoint logged: it routes, retries and times out
        every caller's call, once (``listener_waypoint.go``, tag 1.30.3), and ambient callers
        have no proxy of their own."""
        ns = namespace or self.chaos.namespace
        names = host_names(service, ns)
        records = [
            entry
            for entry in self._logged(window, self.backend.pods(), "outbound", "waypoint")
            if str(entry.get("authority", "")).rsplit(":", 1)[0] in names
        ]
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
        selected = [
            p
            for p in self.backend.pods(None, seen_from)
            if p.running and p.labels.get("app") != name
        ]
        # Ambient callers have no detector of their own: the destination's waypoint has it.
        observers = {
            p.name: p for p in ejection_observers(selected, self.backend.pods(None), namespace)
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


def resolve_user_class(
    user: str | type | list[str] | list[type] | None, locustfile: str | Path | None
) -> tuple[str, tuple[str, ...]] | None:
    """``(absolute locustfile, class names)`` from ``load.run``'s ``user`` and
    ``locustfile`` (no names: every class the file defines), or None for chaoskit's own
    path load."""
    if user is None and locustfile is None:
        return None
    if isinstance(user, list | tuple):
        if not user:
            raise ConfigError("load.run(user=[]): name at least one user class, or drop user=")
        found = [resolve_user_class(one, locustfile) for one in user]
        files = {f for f, _ in (x for x in found if x is not None)}
        if len(files) != 1:
            raise ConfigError(
                f"load.run(user=[...]): the classes come from {len(files)} files "
                f"({', '.join(sorted(files))}); a window runs the classes of one locustfile"
            )
        names = tuple(n for x in found if x is not None for n in x[1])
        return files.pop(), tuple(dict.fromkeys(names))
    name: str | None
    if isinstance(user, type):
        source = inspect.getsourcefile(user)
        if source is None:
            raise ConfigError(f"load.run(user={user!r}): cannot find the file that defines it")
        if locustfile is not None and Path(locustfile).resolve() != Path(source).resolve():
            raise ConfigError(
                f"load.run(user={user.__name__}) is defined in {source}, not in {locustfile}"
            )
        return str(Path(source).resolve()), (user.__name__,)
    if isinstance(user, str) and locustfile is None:
        file, colon, name = user.rpartition(":")
        if not colon or not file.endswith(".py"):
            raise ConfigError(
                f"load.run(user={user!r}): name the class with its file, "
                "user='loadtests/locustfile.py:ShopUser', or pass locustfile= too"
            )
        locustfile = file
    else:
        name = user if isinstance(user, str) else None
    assert locustfile is not None
    path = Path(locustfile).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if not path.is_file():
        raise ConfigError(
            f"load.run(locustfile={str(locustfile)!r}): {path} does not exist (relative paths "
            "start at the directory pytest runs in)"
        )
    return str(path.resolve()), (() if name is None else (name,))
