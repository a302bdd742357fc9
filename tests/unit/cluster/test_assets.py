"""The shipped cluster assets say what the plan and the experiments rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chaoskit.cluster import pins

RESOURCES = Path(__file__).resolve().parents[3] / "chaoskit" / "samples"


def docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(pins.asset(name).read_text()) if d]


def test_kind_maps_the_ingress_nodeports_to_loopback_and_keeps_etcd_on_tmpfs() -> None:
    (config,) = docs("kind-config.yaml")
    (node,) = config["nodes"]
    assert node["role"] == "control-plane"
    assert {
        (m["containerPort"], m["hostPort"], m["listenAddress"]) for m in node["extraPortMappings"]
    } == {
        (30080, 8080, "127.0.0.1"),
        (30443, 8443, "127.0.0.1"),
        (30088, 8088, "127.0.0.1"),
    }
    patch = yaml.safe_load(config["kubeadmConfigPatches"][0])
    assert patch["kind"] == "ClusterConfiguration"
    assert patch["etcd"]["local"]["dataDir"].startswith("/tmp/")


def test_the_istio_operator_exposes_the_ingress_on_the_mapped_nodeports() -> None:
    (operator,) = docs("istio-operator.yaml")
    spec = operator["spec"]
    assert operator["kind"] == "IstioOperator"
    assert (spec["profile"], spec["hub"]) == ("demo", "gcr.io/istio-release")
    (gateway,) = spec["components"]["ingressGateways"]
    service = gateway["k8s"]["service"]
    assert service["type"] == "NodePort"
    ports = {p["name"]: (p["port"], p["targetPort"], p["nodePort"]) for p in service["ports"]}
    assert ports == {
        "status-port": (15021, 15021, 30021),
        "http2": (80, 8080, 30080),
        "https": (443, 8443, 30443),
    }


def test_the_sidecars_keep_the_per_upstream_stats_the_experiments_read() -> None:
    (operator,) = docs("istio-operator.yaml")
    matcher = operator["spec"]["meshConfig"]["defaultConfig"]["proxyStatsMatcher"]
    assert "cluster.outbound" in matcher["inclusionPrefixes"]
    import re

    regexps = [re.compile(r) for r in matcher["inclusionRegexps"]]
    for stat in (
        "cluster.outbound|9080|v1|ratings.bookinfo.svc.cluster.local.outlier_detection.ejections_active",
        "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.upstream_rq_pending_overflow",
        "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.upstream_cx_active",
        "http.outbound_0.0.0.0_9080.fault.delays_injected",
    ):
        assert any(r.fullmatch(stat) for r in regexps), stat


def test_bookinfo_has_every_deployment_service_and_account_in_its_namespace() -> None:
    objects = docs("bookinfo.yaml")
    assert {o["metadata"]["namespace"] for o in objects} == {pins.BOOKINFO_NAMESPACE}
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert sorted(deployments) == sorted(pins.BOOKINFO_DEPLOYMENTS)
    services = {o["metadata"]["name"] for o in objects if o["kind"] == "Service"}
    assert services == {"details", "ratings", "reviews", "productpage"}
    accounts = {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"}
    assert accounts == {f"bookinfo-{s}" for s in services}
    for name, deployment in deployments.items():
        template = deployment["spec"]["template"]
        (container,) = template["spec"]["containers"]
        app, version = (
            template["metadata"]["labels"]["app"],
            template["metadata"]["labels"]["version"],
        )
        image_version = version if app == "reviews" else "v1"
        assert container["image"] == (
            f"docker.io/istio/examples-bookinfo-{app}-{image_version}:{pins.BOOKINFO_IMAGE_TAG}"
        ), name
        assert template["spec"]["serviceAccountName"] == f"bookinfo-{app}"
        assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": 9080}
        match = deployment["spec"]["selector"]["matchLabels"]
        assert all(template["metadata"]["labels"][k] == v for k, v in match.items())


def test_ratings_faulty_is_a_v1_ratings_replica_that_fails_and_starts_at_zero() -> None:
    deployments = {
        o["metadata"]["name"]: o for o in docs("bookinfo.yaml") if o["kind"] == "Deployment"
    }
    faulty = deployments["ratings-faulty"]
    labels = faulty["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": "ratings", "version": "v1", "chaoskit.dev/faulty": "true"}
    assert faulty["spec"]["replicas"] == 0
    (container,) = faulty["spec"]["template"]["spec"]["containers"]
    assert {"name": "SERVICE_VERSION", "value": "v-faulty"} in container["env"]
    # ratings-v1 must not adopt the faulty pods: its selector excludes the label
    selector = deployments["ratings-v1"]["spec"]["selector"]
    assert {"key": "chaoskit.dev/faulty", "operator": "DoesNotExist"} in selector[
        "matchExpressions"
    ]


def test_the_reused_istio_resources_target_the_bookinfo_namespace() -> None:
    for name in ("destination-rule-all.yaml", "bookinfo-gateway.yaml"):
        for doc in yaml.safe_load_all((RESOURCES / name).read_text()):
            if doc:
                assert doc["metadata"]["namespace"] == pins.BOOKINFO_NAMESPACE, name
    (namespace,) = docs("namespace.yaml")
    assert namespace == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo"}}


def test_the_in_mesh_client_is_fortio_on_the_published_nodeport() -> None:
    objects = docs("fortio.yaml")
    (service,) = [o for o in objects if o["kind"] == "Service"]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    assert service["metadata"]["namespace"] == pins.BOOKINFO_NAMESPACE  # injected namespace
    assert [(p["port"], p["nodePort"]) for p in service["spec"]["ports"]] == [(8080, 30088)]
    assert pins.FORTIO_URL.endswith(":8088")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == pins.FORTIO_IMAGE
    assert deployment["metadata"]["name"] in pins.CLIENT_DEPLOYMENTS


def test_access_logs_are_json_with_the_fields_the_experiments_read() -> None:
    import json

    from chaoskit.cluster.accesslog import ACCESS_LOG_FORMAT

    (operator,) = docs("istio-operator.yaml")
    mesh = operator["spec"]["meshConfig"]
    assert mesh["accessLogEncoding"] == "JSON"
    assert json.loads(mesh["accessLogFormat"]) == ACCESS_LOG_FORMAT
