"""``chaoskit mesh snapshot``: a twin of a live cluster's services, workloads and Istio
config, as a mesh spec the embedded mesh runs.

It only reads (GET requests), and never reads a Secret's data: it lists istio-system's
Secret names (metadata only) to say which Gateway ``credentialName`` has none, and each
becomes a self-signed stand-in for the Gateway's hosts, so key material never leaves the
cluster. Every workload runs the generic ``echo`` app; what the snapshot cannot carry over
(Istio kinds the embedded mesh does not emulate, headless Services, workload kinds other
than Deployments and StatefulSets) is listed as a warning, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from chaoskit.cluster.calibrate import Calibration
from chaoskit.errors import BackendError
from chaoskit.kube.objects import clean

__all__ = [
    "EMULATED_KINDS",
    "METADATA_ONLY",
    "Snapshot",
    "app_workloads",
    "read_snapshot",
    "write_snapshot",
]

JsonObject = dict[str, Any]
# Namespaces the control plane and Kubernetes own: not part of a user's mesh.
SYSTEM_NAMESPACES = frozenset(
    {"kube-system", "kube-public", "kube-node-lease", "local-path-storage", "istio-system"}
)
GATEWAY_NAMESPACE = "istio-system"
GATEWAY_SELECTOR = {"istio": "ingressgateway"}
# Istio kinds the embedded mesh runs: (API group/version, plural, kind). EnvoyFilter runs in
# part (`chaoskit analyze` names each patch it does not emulate, CK0301).
EMULATED_KINDS = (
    ("networking.istio.io/v1", "virtualservices", "VirtualService"),
    ("networking.istio.io/v1", "destinationrules", "DestinationRule"),
    ("networking.istio.io/v1", "gateways", "Gateway"),
    ("networking.istio.io/v1", "serviceentries", "ServiceEntry"),
    ("networking.istio.io/v1alpha3", "envoyfilters", "EnvoyFilter"),
)
# Istio kinds it reads only to say they were left out: (API group/version, plural, kind).
NOT_EMULATED = (
    ("networking.istio.io/v1", "sidecars", "Sidecar"),
    ("networking.istio.io/v1", "workloadentries", "WorkloadEntry"),
    ("security.istio.io/v1", "peerauthentications", "PeerAuthentication"),
    ("security.istio.io/v1", "authorizationpolicies", "AuthorizationPolicy"),
    ("security.istio.io/v1", "requestauthentications", "RequestAuthentication"),
    ("telemetry.istio.io/v1", "telemetries", "Telemetry"),
)
MAX_REPLICAS = 64  # the mesh spec's bound per workload
try:  # libyaml writes a 200-object snapshot about five times faster when present
    _Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment,misc,unused-ignore]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Dumper = yaml.SafeDumper


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False)


# Istio's protocol selection by port name prefix or appProtocol (istio.io, "Protocol
# Selection"); the mesh spec knows these.
PROTOCOLS = {"http": "HTTP", "http2": "HTTP2", "https": "HTTPS", "grpc": "GRPC", "tcp": "TCP"}


class Reader(Protocol):
    """What the snapshot needs from a Kubernetes client: JSON GETs."""

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> Any: ...


@dataclass
class Snapshot:
    context: str
    server: str
    namespaces: list[JsonObject] = field(default_factory=list)
    services: list[JsonObject] = field(default_factory=list)
    workloads: list[JsonObject] = field(default_factory=list)  # Deployments, StatefulSets
    istio: list[JsonObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What --prometheus gave: the apps' behaviour, or why the twin keeps the defaults.
    calibration: Calibration | None = None
    calibration_problem: str = ""
    # istio-system's kubernetes.io/tls Secrets, by name: a Gateway applied later may use them.
    tls_secrets: list[str] = field(default_factory=list)


def _items(reader: Reader, path: str) -> list[JsonObject]:
    result = reader.call("GET", path)
    return list((result or {}).get("items", []))


def _status(exc: BackendError) -> int | None:
    return getattr(exc, "status", None)


def read_snapshot(
    reader: Reader, *, context: str, server: str, namespaces: list[str] | None = None
) -> Snapshot:
    """Read the namespaces' Services, workloads and Istio objects (GET only)."""
    snap = Snapshot(context=context, server=server)
    every = {n["metadata"]["name"]: n for n in _items(reader, "/api/v1/namespaces")}
    if namespaces is None:
        chosen = sorted(n for n in every if n not in SYSTEM_NAMESPACES)
    else:
        missing = [n for n in namespaces if n not in every]
        if missing:
            raise BackendError(
                f"namespace(s) {', '.join(missing)} do not exist in context {context!r} "
                f"(it has: {', '.join(sorted(every))})"
            )
        chosen = [n for n in namespaces if n != GATEWAY_NAMESPACE]
    for name in chosen:
        snap.namespaces.append(every[name])
        _read_namespace(reader, snap, name)
        if not any(s["metadata"]["namespace"] == name for s in snap.services):
            snap.warnings.append(f"namespace {name} has no Services: nothing in it to call")
    _read_gateway(reader, snap, every)
    _check_credentials(reader, snap)
    if GATEWAY_NAMESPACE in every:
        _read_tls_secret_names(reader, snap)
    return snap


def _read_namespace(reader: Reader, snap: Snapshot, namespace: str) -> None:
    for service in _items(reader, f"/api/v1/namespaces/{namespace}/services"):
        spec = service.get("spec", {})
        name = f"Service {namespace}/{service['metadata']['name']}"
        if spec.get("type") == "ExternalName":
            snap.warnings.append(f"{name}: ExternalName services are not modelled; left out")
        elif spec.get("clusterIP") == "None":
            snap.warnings.append(f"{name}: headless services are not modelled; left out")
        elif not spec.get("selector"):
            snap.warnings.append(f"{name}: no selector (its endpoints are manual); left out")
        else:
            snap.services.append(service)
    snap.workloads.extend(_items(reader, f"/apis/apps/v1/namespaces/{namespace}/deployments"))
    # A server without StatefulSets (the embedded mesh's API) has none to copy.
    statefulsets = f"/apis/apps/v1/namespaces/{namespace}/statefulsets"
    for item in _try_items(reader, statefulsets, snap):
        snap.workloads.append({**item, "kind": "StatefulSet"})
    for plural in ("daemonsets",):
        for item in _try_items(reader, f"/apis/apps/v1/namespaces/{namespace}/{plural}", snap):
            snap.warnings.append(
                f"DaemonSet {namespace}/{item['metadata']['name']}: one pod per node is not "
                "modelled; left out"
            )
    _read_istio(reader, snap, namespace)


def _read_istio(reader: Reader, snap: Snapshot, namespace: str) -> None:
    for group_version, plural, kind in EMULATED_KINDS:
        path = f"/apis/{group_version}/namespaces/{namespace}/{plural}"
        for item in _try_items(reader, path, snap):
            item.setdefault("kind", kind)
            item.setdefault("apiVersion", group_version)
            snap.istio.append(item)
    for group_version, plural, kind in NOT_EMULATED:
        path = f"/apis/{group_version}/namespaces/{namespace}/{plural}"
        for item in _try_items(reader, path, snap):
            snap.warnings.append(
                f"{kind} {namespace}/{item['metadata']['name']}: the embedded mesh does not "
                "emulate this kind; left out"
            )


def _try_items(reader: Reader, path: str, snap: Snapshot) -> list[JsonObject]:
    """A list the cluster may not serve (a CRD not installed: none) or may not let this
    user read (RBAC: none, and the snapshot says what it could not read)."""
    try:
        return _items(reader, path)
    except BackendError as exc:
        if _status(exc) == 403:
            snap.warnings.append(f"could not read {path}: forbidden (403) for this user")
            return []
        if _status(exc) == 404:
            return []
        raise


# Names only: the API server answers a list with each object's metadata and nothing else
# when asked for PartialObjectMetadataList (kubernetes.io, "API concepts", "Receiving
# resources as metadata only"), so no key material crosses the wire.
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


TLS_STAND_IN_HOSTS = ["*.example.com"]  # hosts of a stand-in no Gateway names hosts for


def _read_tls_secret_names(reader: Reader, snap: Snapshot) -> None:
    """istio-system's TLS Secrets, names only (a Secret's ``type`` is a field selector the
    API server supports), so that a Gateway applied to the twin later finds its stand-in."""
    path = f"/api/v1/namespaces/{GATEWAY_NAMESPACE}/secrets"
    query = {"fieldSelector": "type=kubernetes.io/tls"}
    try:
        listed = reader.call("GET", path, query=query, accept=METADATA_ONLY) or {}
    except BackendError as exc:
        snap.warnings.append(
            f"could not list the names of TLS Secrets in {GATEWAY_NAMESPACE} "
            f"({_status(exc) or exc}): only the Gateways' credentialNames get stand-ins"
        )
        return
    snap.tls_secrets = sorted(i["metadata"]["name"] for i in listed.get("items", []))
    named = {name for name, _ in _credential_names(snap)}
    for name in snap.tls_secrets:
        if name not in named:
            snap.warnings.append(
                f"TLS Secret {GATEWAY_NAMESPACE}/{name} is named by no Gateway: its stand-in "
                f"is for {', '.join(TLS_STAND_IN_HOSTS)} (its real hosts are in its "
                "certificate, which was not read)"
            )


def _check_credentials(reader: Reader, snap: Snapshot) -> None:
    """Say which Gateway credentialNames have no Secret in istio-system (names only)."""
    wanted = sorted({name for name, _ in _credential_names(snap)})
    if not wanted:
        return
    path = f"/api/v1/namespaces/{GATEWAY_NAMESPACE}/secrets"
    try:
        listed = reader.call("GET", path, accept=METADATA_ONLY) or {}
    except BackendError as exc:
        snap.warnings.append(
            f"could not list Secret names in {GATEWAY_NAMESPACE} ({_status(exc) or exc}): "
            f"whether the Gateways' credentialNames ({', '.join(wanted)}) exist was not "
            "checked; the twin has a self-signed stand-in for each"
        )
        return
    present = {i["metadata"]["name"] for i in listed.get("items", [])}
    for name in wanted:
        if name not in present:
            snap.warnings.append(
                f"Gateway credentialName {name}: no Secret of that name in "
                f"{GATEWAY_NAMESPACE}, so on the cluster its servers cannot serve TLS; "
                "the twin has a self-signed stand-in anyway"
            )


def _read_gateway(reader: Reader, snap: Snapshot, every: dict[str, JsonObject]) -> None:
    """The ingress gateway (istio-system, istio=ingressgateway): the twin's way in."""
    if GATEWAY_NAMESPACE not in every:
        snap.warnings.append(
            "no istio-system namespace: the twin gets chaoskit's default ingress gateway"
        )
        return
    services = [
        s
        for s in _items(reader, f"/api/v1/namespaces/{GATEWAY_NAMESPACE}/services")
        if (s.get("spec", {}).get("selector") or {}).items() >= GATEWAY_SELECTOR.items()
    ]
    deployments = [
        d
        for d in _items(reader, f"/apis/apps/v1/namespaces/{GATEWAY_NAMESPACE}/deployments")
        if _template_labels(d).items() >= GATEWAY_SELECTOR.items()
    ]
    if not services or not deployments:
        snap.warnings.append(
            "no ingress gateway (istio=ingressgateway) in istio-system: the twin gets "
            "chaoskit's default one"
        )
        return
    snap.namespaces.append(every[GATEWAY_NAMESPACE])
    snap.services.append(services[0])
    snap.workloads.append(deployments[0])
    # Gateways (and the root namespace's mesh-wide rules) usually live here.
    _read_istio(reader, snap, GATEWAY_NAMESPACE)


def app_workloads(snap: Snapshot) -> list[JsonObject]:
    """The workloads that run the generic app: all but the ingress gateway."""
    return [w for w in snap.workloads if not _is_gateway(w)]


def _is_gateway(workload: JsonObject) -> bool:
    return (
        workload["metadata"]["namespace"] == GATEWAY_NAMESPACE
        and _template_labels(workload).items() >= GATEWAY_SELECTOR.items()
    )


def _template_labels(workload: JsonObject) -> dict[str, str]:
    return dict(
        workload.get("spec", {}).get("template", {}).get("metadata", {}).get("labels") or {}
    )


# --- the twin's mesh spec -------------------------------------------------------------------


def write_snapshot(snap: Snapshot, out: Path) -> Path:
    """Write ``out/mesh.yaml``, ``out/resources/`` and ``out/README.md``; return the spec."""
    resources = out / "resources"
    resources.mkdir(parents=True, exist_ok=True)
    files = []
    for item in snap.istio:
        meta = item["metadata"]
        name = f"{item['kind'].lower()}-{meta['namespace']}-{meta['name']}.yaml"
        (resources / name).write_text(_dump(clean(item)))
        files.append(f"resources/{name}")
    body: JsonObject = {
        "namespaces": [_namespace(n) for n in snap.namespaces],
        "services": [_service(s, snap) for s in snap.services],
        "workloads": [w for w in (_workload(w, snap) for w in snap.workloads) if w],
        "secrets": _secrets(snap),
        "resources": sorted(files),
    }
    if not any(n["metadata"]["name"] == GATEWAY_NAMESPACE for n in snap.namespaces):
        _add_default_gateway(body)
    spec = {
        "apiVersion": "chaoskit.dev/v1alpha1",
        "kind": "MeshSpec",
        "metadata": {"name": _spec_name(snap.context)},
        "spec": body,
    }
    path = out / "mesh.yaml"
    header = (
        f"# A twin of context {snap.context!r} ({snap.server}), written by "
        "`chaoskit mesh snapshot`.\n# Every workload runs the generic echo app; see README.md "
        "for what was read and what was left out.\n"
    )
    path.write_text(header + _dump(spec))
    (out / "README.md").write_text(_readme(snap, files))
    return path


def _spec_name(context: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", context.lower()).strip("-")[:50] or "twin"


def _namespace(namespace: JsonObject) -> JsonObject:
    labels = dict(namespace["metadata"].get("labels") or {})
    name = namespace["metadata"]["name"]
    if name == GATEWAY_NAMESPACE:
        return {"name": name, "labels": {}}
    injected = labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels
    return {"name": name, "labels": {"istio-injection": "enabled"} if injected else {}}


def _service(service: JsonObject, snap: Snapshot) -> JsonObject:
    meta, spec = service["metadata"], service["spec"]
    ports = []
    for port in spec.get("ports", []):
        entry: JsonObject = {"name": port.get("name") or "http", "port": int(port["port"])}
        target = _target_port(port, service, snap)
        if target is not None and target != entry["port"]:
            entry["targetPort"] = target
        protocol = _protocol(port)
        if protocol != "HTTP":
            entry["protocol"] = protocol
        ports.append(entry)
    return {
        "name": meta["name"],
        "namespace": meta["namespace"],
        "ports": ports,
        "selector": dict(spec.get("selector") or {}),
    }


def _protocol(port: JsonObject) -> str:
    """Istio's explicit protocol selection: appProtocol, else the name's prefix."""
    chosen = str(port.get("appProtocol") or port.get("name") or "http").lower()
    return PROTOCOLS.get(chosen.split("-", 1)[0], "HTTP")


def _target_port(port: JsonObject, service: JsonObject, snap: Snapshot) -> int | None:
    target = port.get("targetPort")
    if target is None or isinstance(target, int):
        return target
    if str(target).isdigit():
        return int(target)
    # A named targetPort: the containerPort of that name in the selected pod template.
    selector = service["spec"].get("selector") or {}
    for workload in snap.workloads:
        if workload["metadata"]["namespace"] != service["metadata"]["namespace"]:
            continue
        if not _template_labels(workload).items() >= selector.items():
            continue
        for container in workload["spec"]["template"]["spec"].get("containers", []):
            for declared in container.get("ports", []):
                if declared.get("name") == target:
                    return int(declared["containerPort"])
    snap.warnings.append(
        f"Service {service['metadata']['namespace']}/{service['metadata']['name']}: "
        f"targetPort {target!r} names no container port of its pods; the twin uses the "
        "service port"
    )
    return None


def _workload(workload: JsonObject, snap: Snapshot) -> JsonObject | None:
    meta = workload["metadata"]
    labels = _template_labels(workload)
    where = f"{workload.get('kind', 'Deployment')} {meta['namespace']}/{meta['name']}"
    if not labels:
        snap.warnings.append(f"{where}: its pod template has no labels; left out")
        return None
    replicas = int(workload.get("spec", {}).get("replicas", 1) or 0)
    if replicas > MAX_REPLICAS:
        snap.warnings.append(f"{where}: {replicas} replicas, the twin runs {MAX_REPLICAS}")
        replicas = MAX_REPLICAS
    entry: JsonObject = {
        "name": meta["name"],
        "namespace": meta["namespace"],
        "labels": labels,
        "replicas": replicas,
    }
    if _is_gateway(workload):
        entry["app"] = {"name": "ingress-gateway"}
        entry["sidecar"] = False
        return entry
    entry["app"] = {"name": "echo"}
    settings = (
        snap.calibration.settings.get((meta["namespace"], meta["name"]))
        if (snap.calibration)
        else None
    )
    # Uncalibrated workloads answer in a few ms, written out so the twin's mesh.yaml shows
    # the behaviour it runs and a user can edit it in place.
    entry["app"]["settings"] = {**DEFAULT_SETTINGS, **(settings or {})}
    template = workload["spec"]["template"]
    inject = {
        **(template.get("metadata", {}).get("annotations") or {}),
        **labels,
    }.get("sidecar.istio.io/inject")
    if inject == "false":
        entry["sidecar"] = False
    return entry


def _secrets(snap: Snapshot) -> list[JsonObject]:
    """Self-signed stand-ins for every Gateway credentialName (the Secret is never read)."""
    found: dict[tuple[str, str], list[str]] = {}
    for name, hosts in _credential_names(snap):
        found.setdefault((GATEWAY_NAMESPACE, name), []).extend(hosts)
    for name in snap.tls_secrets:
        found.setdefault((GATEWAY_NAMESPACE, name), list(TLS_STAND_IN_HOSTS))
    return [
        {"name": name, "namespace": ns, "selfSigned": {"hosts": sorted(set(hosts))}}
        for (ns, name), hosts in sorted(found.items())
    ]


def _credential_names(snap: Snapshot) -> list[tuple[str, list[str]]]:
    """(credentialName, the server's hosts) of every Gateway server with TLS."""
    found = []
    for item in snap.istio:
        if item["kind"] != "Gateway":
            continue
        for server in item.get("spec", {}).get("servers", []):
            name = (server.get("tls") or {}).get("credentialName")
            if not name:
                continue
            hosts = [h.split("/", 1)[-1] for h in server.get("hosts", [])]
            found.append((name, [h for h in hosts if h != "*"] or ["*.example.com"]))
    return found


def _add_default_gateway(spec: JsonObject) -> None:
    spec["namespaces"].append({"name": GATEWAY_NAMESPACE, "labels": {}})
    spec["services"].append(
        {
            "name": "istio-ingressgateway",
            "namespace": GATEWAY_NAMESPACE,
            "selector": dict(GATEWAY_SELECTOR),
            "ports": [
                {"name": "http2", "port": 80, "targetPort": 8080},
                {"name": "https", "port": 443, "targetPort": 8443},
            ],
        }
    )
    spec["workloads"].append(
        {
            "name": "istio-ingressgateway",
            "namespace": GATEWAY_NAMESPACE,
            "labels": {"app": "istio-ingressgateway", **GATEWAY_SELECTOR},
            "app": {"name": "ingress-gateway"},
            "sidecar": False,
        }
    )


def _readme(snap: Snapshot, files: list[str]) -> str:
    names = ", ".join(n["metadata"]["name"] for n in snap.namespaces) or "none"
    lines = [
        "# A twin of a live mesh",
        "",
        f"Written by `chaoskit mesh snapshot` from context `{snap.context}` ({snap.server}).",
        "It only read the cluster (GET requests); of Secrets it read names only.",
        "",
        f"- Namespaces: {names}",
        f"- Services: {len(snap.services)}",
        f"- Workloads (Deployments and StatefulSets): {len(snap.workloads)}, each running the "
        f"generic echo app ({_behaviour(snap)})",
        f"- Istio objects: {len(files)} in `resources/`, in force when the twin starts",
        "- Gateway TLS: a self-signed stand-in for each `credentialName`, for the Gateway's "
        "hosts; no key material was copied",
        "",
        "Run it with `chaoskit mesh up --spec mesh.yaml`, check its config with "
        "`chaoskit analyze --mesh-spec mesh.yaml resources/`.",
        "",
    ]
    lines += _calibration_section(snap)
    lines += ["## Left out", ""]
    lines += [f"- {w}" for w in snap.warnings] or ["- nothing"]
    return "\n".join(lines) + "\n"


DEFAULT_SETTINGS: dict[str, Any] = {
    "latency": {"distribution": "quantiles", "p50": "2ms", "p90": "4ms", "p99": "8ms"}
}
DEFAULT_BEHAVIOUR = "2 ms median, 4 ms p90, 8 ms p99; no errors, no calls"


def _behaviour(snap: Snapshot) -> str:
    if snap.calibration is None:
        return DEFAULT_BEHAVIOUR
    return (
        f"calibrated from Prometheus for {len(snap.calibration.settings)} of them, the "
        f"rest {DEFAULT_BEHAVIOUR}"
    )


def _calibration_section(snap: Snapshot) -> list[str]:
    if snap.calibration_problem:
        return [
            "## Behaviour",
            "",
            f"Not calibrated: {snap.calibration_problem}",
            "",
            f"Every workload keeps the default behaviour ({DEFAULT_BEHAVIOUR}).",
            "",
        ]
    calibration = snap.calibration
    if calibration is None:
        return []
    lines = [
        "## Behaviour, calibrated from Prometheus",
        "",
        f"From Istio's standard metrics over the last {calibration.window} "
        "(`app.settings` in mesh.yaml):",
        "",
    ]
    lines += [f"- {source}" for source in calibration.sources]
    lines += [
        "",
        "Approximations: a workload's measured latency includes its callees'; each quantile "
        "is reduced by its slowest callee's (never below a tenth of the measured value), "
        "since the twin's app adds its calls' time to its own. Quantiles do not subtract "
        "exactly. The metrics do not say in which order a workload calls: the twin calls in "
        "parallel. A call is kept when it is made on at least half of the caller's requests. "
        'Every series is the destination sidecar\'s (`reporter="destination"`): a workload '
        "without a sidecar is neither calibrated nor seen as a callee.",
        "",
    ]
    lines += [f"- {note}" for note in calibration.notes]
    return lines + ([""] if calibration.notes else [])
