"""chaoskit's analyzers against the cases of Istio's own analyzer tests.

``tests/data/istio-analyzers/`` holds inputs from istio/istio
``pkg/config/analysis/analyzers/testdata`` and the expected messages of
``analyzers_test.go`` (1.28.10; see the README there). Each upstream case runs one analyzer;
chaoskit runs all of its checks, so its messages are attributed to the Istio analyzer that
emits them, and only that analyzer's are compared.

Agreement is counted per resource that either side reports on: a resource agrees when it
gets the same message types, as many times. The Kubernetes objects of an input (Services,
Pods, Secrets, Nodes) become the mesh spec the checks read: a Service's exportTo annotation,
a Pod's node and the Node's labels included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.analysis import analyze_resources
from chaoskit.analysis.messages import Message
from chaoskit.istio.loading import LoadedResource, load_text
from chaoskit.topology.spec import MeshSpec

DATA = Path(__file__).parent / "data" / "istio-analyzers"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yaml").read_text())
REQUIRED_AGREEMENT = 0.95
# A label no pod carries: a Kubernetes Service without a selector selects no pods, where a
# chaoskit mesh-spec Service without one selects app=<name>.
NO_SELECTOR = {"chaoskit.dev/test-no-selector": "true"}
EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo"

# Which Istio analyzer emits each of chaoskit's messages. IST0101 is shared: its first
# argument says what was not found.
_IST0101_BY_WHAT = {
    "host": "DestinationHostAnalyzer",
    "mirror host": "DestinationHostAnalyzer",
    "host:port": "DestinationHostAnalyzer",
    "host+subset in destinationrule": "DestinationRuleAnalyzer",
    "mirror+subset in destinationrule": "DestinationRuleAnalyzer",
    "gateway": "GatewayAnalyzer",
    "credentialName": "SecretAnalyzer",
}
# Istio's IngressGatewayPortAnalyzer and SecretAnalyzer both report a Gateway selector that
# matches no pod; chaoskit reports it once, so it counts for either analyzer's case.
_SELECTOR_ANALYZERS = {"IngressGatewayPortAnalyzer", "SecretAnalyzer"}
_ANALYZER_BY_CODE = {
    "IST0106": "SchemaValidation(VirtualService)",
    "IST0109": "ConflictingMeshGatewayHostsAnalyzer",
    "IST0112": "DestinationHostAnalyzer",
    "IST0128": "CaCertificateAnalyzer",
    "IST0129": "CaCertificateAnalyzer",
    "IST0130": "SchemaValidation(VirtualService)",
    "IST0131": "SchemaValidation(VirtualService)",
    "IST0132": "GatewayAnalyzer",
    "IST0133": "SchemaValidation(VirtualService)",
    "IST0162": "IngressGatewayPortAnalyzer",
    "IST0173": "PodNotSelectedAnalyzer",
    "IST0174": "PodNotSelectedAnalyzer",
}


def _analyzers_of(message: Message) -> set[str]:
    if message.type.code == "IST0101":
        what = str(message.args[0])
        if what == "selector":
            return _SELECTOR_ANALYZERS
        return {_IST0101_BY_WHAT[what]} if what in _IST0101_BY_WHAT else set()
    if message.type.code in ("IST0106", "IST0133") and message.kind != "VirtualService":
        return set()  # the upstream case runs the VirtualService collection's validation only
    analyzer = _ANALYZER_BY_CODE.get(message.type.code)
    return {analyzer} if analyzer else set()


# What the upstream test adds to every case (local.IstiodAnalyzer.AddDefaultResources,
# pkg/config/analysis/local/defaults.go): an ingress gateway pod and its Service.
DEFAULT_INGRESS: list[dict[str, Any]] = [
    {
        "kind": "Pod",
        "metadata": {
            "name": "istio-ingressgateway-dummypod",
            "namespace": "istio-system",
            "labels": {"istio": "ingressgateway"},
        },
    },
    {
        "kind": "Service",
        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "ports": [
                {"name": name, "port": port, "targetPort": port}
                for name, port in (("http2", 80), ("https", 443), ("tcp", 31400), ("tls", 15443))
            ],
        },
    },
]


def _mesh_from(objects: list[dict[str, Any]]) -> MeshSpec:
    """The Kubernetes objects of a case's input as a chaoskit mesh spec."""

    def namespace(obj: dict[str, Any]) -> str:
        return str((obj.get("metadata") or {}).get("namespace") or "default")

    services, workloads, secrets, nodes = [], [], [], []
    for obj in objects:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        if obj.get("kind") == "Service" and spec.get("ports"):
            ports = [
                {
                    "name": str(p.get("name") or "port"),
                    "port": p["port"],
                    "targetPort": p["targetPort"] if isinstance(p.get("targetPort"), int) else None,
                    "protocol": "TCP",
                }
                for p in spec["ports"]
            ]
            export_to = (meta.get("annotations") or {}).get(EXPORT_TO_ANNOTATION, "")
            services.append(
                {
                    "name": meta["name"],
                    "namespace": namespace(obj),
                    "ports": ports,
                    "selector": spec.get("selector") or NO_SELECTOR,
                    "exportTo": [e.strip() for e in export_to.split(",") if e.strip()],
                }
            )
        elif obj.get("kind") == "Pod":
            workloads.append(
                {
                    "name": meta["name"],
                    "namespace": namespace(obj),
                    "labels": meta.get("labels") or {"chaoskit.dev/test-unlabelled": "true"},
                    "app": {"name": "upstream-testdata"},
                    "nodeName": spec.get("nodeName"),
                }
            )
        elif obj.get("kind") == "Node":
            nodes.append({"name": meta["name"], "labels": meta.get("labels") or {}})
        elif obj.get("kind") == "Secret":
            secrets.append({"name": meta["name"], "namespace": namespace(obj)})
    names = {namespace(o) for o in objects} | {"default", "istio-system"}
    return MeshSpec.model_validate(
        {
            "apiVersion": "chaoskit.dev/v1alpha1",
            "kind": "MeshSpec",
            "spec": {
                "namespaces": [{"name": n} for n in sorted(names)],
                "services": services,
                "workloads": workloads,
                "secrets": secrets,
                "nodes": nodes,
            },
        }
    )


def _origin(kind: str, loaded: LoadedResource | None, resource: str) -> str:
    """Istio's origin text: the namespace only when the input names one."""
    if loaded is not None and loaded.resource.metadata.namespace is None:
        return f"{kind} {loaded.name}"
    return f"{kind} {resource}"


@dataclass(frozen=True)
class Outcome:
    case: str
    origin: str
    expected: Counter[str]
    got: Counter[str]

    @property
    def agrees(self) -> bool:
        return self.expected == self.got


def run_case(case: dict[str, Any]) -> list[Outcome]:
    analyzable: list[LoadedResource] = []
    kubernetes: list[dict[str, Any]] = []
    for name in case["files"]:
        text = (DATA / name).read_text()
        # Documents of other kinds come back as CK0001 problems: the file source skips them.
        analyzable += load_text(text, name).analyzable
        kubernetes += [
            d
            for d in yaml.safe_load_all(text)
            if isinstance(d, dict) and "istio.io" not in str(d.get("apiVersion"))
        ]
    messages = analyze_resources(analyzable, mesh=_mesh_from(kubernetes + DEFAULT_INGRESS))
    by_key = {(r.kind, f"{r.namespace}/{r.name}"): r for r in analyzable}
    got: dict[str, Counter[str]] = {}
    for m in messages:
        if case["analyzer"] not in _analyzers_of(m):
            continue
        origin = _origin(m.kind, by_key.get((m.kind, m.resource)), m.resource)
        got.setdefault(origin, Counter())[m.type.name] += 1
    expected: dict[str, Counter[str]] = {}
    for message_type, origin in case["expected"]:
        expected.setdefault(origin, Counter())[message_type] += 1
    return [
        Outcome(case["name"], origin, expected.get(origin, Counter()), got.get(origin, Counter()))
        for origin in sorted(expected.keys() | got.keys())
    ]


def test_cases_name_only_message_types_chaoskit_has() -> None:
    from chaoskit.analysis.messages import MESSAGE_TYPES

    names = {t.name for t in MESSAGE_TYPES.values()}
    assert {t for case in CASES for t, _ in case["expected"]} <= names
    assert {case["analyzer"] for case in CASES} <= set(_ANALYZER_BY_CODE.values()) | set(
        _IST0101_BY_WHAT.values()
    ) | _SELECTOR_ANALYZERS


def test_agreement_with_istio_analyzer_tests() -> None:
    outcomes = [o for case in CASES for o in run_case(case)]
    disagreements = [
        f"{o.case}: {o.origin}: Istio {dict(o.expected)}, chaoskit {dict(o.got)}"
        for o in outcomes
        if not o.agrees
    ]
    agreed = len(outcomes) - len(disagreements)
    assert len(outcomes) > 60  # every case was read and reported on
    assert agreed / len(outcomes) >= REQUIRED_AGREEMENT, (
        f"{agreed}/{len(outcomes)} resources agree; disagreements:\n" + "\n".join(disagreements)
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_reads_cleanly(case: dict[str, Any]) -> None:
    # Every Istio resource of the inputs reaches the analyzers (schema errors included).
    for name in case["files"]:
        text = (DATA / name).read_text()
        istio = [
            d
            for d in yaml.safe_load_all(text)
            if isinstance(d, dict) and "istio.io" in str(d.get("apiVersion"))
        ]
        assert len(load_text(text, name).analyzable) == len(istio), name


@pytest.mark.parametrize(
    "name", ["virtualServiceDestinationHosts", "DestinationRuleSubsetsWithTopologyLabels"]
)
def test_service_export_to_and_node_topology_labels_agree(name: str) -> None:
    """The Service exportTo annotation (util/service_lookup.go) and the node's topology
    labels on pods (PodNotSelectedAnalyzer via label.AugmentLabels) are modelled: every
    resource of these two cases agrees."""
    (case,) = [c for c in CASES if c["name"] == name]
    disagreements = [o for o in run_case(case) if not o.agrees]
    assert disagreements == []
