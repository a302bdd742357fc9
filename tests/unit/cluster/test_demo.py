"""The kind cluster's demo workloads (assets/demo.yaml) are the embedded mesh's: the same
Services, Deployments, labels, ports and replica counts as chaoskit/topology/default-mesh.yaml,
so the two cannot drift; and the echo answers as the embedded echo app does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from chaoskit.cluster import pins
from chaoskit.cluster.plan import cluster_images
from chaoskit.topology.spec import MeshSpec

RESOURCES = Path(__file__).resolve().parents[3] / "chaoskit" / "samples"
# The embedded topology's app kinds and the image each runs as on kind.
IMAGES = {"echo": pins.ECHO_IMAGE, "httpbin": pins.HTTPBIN_IMAGE, "fortio": pins.FORTIO_IMAGE}


def demo() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(pins.asset("demo.yaml").read_text()) if d]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in demo() if d["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (found,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(found)


def template() -> str:
    (config,) = of_kind("ConfigMap").values()
    (text,) = config["data"].values()
    return str(text)


def echo_deployments() -> dict[str, dict[str, Any]]:
    return {n: d for n, d in of_kind("Deployment").items() if container(d)["name"] == "echo"}


def test_everything_is_in_the_namespace_the_embedded_mesh_has_it_in() -> None:
    assert {d["metadata"]["namespace"] for d in demo()} == {pins.DEMO_NAMESPACE}
    assert {d["kind"] for d in demo()} == {"ConfigMap", "Service", "Deployment"}


def test_the_services_are_the_topologys_with_the_same_selectors_and_ports() -> None:
    spec = MeshSpec.default()
    wanted = {
        s.name: (s.effective_selector, [(p.name, p.port, p.container_port) for p in s.ports])
        for s in spec.spec.services
        if s.namespace == pins.DEMO_NAMESPACE
    }
    shipped = {
        name: (
            s["spec"]["selector"],
            [(p["name"], p["port"], p["targetPort"]) for p in s["spec"]["ports"]],
        )
        for name, s in of_kind("Service").items()
    }
    assert shipped == wanted
    assert wanted["my-service"] == ({"app": "my-service"}, [("http", 80, 8080)])
    assert wanted["httpbin"] == ({"app": "httpbin"}, [("http", 8000, 8080)])


def test_the_deployments_are_the_topologys_workloads_with_their_labels_and_replicas() -> None:
    spec = MeshSpec.default()
    workloads = list(spec.workloads_in(pins.DEMO_NAMESPACE))
    wanted = {w.name: (w.labels, w.replicas, IMAGES[w.app.name]) for w in workloads}
    deployments = of_kind("Deployment")
    shipped = {
        name: (d["spec"]["template"]["metadata"]["labels"], d["spec"]["replicas"], c["image"])
        for name, d in deployments.items()
        for c in [container(d)]
    }
    assert shipped == wanted
    assert tuple(w.name for w in workloads) == pins.DEMO_DEPLOYMENTS
    assert wanted["my-service-stable"][:2] == ({"app": "my-service", "version": "stable"}, 2)
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        # Each Deployment owns exactly its pods: its selector is all of its pods' labels.
        assert deployment["spec"]["selector"]["matchLabels"] == labels, name
        assert deployment["metadata"]["labels"] == labels, name


def test_every_pod_listens_on_the_target_port_of_each_service_that_selects_it() -> None:
    spec = MeshSpec.default()
    services = [s for s in spec.spec.services if s.namespace == pins.DEMO_NAMESPACE]
    for name, deployment in of_kind("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        targets = {
            p.container_port
            for s in services
            if all(labels.get(k) == v for k, v in s.effective_selector.items())
            for p in s.ports
        }
        assert targets, f"no Service selects {name}"
        c = container(deployment)
        assert {p["containerPort"] for p in c["ports"]} == targets, name
        assert c["readinessProbe"]["httpGet"]["port"] in targets, name
        if c["name"] == "echo":
            assert re.search(rf"^\s*listen {min(targets)};$", template(), re.M), name


def test_every_image_the_cluster_runs_is_pinned_by_tag_or_digest() -> None:
    images = cluster_images()
    assert {pins.ECHO_IMAGE, pins.HTTPBIN_IMAGE, pins.FORTIO_IMAGE} <= set(images)
    for image in [*images, pins.KIND_NODE_IMAGE]:
        name, _, digest = image.partition("@")
        tag = name.rpartition("/")[2].partition(":")[2]
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest) or (tag and tag != "latest"), image
    # Istio's own sample manifest runs this httpbin (samples/httpbin/httpbin.yaml, 1.28).
    assert pins.HTTPBIN_IMAGE == "docker.io/mccutchen/go-httpbin:v2.15.0"


def test_the_echo_template_sets_both_headers_on_every_answer() -> None:
    text = template()
    server, location = text.split("location /", 1)
    # At server level (add_header is inherited by a location without its own), and
    # `always`: error answers carry them too, as the embedded echo's do.
    assert re.search(r'^\s*add_header x-chaoskit-pod "\$\{CHAOSKIT_POD\}" always;$', server, re.M)
    assert re.search(
        r'^\s*add_header x-chaoskit-version "\$\{CHAOSKIT_VERSION\}" always;$', server, re.M
    )
    assert "add_header" not in location
    # One location for every path, answering 200 to any method.
    assert text.count("location ") == 1
    assert re.search(r"^\s*location / \{$", text, re.M)
    assert re.search(r"^\s*return 200 '", location, re.M)


def test_the_echo_gets_the_pods_name_and_labels_from_the_downward_api() -> None:
    (config,) = of_kind("ConfigMap").values()
    (key,) = config["data"]
    for name, deployment in echo_deployments().items():
        c = container(deployment)
        env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
        assert env["CHAOSKIT_POD"] == {"fieldRef": {"fieldPath": "metadata.name"}}, name
        assert env["CHAOSKIT_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
        assert env["CHAOSKIT_SERVICE"] == {"fieldRef": {"fieldPath": "metadata.labels['app']"}}
        assert env["CHAOSKIT_VERSION"] == {"fieldRef": {"fieldPath": "metadata.labels['version']"}}
        # envsubst replaces only the variables this filter matches (20-envsubst-on-templates.sh)
        used = set(re.findall(r"\$\{(\w+)\}", template()))
        assert used == {
            "CHAOSKIT_POD",
            "CHAOSKIT_NAMESPACE",
            "CHAOSKIT_SERVICE",
            "CHAOSKIT_VERSION",
        }
        assert all(re.search(env["NGINX_ENVSUBST_FILTER"], v) for v in used)
        assert not [e for e in env if e != "NGINX_ENVSUBST_FILTER" and e not in used]
        # The entrypoint renders /etc/nginx/templates/X.template to /etc/nginx/conf.d/X:
        # default.conf replaces the stock server on port 80.
        (mount,) = c["volumeMounts"]
        assert key == "default.conf.template"
        assert mount["mountPath"] == f"/etc/nginx/templates/{key}"
        assert mount["subPath"] == key
        (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
        assert volume["configMap"]["name"] == config["metadata"]["name"]
        # The image's entrypoint must run (it renders the template): no command, no args.
        assert "command" not in c
        assert "args" not in c


def test_the_rendered_answer_is_json_naming_the_service_version_and_pod() -> None:
    values = {
        "CHAOSKIT_POD": "my-service-v1-7d4b9c6f5-x2x9z",
        "CHAOSKIT_NAMESPACE": "default",
        "CHAOSKIT_SERVICE": "my-service",
        "CHAOSKIT_VERSION": "v1",
    }
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template())
    assert "$" not in rendered  # nothing left for nginx to read as a variable
    (body,) = re.findall(r"return 200 '([^']*)';", rendered)
    assert json.loads(body) == {
        "service": "my-service",
        "version": "v1",
        "pod": "my-service-v1-7d4b9c6f5-x2x9z",
        "namespace": "default",
    }
    assert pins.DEMO_EXPECT in body  # what `cluster up` waits for through fortio
    assert re.search(r'add_header x-chaoskit-pod "my-service-v1-7d4b9c6f5-x2x9z" always;', rendered)


def test_the_demo_subsets_select_deployed_versions() -> None:
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in of_kind("Deployment").values()]
    for rule in yaml.safe_load_all((RESOURCES / "demo-destination-rules.yaml").read_text()):
        if not rule:
            continue
        assert rule["metadata"]["namespace"] == pins.DEMO_NAMESPACE
        host = rule["spec"]["host"]
        for subset in rule["spec"]["subsets"]:
            selector = {"app": host, **subset["labels"]}
            assert any(all(p.get(k) == v for k, v in selector.items()) for p in pods), (
                host,
                subset["name"],
            )


def test_the_tls_secret_is_the_one_the_topology_and_the_gateway_template_name() -> None:
    spec = MeshSpec.default()
    secret = spec.secret(pins.ISTIO_NAMESPACE, pins.TLS_SECRET)
    assert secret is not None
    assert secret.self_signed is not None
    assert tuple(secret.self_signed.hosts) == pins.TLS_HOSTS
    gateway, _ = yaml.safe_load_all((RESOURCES / "seed" / "07-ingress-gateway.yaml").read_text())
    (server,) = gateway["spec"]["servers"]
    assert server["tls"]["credentialName"] == pins.TLS_SECRET
    assert tuple(server["hosts"]) == pins.TLS_HOSTS


def experiment_markers() -> dict[str, list[Any]]:
    """Each experiment's chaos markers (its module's and its own), read from its module."""
    import importlib.util

    found: dict[str, list[Any]] = {}
    for path in sorted((RESOURCES.parents[1] / "experiments").glob("test_*.py")):
        loaded = importlib.util.spec_from_file_location(f"_experiment_{path.stem}", path)
        assert loaded is not None
        assert loaded.loader is not None
        module = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(module)
        shared = getattr(module, "pytestmark", [])
        shared = shared if isinstance(shared, list) else [shared]
        for name, function in vars(module).items():
            if name.startswith("test_") and callable(function):
                own = getattr(function, "pytestmark", [])
                found[f"{path.stem}::{name}"] = [
                    m for m in [*shared, *own] if getattr(m, "name", "") == "chaos"
                ]
    return found


def test_every_workload_an_experiment_needs_is_deployed_by_cluster_up() -> None:
    running = set()
    for asset in ("bookinfo.yaml", "fortio.yaml", "demo.yaml"):
        for doc in yaml.safe_load_all(pins.asset(asset).read_text()):
            if doc and doc["kind"] == "Deployment" and doc["spec"]["replicas"] > 0:
                app = doc["spec"]["template"]["metadata"]["labels"]["app"]
                running |= {(doc["metadata"]["namespace"], app), ("", app)}
    markers = experiment_markers()
    assert len(markers) == 14
    for experiment, marks in markers.items():
        for need in (n for m in marks for n in m.kwargs.get("needs", ())):
            namespace, _, app = need.rpartition("/")
            assert (namespace, app) in running, f"{experiment} needs {need}"


def test_only_the_checks_fortio_cannot_carry_are_left_to_the_embedded_mesh() -> None:
    only = {
        name: reason
        for name, marks in experiment_markers().items()
        for m in marks
        if (reason := m.kwargs.get("embedded_only"))
    }
    assert sorted(only) == ["test_load_balancing::test_consistent_hash_keeps_each_user_on_one_pod"]
    assert all("/fortio/fetch/" in reason for reason in only.values())
