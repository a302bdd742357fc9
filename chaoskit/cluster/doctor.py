"""``chaoskit cluster doctor``: every assumption the cluster path makes, checked on the live
cluster before any experiment runs.

One row per check: what it found and, when it failed, how to fix it. The doctor only reads
(Kubernetes GETs, ``pilot-agent request GET stats`` through ``pods/exec``, ``pods/log``,
two HTTP GETs on the published ports), and every call has a short deadline, so a whole run
takes seconds. The guard comes first: a target it refuses (not kind, or an API server that
does not answer) ends the run after that row.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from chaoskit.cluster import pins
from chaoskit.cluster.accesslog import ACCESS_LOG_FORMAT, access_entry
from chaoskit.cluster.backend import parse_stats
from chaoskit.cluster.doctor_ambient import AmbientChecks, mode_mismatch
from chaoskit.cluster.guard import OVERRIDE_FLAG, UnsafeTarget, verify
from chaoskit.cluster.stats_matcher import bootstrap_stats_matcher, keeps
from chaoskit.errors import BackendError
from chaoskit.kube.client import KubeClient
from chaoskit.topology.podshape import PROXY_CONTAINER, sidecar_ready, sidecar_shape

OK, FAIL = "ok", "FAIL"
JsonObject = dict[str, Any]
Fetch = Callable[[str, float], tuple[int, str]]

# The Envoy stats the assertions read (outlier ejections, 5xx/timeouts/overflow per
# upstream cluster, connect failures, inbound request counts). Istio keeps only a few stat
# families unless meshConfig.defaultConfig.proxyStatsMatcher includes them (istio/istio
# pkg/bootstrap/config.go, "inclusionPrefixes"/"inclusionRegexps", tag 1.28.10).
REQUIRED_STATS: dict[str, str] = {
    "outlier ejections": r"^cluster\.outbound\|.*\.outlier_detection\.ejections_enforced_total$",
    "upstream 5xx": r"^cluster\.outbound\|.*\.upstream_rq_5xx$",
    "upstream timeouts": r"^cluster\.outbound\|.*\.upstream_rq_timeout$",
    "pending overflow": r"^cluster\.outbound\|.*\.upstream_rq_pending_overflow$",
    "connect failures": r"^cluster\.outbound\|.*\.upstream_cx_connect_fail$",
    "inbound requests": r"^cluster\.inbound\|.*\.upstream_rq_total$",
}
# Envoy creates these at first use (chaoskit/cluster/stats_matcher.py): on a fresh cluster
# the doctor asks the bootstrap's stats matcher about a stat of each shape instead.
CREATED_AT_FIRST_USE: dict[str, str] = {
    "outlier ejections": "cluster.outbound|9080||ratings.bookinfo.svc.cluster.local."
    "outlier_detection.ejections_enforced_total",
    "upstream 5xx": "cluster.outbound|9080||ratings.bookinfo.svc.cluster.local.upstream_rq_5xx",
}
STATS_FIX = (
    "add the missing family to meshConfig.defaultConfig.proxyStatsMatcher "
    "(chaoskit/cluster/assets/istio-operator.yaml has the list) and restart the pods "
    "(`kubectl rollout restart deployment -n {namespace}`): a proxy reads the matcher when "
    "it starts"
)
# Istio starts Envoy with --file-flush-interval-msec 1000: a request is in the log a second
# after it was served at the latest.
LOG_FLUSH_S = 1.0


@dataclass(frozen=True, slots=True)
class Row:
    check: str
    result: str  # ok | FAIL
    found: str
    fix: str = ""


@dataclass(frozen=True)
class DoctorTarget:
    kubeconfig: str | None = None
    context: str | None = None
    allow_non_kind: bool = False
    embedded: bool = False  # the embedded mesh (chaoskit/cluster/doctor_embedded.py)
    # The data plane the experiments expect: sidecar, or ambient (``doctor_ambient.py``)
    dataplane: str = "sidecar"
    # namespace -> the Deployments the suite needs there
    workloads: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            pins.BOOKINFO_NAMESPACE: pins.BOOKINFO_DEPLOYMENTS + pins.CLIENT_DEPLOYMENTS,
            pins.DEMO_NAMESPACE: pins.DEMO_DEPLOYMENTS,
        }
    )
    ingress_url: str = pins.PRODUCTPAGE_URL
    ingress_expect: str = pins.PRODUCTPAGE_TITLE
    client_url: str = pins.FORTIO_URL
    # what the in-mesh client fetches through its sidecar: the whole path, not just fortio
    client_fetch: str = f"productpage.{pins.BOOKINFO_NAMESPACE}:9080/productpage"
    request_timeout_s: float = 5.0


def fetch(url: str, timeout_s: float) -> tuple[int, str]:
    """GET ``url``: (HTTP status, body); a refused or silent port raises OSError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(4096).decode("utf-8", "replace")


class Doctor:
    def __init__(
        self,
        target: DoctorTarget,
        *,
        get: Fetch = fetch,
        sleep: Callable[[float], None] = time.sleep,
        connect: Callable[[DoctorTarget], KubeClient] | None = None,
    ) -> None:
        self.target = target
        self._get = get
        self._sleep = sleep
        self._connect = connect or _connect
        self.rows: list[Row] = []
        self._probe_pod: tuple[str, str] | None = None  # a ready sidecar to read

    def _add(self, check: str, ok: bool, found: str, fix: str = "") -> bool:
        self.rows.append(Row(check, OK if ok else FAIL, found, "" if ok else fix))
        return ok

    def run(self) -> list[Row]:
        if not self._guard():
            return self.rows
        client = self._connect(self.target)
        try:
            self._istio_version(client)
            if self.target.dataplane == "sidecar":
                for namespace, deployments in self.target.workloads.items():
                    self._injection(client, namespace)
                    self._sidecars(client, namespace, deployments)
            else:
                ambient = AmbientChecks(client, self._add, self.target.dataplane)
                ambient.ztunnel()
                for namespace, deployments in self.target.workloads.items():
                    ambient.namespace(namespace, deployments)
                self._probe_pod = ambient.probe  # the waypoint's Envoy has the L7 stats
            self._stats(client)
            self._ingress()
            self._access_log(client)
            self._client()
        finally:
            client.close()
        return self.rows

    # --- the checks -----------------------------------------------------------------------

    def _guard(self) -> bool:
        """The context guard; an API server that cannot be reached ends the run here."""
        target = self.target
        try:
            report = verify(
                target.kubeconfig,
                target.context,
                allow_non_kind=target.allow_non_kind,
                connect=lambda path, name: _client(path, name, target.request_timeout_s),
            )
        except UnsafeTarget as exc:
            first = str(exc).splitlines()
            found = "; ".join(line.strip(" -") for line in first[1:-1]) or first[0]
            fix = (
                "start the cluster (`chaoskit cluster up`; `kind get clusters` lists what runs) "
                "or correct the kubeconfig's server address"
                if "cannot reach the API server" in found
                else f"use the kind cluster (`chaoskit cluster up`, context {pins.CONTEXT}) or, "
                f"for another cluster, --kube-context NAME {OVERRIDE_FLAG}"
            )
            self._add("guard", False, found, fix)
            return False  # the doctor reads, but only what the guard lets chaoskit touch
        except BackendError as exc:
            self._add(
                "guard",
                False,
                str(exc),
                "start the cluster (`chaoskit cluster up`) or fix the kubeconfig's server",
            )
            return False
        if target.embedded:
            unlike_kind = "; ".join(c.detail for c in report.checks if not c.ok)
            return self._add(
                "guard",
                True,
                f"the embedded mesh, context {report.context} ({report.server}); not kind, "
                f"as expected: {unlike_kind or 'no difference found'}",
            )
        if report.overridden:
            return self._add("guard", True, f"allowed by {OVERRIDE_FLAG}: {report.describe()}")
        return self._add("guard", True, report.describe())

    def _istio_version(self, client: KubeClient) -> None:
        try:
            deployment = client.deployment(pins.ISTIO_NAMESPACE, "istiod")
        except BackendError as exc:
            self._add(
                "istio version",
                False,
                f"cannot read deployment {pins.ISTIO_NAMESPACE}/istiod: {exc}",
                f"install Istio {pins.istio_version()} (`chaoskit cluster up`)",
            )
            return
        containers = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
        image = str(((containers.get("containers") or [{}])[0]).get("image", ""))
        tag = image.rpartition(":")[2] if ":" in image else "(no tag)"
        self._add(
            "istio version",
            tag == pins.istio_version(),
            f"istiod runs {image or 'no image'}; the game day expects {pins.istio_version()}",
            f"install Istio {pins.istio_version()} (`chaoskit cluster up`), or name the release "
            "the cluster runs with --istio-version (chaoskit/mesh/releases.py lists them)",
        )

    def _injection(self, client: KubeClient, namespace: str) -> None:
        check = f"injection {namespace}"
        try:
            found = client.namespace(namespace)
        except BackendError as exc:
            self._add(
                check,
                False,
                f"cannot read namespace {namespace}: {exc}",
                "the doctor needs get on namespaces (RBAC)",
            )
            return
        if found is None:
            self._add(check, False, f"namespace {namespace} does not exist", _deploy_fix())
            return
        labels = (found.get("metadata") or {}).get("labels") or {}
        revision = labels.get("istio.io/rev")
        enabled = labels.get("istio-injection") == "enabled" or bool(revision)
        ambient = mode_mismatch(namespace, {str(k): str(v) for k, v in labels.items()}, "sidecar")
        if ambient is not None:  # an ambient namespace: say so, not just "not injected"
            self._add(
                check,
                False,
                ambient,
                f"kubectl label namespace {namespace} istio-injection=enabled "
                f"istio.io/dataplane-mode-, then kubectl rollout restart deployment -n "
                f"{namespace}",
            )
            return
        self._add(
            check,
            enabled,
            f"label istio-injection={labels.get('istio-injection', '(none)')}"
            + (f", istio.io/rev={revision}" if revision else ""),
            f"kubectl label namespace {namespace} istio-injection=enabled, then "
            f"kubectl rollout restart deployment -n {namespace}",
        )

    def _sidecars(self, client: KubeClient, namespace: str, deployments: Iterable[str]) -> None:
        check = f"sidecars {namespace}"
        try:
            pods = client.pods(namespace)
        except BackendError as exc:
            self._add(
                check,
                False,
                f"cannot list pods in {namespace}: {exc}",
                f"the doctor needs list on pods in {namespace} (RBAC)",
            )
            return
        scaled = _replicas(client, namespace)
        missing, bare, unready, shapes, counted = [], [], [], set(), 0
        idle = []
        for deployment in deployments:
            owned = [p for p in pods if _owned_by(p, deployment)]
            if not owned:
                if scaled.get(deployment) == 0:  # scaled to 0 on purpose (ratings-faulty)
                    idle.append(deployment)
                else:
                    missing.append(deployment)
                continue
            for pod in owned:
                counted += 1
                name = str(pod["metadata"]["name"])
                shape = sidecar_shape(pod)
                if shape is None:
                    bare.append(name)
                    continue
                shapes.add(shape)
                if not sidecar_ready(pod):
                    unready.append(name)
                elif self._probe_pod is None:
                    self._probe_pod = (namespace, name)
        problems = []
        if missing:
            problems.append(f"no pods of {', '.join(missing)}")
        if bare:
            problems.append(f"no {PROXY_CONTAINER} in {', '.join(bare)}")
        if unready:
            problems.append(f"{PROXY_CONTAINER} not ready in {', '.join(unready)}")
        if problems:
            fix = (
                f"label namespace {namespace} istio-injection=enabled and "
                f"`kubectl rollout restart deployment -n {namespace}`"
                if bare
                else _deploy_fix()
                if missing
                else f"`kubectl describe pod -n {namespace} {unready[0]}` (the sidecar's "
                "readiness probe); `istioctl proxy-status`"
            )
            self._add(check, False, "; ".join(problems), fix)
            return
        kinds = " and ".join(sorted(shapes)) or "no"
        zero = f" (0 replicas: {', '.join(idle)})" if idle else ""
        self._add(
            check,
            True,
            f"{counted} pod(s) of {len(list(deployments))} workloads{zero}, {kinds} sidecars, "
            "ready",
        )

    def _stats(self, client: KubeClient) -> None:
        check = "proxy stats"
        if self._probe_pod is None:
            self._add(check, False, "no ready sidecar to read", "fix the sidecar rows first")
            return
        namespace, pod = self._probe_pod
        where = f"{namespace}/{pod}"
        try:
            result = client.exec(
                namespace,
                pod,
                ["pilot-agent", "request", "GET", "stats"],
                container=PROXY_CONTAINER,
                timeout_s=self.target.request_timeout_s,
            )
        except BackendError as exc:
            self._add(
                check,
                False,
                f"`pilot-agent request GET stats` in {where}: {exc}",
                "the doctor needs pods/exec in the blast radius (RBAC: create on pods/exec)",
            )
            return
        if result.returncode != 0:
            detail = (result.stderr or result.message or result.stdout).strip()[:200]
            self._add(
                check,
                False,
                f"`pilot-agent request GET stats` in {where} exited {result.returncode}: {detail}",
                f"`kubectl logs -n {namespace} {pod} -c {PROXY_CONTAINER}`",
            )
            return
        names = list(parse_stats(result.stdout))
        absent = [
            family
            for family, pattern in REQUIRED_STATS.items()
            if not any(re.search(pattern, name) for name in names)
        ]
        # Families Envoy creates only at first use: absent is fine if the matcher keeps them.
        lazy = [f for f in absent if f in CREATED_AT_FIRST_USE]
        kept_lazy, note = self._kept_by_matcher(client, namespace, pod, lazy) if lazy else ([], "")
        absent = [f for f in absent if f not in kept_lazy]
        found = f"{len(names)} stats in {where}"
        if absent:
            found += f"; missing: {', '.join(absent)}"
        else:
            found += "; every family the checks read" + (f" ({note})" if note else "")
        self._add(check, not absent, found, STATS_FIX.format(namespace=namespace))

    def _kept_by_matcher(
        self, client: KubeClient, namespace: str, pod: str, families: list[str]
    ) -> tuple[list[str], str]:
        """The ``families`` the sidecar's bootstrap stats matcher keeps, read from its
        config_dump; none when the dump cannot be read or has no bootstrap."""
        try:
            result = client.exec(
                namespace,
                pod,
                ["pilot-agent", "request", "GET", "config_dump?mask=bootstrap.stats_config"],
                container=PROXY_CONTAINER,
                timeout_s=self.target.request_timeout_s,
            )
            matcher = bootstrap_stats_matcher(result.stdout) if result.returncode == 0 else None
        except (BackendError, ValueError):
            matcher = None
        if matcher is None:
            return [], ""
        kept = [f for f in families if keeps(matcher, CREATED_AT_FIRST_USE[f])]
        if not kept:
            return [], ""
        return kept, f"{', '.join(kept)}: created at first use, kept by the stats matcher"

    def _ingress(self) -> None:
        url = self.target.ingress_url
        try:
            code, body = self._get(url, self.target.request_timeout_s)
        except OSError as exc:
            self._add("ingress", False, f"GET {url}: {exc}", _ports_fix("the ingress gateway"))
            return
        ok = code == 200 and self.target.ingress_expect in body
        self._add(
            "ingress",
            ok,
            f"GET {url} -> HTTP {code}"
            + ("" if ok else f", without {self.target.ingress_expect!r}"),
            "`chaoskit cluster status`; `kubectl get pods -n istio-system`",
        )

    def _access_log(self, client: KubeClient) -> None:
        """The sidecar's log has JSON access lines with the parser's fields; when no request
        was logged yet, the mesh config must promise them. The lines are what counts: an
        accessLogFormat that does not parse makes istiod fall back to its own JSON format,
        with other field names, and only log an error (istio/istio
        pilot/pkg/model/telemetry_logging.go, MeshConfig_JSON, tag 1.28.10)."""
        check = "access log"
        if self._probe_pod is None:
            self._add(check, False, "no ready sidecar to read", "fix the sidecar rows first")
            return
        namespace, pod = self._probe_pod
        self._sleep(LOG_FLUSH_S)  # what the ingress check sent is flushed by now
        since = time.time() - 300
        try:
            text = client.pod_log(namespace, pod, PROXY_CONTAINER, since_s=since)
        except BackendError as exc:
            self._add(
                check,
                False,
                f"cannot read the log of {namespace}/{pod}: {exc}",
                "the doctor needs pods/log in the blast radius (RBAC: get on pods/log)",
            )
            return
        records, newest_is_text = _access_entries(text)
        wanted = set(ACCESS_LOG_FORMAT)
        fix = (
            "set meshConfig.accessLogEncoding: JSON and the accessLogFormat of "
            "chaoskit/cluster/assets/istio-operator.yaml"
        )
        if newest_is_text:
            # The newest line is what the sidecar writes now (a mesh config change applies
            # to requests served after it; older JSON lines say nothing about today).
            self._add(check, False, f"access lines in {namespace}/{pod} are text, not JSON", fix)
            return
        if records:
            have = set().union(*(set(r) for r in records))
            missing = sorted(wanted - have)
            self._add(
                check,
                not missing,
                f"{len(records)} JSON access line(s) in {namespace}/{pod}"
                + (f"; missing fields: {', '.join(missing)}" if missing else ", every field"),
                fix,
            )
            return
        self._mesh_config_log(client, check, f"no access line in {namespace}/{pod} yet", fix)

    def _mesh_config_log(self, client: KubeClient, check: str, seen: str, fix: str) -> None:
        try:
            config = client.call(
                "GET", f"/api/v1/namespaces/{pins.ISTIO_NAMESPACE}/configmaps/istio"
            )
            mesh = yaml.safe_load(((config or {}).get("data") or {}).get("mesh") or "") or {}
        except (BackendError, yaml.YAMLError) as exc:
            self._add(check, False, f"{seen}; cannot read the mesh config: {exc}", fix)
            return
        encoding = mesh.get("accessLogEncoding")
        try:
            keys = set(json.loads(mesh.get("accessLogFormat") or "{}"))
        except ValueError:
            keys = set()
        missing = sorted(set(ACCESS_LOG_FORMAT) - keys)
        ok = encoding == "JSON" and bool(mesh.get("accessLogFile")) and not missing
        self._add(
            check,
            ok,
            f"{seen}; mesh config: accessLogFile={mesh.get('accessLogFile') or '(none)'}, "
            f"encoding {encoding or '(TEXT)'}"
            + (f", format lacks {', '.join(missing)}" if missing else ", every field"),
            fix,
        )

    def _client(self) -> None:
        base = self.target.client_url.rstrip("/")
        url = f"{base}/fortio/fetch/{self.target.client_fetch}"
        try:
            code, _body = self._get(url, self.target.request_timeout_s)
        except OSError as exc:
            self._add("in-mesh client", False, f"GET {url}: {exc}", _ports_fix("fortio"))
            return
        self._add(
            "in-mesh client",
            code == 200,
            f"fortio fetched {self.target.client_fetch} -> HTTP {code}",
            f"`kubectl logs -n {pins.BOOKINFO_NAMESPACE} deploy/fortio -c {PROXY_CONTAINER}`",
        )


# --- helpers ------------------------------------------------------------------------------------


def _client(path: Any, context: str, timeout_s: float) -> KubeClient:
    return KubeClient.from_kubeconfig(
        str(path) if path is not None else None, context, request_timeout_s=timeout_s
    )


def _connect(target: DoctorTarget) -> KubeClient:
    return _client(target.kubeconfig, target.context or "", target.request_timeout_s)


def _owned_by(pod: JsonObject, deployment: str) -> bool:
    """A Deployment's pod: its ReplicaSet (or, if none is recorded, its name) is
    ``<deployment>-<pod-template-hash>``."""
    meta = pod.get("metadata") or {}
    owners = [str(o.get("name", "")) for o in meta.get("ownerReferences") or []]
    names = owners or [str(meta.get("name", ""))]
    return any(n == deployment or n.startswith(f"{deployment}-") for n in names)


def _replicas(client: KubeClient, namespace: str) -> dict[str, int]:
    """Each Deployment's desired replicas; empty where Deployments cannot be listed."""
    try:
        return {
            str(d["metadata"]["name"]): int((d.get("spec") or {}).get("replicas", 1))
            for d in client.deployments(namespace)
        }
    except BackendError:
        return {}


def _access_entries(text: str) -> tuple[list[JsonObject], bool]:
    """The JSON access entries of a ``--timestamps`` log, as Envoy wrote them (the fields
    present, before the parser fills in defaults), and whether the newest access line is
    in Envoy's text format instead."""
    entries: list[JsonObject] = []
    newest_is_text = False
    for line in text.splitlines():
        body = line.partition(" ")[2]
        entry = access_entry(body)
        if entry is not None:
            entries.append(entry)
            newest_is_text = False
        elif '" ' in body and "HTTP/" in body:
            newest_is_text = True
    return entries, newest_is_text


def _deploy_fix() -> str:
    return "`chaoskit cluster up` deploys the suite's workloads (or apply chaoskit/cluster/assets)"


def _ports_fix(what: str) -> str:
    return (
        f"kind-config.yaml must publish {what}'s NodePort on 127.0.0.1; `chaoskit cluster status`"
    )


def render(rows: list[Row]) -> str:
    """The table the command prints: CHECK, RESULT, FOUND; under a failed row, its fix."""
    table = [("CHECK", "RESULT", "FOUND")] + [(r.check, r.result, r.found) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(2)]
    lines = []
    for index, row in enumerate(table):
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())
        fix = rows[index - 1].fix if index else ""
        if fix:
            lines.append(f"{'':<{widths[0]}}  {'':<{widths[1]}}  fix: {fix}")
    failed = [r.check for r in rows if r.result == FAIL]
    verdict = (
        f"{len(failed)} of {len(rows)} checks failed: {', '.join(failed)}"
        if failed
        else f"all {len(rows)} checks passed"
    )
    return "\n".join(lines) + f"\n{verdict}\n"
