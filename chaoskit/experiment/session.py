"""One pytest session's experiment state: the mesh, the run id, the records, the results.

The plugin keeps a :class:`ChaosSession` in ``config.stash``; everything here is plain
Python so it can be driven without pytest too.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaoskit.errors import ConfigError
from chaoskit.experiment.backend import LocalBackend, MeshBackend, Pod
from chaoskit.experiment.chaos import Chaos
from chaoskit.experiment.record import ExperimentRecord, run_header, write_results
from chaoskit.kube.client import KubeClient
from chaoskit.kube.objects import RUN_LABEL, clean
from chaoskit.kube.undo import (
    Journal,
    ObjectUndo,
    TargetIdentity,
    leftover_journals,
    target_mismatch,
)
from chaoskit.observe.stats_delta import counter_deltas, parse_stats
from chaoskit.report.load import ran_an_experiment

# The counters a report shows: what faults, retries, breakers and ejections did.
INTERESTING_STATS = (
    ".fault.",  # http.<prefix>.fault.delays_injected; not "circuit_breakers.default."
    "retry",
    "outlier_detection",
    "overflow",
    "upstream_rq_5xx",
    "upstream_rq_timeout",
    "upstream_cx_connect_fail",
    "upstream_rq_pending",
)


def default_report_dir(root: Path) -> Path:
    return root / "reports" / time.strftime("%Y%m%d-%H%M%S", time.localtime())


def label_safe(run_id: str) -> str:
    """A run id as a Kubernetes label value (the label on what a run creates)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)[:63].strip("-_.")
    return safe or new_run_id()


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)


@dataclass
class Settings:
    backend: str = "local"
    kube_context: str | None = None
    report_dir: Path | None = None
    seed: int = 0
    duration_scale: float = 1.0
    mutation: str | None = None
    replicas: dict[str, int] = field(default_factory=dict)  # "namespace/workload" -> count
    base: list[Path] = field(default_factory=list)
    namespace: str = "bookinfo"
    namespaces: list[str] = field(default_factory=lambda: ["bookinfo", "default"])
    allow_non_kind: bool = False
    ingress_http: str = ""  # real clusters; empty: kind's published ports
    ingress_https: str = ""
    client_url: str = ""
    abort_below: float | None = None  # the gateway's success rate that stops the run
    dataplane: str = "sidecar"  # the embedded mesh's mode: sidecar | ambient | ambient-l4
    # The Istio release the embedded mesh emulates (None: its default); on a real cluster,
    # the release its istiod must run (a mismatch is a notice in the results).
    istio_version: str | None = None
    address_mode: str | None = None  # the embedded mesh's: ip | port | auto (None: auto)
    root: Path = Path(".")
    argv: list[str] = field(default_factory=list)
    # The embedded mesh's spec (--chaos-spec / ini chaos_spec): a twin of the user's own
    # mesh; None runs the built-in Bookinfo mesh.
    spec: Path | None = None
    # Locust's CSV statistics of every window, in locust/ beside results.json.
    locust_csv: bool = False


DATAPLANES = ("sidecar", "ambient", "ambient-l4")


def version_mismatch(wanted: str | None, running: str) -> str | None:
    """A notice when ``--istio-version`` names another minor than the cluster's istiod runs."""
    if wanted is None:
        return None
    from chaoskit.mesh.releases import parse_release

    try:
        differs = parse_release(running).minor_version != parse_release(wanted).minor_version
    except ConfigError:
        differs = True  # istiod's image tag is not a release chaoskit knows
    if not differs:
        return None
    return f"--istio-version {wanted} was asked for, but the cluster's istiod runs {running}"


def derive_spec(
    replicas: dict[str, int], directory: Path, dataplane: str = "sidecar", base: Path | None = None
) -> Path | None:
    """The mesh spec ``base`` (None: the built-in one) with some workloads' replica counts
    changed, and its app namespaces in the given data-plane mode (``sidecar``, ``ambient``
    with a waypoint per namespace, or ``ambient-l4``: enrolled without a waypoint, ztunnel
    only). Unchanged, it is ``base`` itself."""
    if not replicas and dataplane == "sidecar":
        return base
    from chaoskit.topology.spec import DEFAULT_SPEC_PATH

    source = Path(base or DEFAULT_SPEC_PATH)
    spec = yaml.safe_load(source.read_text())
    # The copy lives elsewhere: make its resource files absolute.
    home = source.resolve().parent
    spec["spec"]["resources"] = [str(home / r) for r in spec["spec"].get("resources", [])]
    wanted = dict(replicas)
    for workload in spec["spec"]["workloads"]:
        key = f"{workload.get('namespace', 'default')}/{workload['name']}"
        if key in wanted:
            workload["replicas"] = wanted.pop(key)
    if wanted:
        raise ConfigError(
            f"chaos_replicas names unknown workloads: {', '.join(sorted(wanted))} "
            "(write namespace/workload=N, e.g. bookinfo/ratings-v1=3)"
        )
    if dataplane not in DATAPLANES:
        raise ConfigError(
            f"chaos_dataplane: {dataplane!r} is not a data-plane mode; use one of "
            f"{', '.join(DATAPLANES)}"
        )
    if dataplane != "sidecar":
        for namespace in spec["spec"]["namespaces"]:
            if namespace["name"] == "istio-system":
                continue
            # What `kubectl label ns X istio.io/dataplane-mode=ambient` and `istioctl
            # waypoint apply -n X --enroll-namespace` leave on the namespace.
            labels = {"istio.io/dataplane-mode": "ambient"}
            if dataplane == "ambient":
                labels["istio.io/use-waypoint"] = "waypoint"
            namespace["labels"] = labels
    path = directory / "mesh-spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _workload_key(pod: Pod) -> tuple[str, str, str]:
    """Which workload a pod belongs to, by the labels its template gives every replica."""
    return (pod.namespace, pod.labels.get("app", ""), pod.labels.get("version", ""))


class ChaosSession:
    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        # The report directory's name doubles as the run id (the label on created objects).
        self.run_id = settings.report_dir.name if settings.report_dir else new_run_id()
        self.started = time.time()
        self.records: dict[str, dict[str, Any]] = {}
        self.active: list[Chaos] = []
        self.interrupted = False
        self._backend: MeshBackend | None = None
        self._process: Any = None
        self.address_mode: str | None = None  # the embedded mesh's, once it runs
        self._base: list[dict[str, Any]] = []
        self.journal_dir = workdir / "journal"
        self.guard: str | None = None  # what the context guard verified (real clusters)
        self.context: str | None = settings.kube_context
        self.notices: list[str] = []  # one line each, for the terminal summary and results
        self._identity: TargetIdentity | None = None
        # Base app settings by workload (namespace, app, version): non-empty on a mesh from
        # a spec that gives its apps settings.
        self._base_settings: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._closed = False

    # --- the mesh ---------------------------------------------------------------------

    @property
    def backend(self) -> MeshBackend:
        if self._backend is None:
            self._backend = self._start()
        return self._backend

    def _start(self) -> MeshBackend:
        backend = self._start_local() if self.settings.backend == "local" else self._connect()
        try:
            for path in self.settings.base:
                objects = [o for o in yaml.safe_load_all(path.read_text()) if o]
                for obj in objects:
                    obj.setdefault("metadata", {}).setdefault("namespace", "default")
                backend.apply_objects(objects, run_id="")
            self._base = [clean(o) for o in backend.list_objects()]
            if self.settings.backend == "local":
                # The embedded mesh's apps start with their mesh-spec settings (a twin's
                # latency, errors and calls): the state every experiment starts from.
                self._base_settings = {
                    _workload_key(pod): settings
                    for pod in backend.pods()
                    if (settings := backend.app_settings(pod))
                }
        except BaseException:
            backend.close()
            raise
        return backend

    def _start_local(self) -> MeshBackend:
        from chaoskit.controlplane.launcher import MeshProcess

        spec = derive_spec(
            self.settings.replicas, self.workdir, self.settings.dataplane, self.settings.spec
        )
        self._process = MeshProcess.start(
            self.workdir / "mesh",
            spec=spec,
            seed=self.settings.seed,
            istio_version=self.settings.istio_version,
            address_mode=self.settings.address_mode,
        )
        self.address_mode = self._process.info.address_mode
        backend = LocalBackend(self._process.info.kubeconfig, self._process.info)
        self._sweep(backend)
        return backend

    def _connect(self) -> MeshBackend:
        """A real cluster, past the context guard; its journal outlives the session so the
        next run can heal a crashed one."""
        from chaoskit.cluster import pins
        from chaoskit.experiment.cluster_mesh import ClusterTarget, connect, scale_workloads

        s = self.settings
        if s.allow_non_kind and s.backend != "kube":
            raise ConfigError(
                "--i-understand-this-is-not-kind goes with --mesh kube (and --kube-context NAME)"
            )
        context = s.kube_context or (pins.CONTEXT if s.backend == "kind" else None)
        if context is None:
            raise ConfigError(
                "--mesh kube needs --kube-context NAME; a cluster that is not kind also needs "
                "--i-understand-this-is-not-kind"
            )
        target = ClusterTarget(
            mesh=s.backend,
            context=context,
            # KUBECONFIG (read now, not when the client library was imported), else ~/.kube/config
            kubeconfig=os.environ.get("KUBECONFIG") or None,
            namespaces=tuple(s.namespaces),
            # Empty: connect() reads them from the cluster (chaoskit.cluster.discovery).
            ingress_http=s.ingress_http,
            ingress_https=s.ingress_https,
            client_url=s.client_url,
            allow_non_kind=s.allow_non_kind,
        )
        backend = connect(target, label_safe(self.run_id), s.root / ".chaoskit" / "journal")
        try:
            scale_workloads(backend, s.replicas)
        except BaseException:
            backend.close()
            raise
        self.notices += backend.kube.notices
        mismatch = version_mismatch(s.istio_version, backend.istio_version)
        if mismatch:
            self.notices.append(mismatch)
        if backend.guard is not None:
            self.guard = backend.guard.describe()
            self.context = backend.guard.context
        return backend

    def _target(self, backend: MeshBackend) -> TargetIdentity | None:
        """The API server behind the backend, which the experiments' journals record."""
        client = getattr(backend, "client", None)  # both backends speak through a KubeClient
        if self._identity is None and isinstance(client, KubeClient):
            self._identity = client.identity()
        return self._identity

    def _sweep(self, backend: MeshBackend) -> None:
        """Heal what crashed runs left on this mesh: restore their snapshots (journals
        written for another target are left alone), delete their labelled objects."""
        target = self._target(backend)
        for journal in leftover_journals(self.journal_dir, self.run_id):
            why = (
                target_mismatch(journal.read_target(), target)
                if target is not None
                else "the mesh's API server cannot be identified"
            )
            if why:
                self.notices.append(f"journal {journal.path} left in place, not replayed: {why}")
                continue
            with contextlib.suppress(Exception):
                backend.rollback([u for u in journal.read() if isinstance(u, ObjectUndo)])
            journal.clear()
        for obj in backend.list_objects():
            labels = obj["metadata"].get("labels") or {}
            if labels.get(RUN_LABEL):
                meta = obj["metadata"]
                backend.delete_object(obj["kind"], meta["namespace"], meta["name"])

    def mesh_description(self) -> dict[str, Any]:
        backend = self._backend
        return {
            "backend": self.settings.backend,
            "istio_version": backend.istio_version if backend else None,
            # The embedded mesh's data plane is the one asked for; a real cluster's backend
            # runs sidecars unless it says otherwise (a ``dataplane_mode`` attribute).
            "dataplane": (
                self.settings.dataplane
                if self.settings.backend == "local"
                else getattr(backend, "dataplane_mode", "sidecar")
                if backend
                else None
            ),
            "context": self.context,
            "ingress": backend.ingress_http if backend else None,
            **(
                {"spec": str(self.settings.spec)}
                if self.settings.spec and self.settings.backend == "local"
                else {}
            ),
            # The embedded mesh's: "ip" (a 127.x address per pod) or "port" (127.0.0.1).
            **({"address_mode": self.address_mode} if self.address_mode else {}),
            **({"guard": self.guard} if self.guard else {}),
            **({"notices": list(self.notices)} if self.notices else {}),
        }

    # --- per experiment --------------------------------------------------------------------

    def chaos(self, record: ExperimentRecord) -> Chaos:
        chaos = Chaos(
            self.backend,
            self.run_id,
            record,
            namespace=self.settings.namespace,
            mutation=self.settings.mutation,
            journal=Journal.for_run(self.journal_dir, self.run_id, self._target(self.backend)),
        )
        self.active.append(chaos)
        return chaos

    def stats_snapshot(self) -> dict[str, dict[str, int]]:
        snapshot = {}
        backend = self.backend
        for pod in self._mesh_pods(backend):
            with contextlib.suppress(Exception):
                stats = parse_stats(backend.admin(pod, "/stats?format=json&type=Counters"))
                snapshot[pod.name] = {
                    k: v for k, v in stats.items() if any(s in k for s in INTERESTING_STATS)
                }
        return snapshot

    def _mesh_pods(self, backend: MeshBackend) -> list[Pod]:
        """Running pods of the experiments' namespaces and the gateway."""
        namespaces = {*self.settings.namespaces, self.settings.namespace, "istio-system"}
        return [p for p in backend.pods() if p.running and p.namespace in namespaces]

    @staticmethod
    def stat_deltas(
        before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
    ) -> dict[str, dict[str, int]]:
        deltas = {}
        for pod, values in after.items():
            changed = counter_deltas(before.get(pod, {}), values)
            if changed:
                deltas[pod] = changed
        return deltas

    def lost_pods(self) -> list[str]:
        """Pods the mesh lost (died with no fault killing them); [] where it cannot tell."""
        probe = getattr(self._backend, "lost_pods", None)  # the embedded mesh knows
        return list(probe()) if probe is not None else []

    def restart_lost(self) -> None:
        restart = getattr(self._backend, "restart_lost", None)
        if restart is not None:
            restart()

    def check_between_experiments(self, name: str) -> None:
        """Report pods lost since the last experiment, then restart them."""
        lost = self.lost_pods()
        if lost:
            self.notices.append(
                f"before {name}: the mesh had lost {len(lost)} pod(s), restarted: "
                + ", ".join(lost)
            )
            self.restart_lost()

    def finish(self, chaos: Chaos) -> None:
        """Roll back one experiment and put the mesh back to its base state."""
        try:
            chaos.rollback()
        finally:
            if chaos in self.active:
                self.active.remove(chaos)
            self.reset()

    def reset(self) -> None:
        """Base Istio objects only, default app settings, every pod running."""
        backend = self.backend
        base = {
            (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in self._base
        }
        # On a cluster, what rollback left to somebody else's change stays theirs.
        theirs: set[tuple[str, str, str]] = getattr(backend, "left_to_others", set())
        for obj in backend.list_objects():
            current = clean(obj)
            meta = current["metadata"]
            key = (current["kind"], meta["namespace"], meta["name"])
            if key in theirs:
                continue
            if key not in base:
                backend.delete_object(*key)
            elif base[key].get("spec") != current.get("spec"):
                backend.apply_objects([base[key]], run_id="")
        present = {
            (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"])
            for o in backend.list_objects()
        }
        missing = [o for key, o in base.items() if key not in present and key not in theirs]
        if missing:
            backend.apply_objects(missing, run_id="")
        for pod in backend.pods():
            if not pod.running:
                backend.restart_pod(pod)
            elif backend.app_settings(pod) != (
                wanted := self._base_settings.get(_workload_key(pod), {})
            ):
                backend.set_app_settings(pod, wanted)
        backend.sync()

    # --- the end ---------------------------------------------------------------------------

    def close(self) -> None:
        """Roll back whatever is still active (an interrupted test), then stop the mesh.
        Once: a closed session keeps its description for the results."""
        if self._closed:
            return
        self._closed = True
        for chaos in list(self.active):
            with contextlib.suppress(Exception):
                self.finish(chaos)
        if self._backend is not None:
            self._backend.close()
        if self._process is not None:
            self._process.stop()
            self._process = None


def write_session_results(
    settings: Settings,
    started: float,
    mesh: dict[str, Any],
    experiments: list[dict[str, Any]],
    interrupted: bool,
) -> Path:
    """Write ``results.json`` (and the HTML report, where available) for a whole run."""
    directory = settings.report_dir or default_report_dir(settings.root)
    run_id = directory.name
    run = run_header(
        run_id,
        started,
        mesh
        or {
            "backend": settings.backend,
            "istio_version": None,
            "dataplane": None,
            "context": settings.kube_context,
            "ingress": None,
        },
        settings.seed,
        settings.duration_scale,
        settings.argv,
        settings.root,
        interrupted,
    )
    path = directory / "results.json"
    write_results(path, run, experiments)
    write_html(path)
    # A run that executed nothing (refused by the guard) keeps its own report but does not
    # displace the latest real run.
    executed = ran_an_experiment({"experiments": experiments})
    if executed and (settings.report_dir is None or directory.parent.name == "reports"):
        latest = directory.parent / "latest"
        with contextlib.suppress(OSError):
            if latest.is_symlink() or latest.exists():
                latest.unlink()
            latest.symlink_to(directory.name)
    return path


def sibling_history(results_path: Path, keep: int = 20) -> list[dict[str, Any]]:
    """The other runs in the same reports directory (the newest ``keep``), oldest first:
    the History section of a run's report. Unreadable ones are left out."""
    from chaoskit.report import load_results

    directory = results_path.parent
    history = []
    for other in sorted(directory.parent.glob("*/results.json"))[-keep:]:
        if other.parent != directory and not other.parent.is_symlink():
            with contextlib.suppress(ConfigError, OSError, ValueError):
                earlier = load_results(other)
                # A run that executed no experiment (refused by the guard) is not history.
                if ran_an_experiment(earlier):
                    history.append(earlier)
    history.sort(key=lambda run: run["run"]["started"])
    return history


def write_html(results_path: Path, keep: int = 20) -> Path | None:
    """``report.html`` next to ``results.json``, with earlier runs in the same reports
    directory as history. A results file that cannot be rendered is reported, not fatal:
    results.json is what must never be lost."""
    from chaoskit.report import load_results, write_report

    directory = results_path.parent
    try:
        current = load_results(results_path)
        history = sibling_history(results_path, keep)
        return write_report(current, directory / "report.html", history=history or None)
    except (ConfigError, OSError, ValueError) as exc:
        (directory / "report-error.txt").write_text(f"report.html was not written: {exc}\n")
        return None
