"""The real ``kubectl`` binary against the embedded mesh: what a user types after mesh up.

client-go sends its bearer token only over TLS, needs discovery to resolve ``svc``/``vs``
and an OpenAPI v2 document before ``apply``, and prints the columns the server sends; each
test runs one command as a user would and checks what it printed against the mesh's state
read through the Python client. Skipped where no kubectl v1.26+ is on PATH (Debian's own
``kubernetes-client`` is 1.20, older than server-side printing and field validation).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from chaoskit.cluster.accesslog import ACCESS_LOG_FORMAT
from chaoskit.topology.podshape import all_ready, long_running_statuses
from tests.e2e.conftest import MeshHandle

SEED = Path(__file__).resolve().parents[2] / "experiments" / "resources" / "seed"
MIN_MINOR = 26


def _kubectl_minor() -> int | None:
    binary = shutil.which("kubectl")
    if binary is None:
        return None
    try:
        out = subprocess.run(
            [binary, "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        return int(json.loads(out)["clientVersion"]["minor"].rstrip("+"))
    except (subprocess.SubprocessError, ValueError, KeyError, OSError):
        return None


_MINOR = _kubectl_minor()
pytestmark = pytest.mark.skipif(
    _MINOR is None or _MINOR < MIN_MINOR,
    reason=f"needs kubectl v1.{MIN_MINOR}+ on PATH (found: "
    + ("none" if _MINOR is None else f"v1.{_MINOR}")
    + ")",
)


class Kubectl:
    def __init__(self, mesh: MeshHandle, cache: Path) -> None:
        self.mesh = mesh
        self.base = ["kubectl", "--kubeconfig", mesh.info.kubeconfig, "--cache-dir", str(cache)]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if check:
            assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done

    def table(self, *args: str) -> list[dict[str, str]]:
        """``kubectl get`` output as rows keyed by the header's column names."""
        lines = self.run("get", *args).stdout.splitlines()
        header = lines[0]
        starts = [i for i, c in enumerate(header) if c != " " and (i == 0 or header[i - 1] == " ")]
        names = header.split()
        assert len(names) == len(starts), header
        rows = []
        for line in lines[1:]:
            bounds = [*starts[1:], len(line) + 1]
            rows.append(
                {n: line[s:e].strip() for n, s, e in zip(names, starts, bounds, strict=True)}
            )
        return rows


@pytest.fixture
def kubectl(mesh: MeshHandle, tmp_path: Path) -> Kubectl:
    return Kubectl(mesh, tmp_path / "kube-cache")


SEED_FILES = (SEED / "02-canary.yaml", SEED / "07-ingress-gateway.yaml")


@pytest.fixture
def applied_seed(kubectl: Kubectl) -> Iterator[list[str]]:
    arguments = [a for path in SEED_FILES for a in ("-f", str(path))]
    yield arguments
    kubectl.run("delete", "--ignore-not-found", *arguments)


def test_get_pods_all_namespaces_prints_the_servers_columns(
    kubectl: Kubectl, mesh: MeshHandle
) -> None:
    rows = kubectl.table("pods", "-A")
    assert list(rows[0]) == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    expected = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in mesh.pods()}
    assert {(r["NAMESPACE"], r["NAME"]) for r in rows} == expected
    for row in rows:
        pod = next(p for p in mesh.pods() if p["metadata"]["name"] == row["NAME"])
        containers = len(long_running_statuses(pod))
        assert row["READY"] == f"{containers}/{containers}"
        assert row["STATUS"] == "Running"


def test_get_services_and_deployments_by_short_name(kubectl: Kubectl, mesh: MeshHandle) -> None:
    services = kubectl.table("svc", "-A")
    assert list(services[0])[:4] == ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP"]
    httpbin = next(r for r in services if r["NAME"] == "httpbin")
    assert httpbin["PORT(S)"] == "8000/TCP"
    deployments = kubectl.table("deploy", "-A")
    assert list(deployments[0]) == ["NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    secrets = kubectl.table("secrets", "-n", "istio-system")
    assert {"NAME": "demo-tls", "TYPE": "kubernetes.io/tls", "DATA": "2"}.items() <= next(
        r for r in secrets if r["NAME"] == "demo-tls"
    ).items()
    namespaces = {r["NAME"]: r["STATUS"] for r in kubectl.table("ns")}
    assert namespaces == {"default": "Active", "istio-system": "Active"}
    backend = next(r for r in deployments if r["NAME"] == "backend-v1")
    replicas = len(mesh.pods("default", "app=backend"))
    assert backend["READY"] == f"{replicas}/{replicas}"


def test_apply_get_and_delete_seed_templates(
    kubectl: Kubectl, mesh: MeshHandle, applied_seed: list[str]
) -> None:
    documents = [d for path in SEED_FILES for d in yaml.safe_load_all(path.read_text()) if d]
    created = kubectl.run("apply", *applied_seed).stdout.splitlines()
    assert len(created) == len(documents)
    assert all(line.endswith(" created") for line in created), created
    again = kubectl.run("apply", *applied_seed).stdout.splitlines()
    assert all(line.endswith(" unchanged") for line in again), again
    gateways = kubectl.table("gw", "-A")
    assert list(gateways[0]) == ["NAMESPACE", "NAME", "AGE"]
    assert {r["NAME"] for r in gateways} == {
        d["metadata"]["name"] for d in documents if d["kind"] == "Gateway"
    }

    vs = next(d for d in documents if d["kind"] == "VirtualService" and "gateways" not in d["spec"])
    namespace = vs["metadata"].get("namespace", "default")
    rows = kubectl.table("vs", "-A")
    row = next(r for r in rows if r["NAME"] == vs["metadata"]["name"])
    assert json.loads(row["HOSTS"]) == vs["spec"]["hosts"]
    assert {r["NAME"] for r in kubectl.table("dr", "-A")} >= {
        d["metadata"]["name"] for d in documents if d["kind"] == "DestinationRule"
    }
    shown = yaml.safe_load(
        kubectl.run("get", "vs", vs["metadata"]["name"], "-n", namespace, "-o", "yaml").stdout
    )
    assert shown["spec"] == vs["spec"]
    assert "kubectl.kubernetes.io/last-applied-configuration" in shown["metadata"]["annotations"]

    deleted = kubectl.run("delete", *applied_seed).stdout.splitlines()
    assert all(line.endswith(" deleted") for line in deleted), deleted
    assert not [
        i
        for i in mesh.client.list_resources("virtualservices", namespace)
        if i["metadata"]["name"] == vs["metadata"]["name"]
    ]


def test_an_admission_error_is_shown_as_kubernetes_shows_it(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "VirtualService",
                "metadata": {"name": "bad-timeout", "namespace": "default"},
                "spec": {
                    "hosts": ["httpbin"],
                    "http": [{"timeout": "1x", "route": [{"destination": {"host": "httpbin"}}]}],
                },
            }
        )
    )
    done = kubectl.run("apply", "-f", str(bad), check=False)
    assert done.returncode == 1
    assert 'The VirtualService "bad-timeout" is invalid' in done.stderr
    assert "spec.http[0].timeout" in done.stderr
    assert "1x" in done.stderr
    assert "bad-timeout" not in kubectl.run("get", "vs", "-A").stdout


def test_logs_of_istio_proxy_are_the_sidecars_json_access_log(
    kubectl: Kubectl, mesh: MeshHandle
) -> None:
    reply = mesh.fetch("httpbin:8000/status/418")
    assert reply.status_code == 418
    fortio = mesh.pod("app=fortio")
    out = kubectl.run("logs", fortio["metadata"]["name"], "-n", "default", "-c", "istio-proxy")
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    teapots = [e for e in entries if e["path"] == "/status/418"]
    assert teapots, out.stdout[-2000:]
    assert set(teapots[-1]) == set(ACCESS_LOG_FORMAT)
    assert teapots[-1]["response_code"] == 418
    assert teapots[-1]["authority"] == "httpbin:8000"


def test_scale_a_deployment_up_and_back(kubectl: Kubectl, mesh: MeshHandle) -> None:
    assert len(mesh.pods("default", "app=fortio")) == 1
    try:
        out = kubectl.run("scale", "deploy", "fortio", "-n", "default", "--replicas=2").stdout
        assert out.strip() == "deployment.apps/fortio scaled"
        kubectl.run("rollout", "status", "deploy/fortio", "-n", "default", "--timeout=60s")
        pods = mesh.pods("default", "app=fortio")
        assert len(pods) == 2
        assert all(all_ready(p) for p in pods)
    finally:
        kubectl.run("scale", "deploy", "fortio", "-n", "default", "--replicas=1")
    assert len(mesh.pods("default", "app=fortio")) == 1


def test_delete_pod_then_wait_for_its_replacement(kubectl: Kubectl, mesh: MeshHandle) -> None:
    old = mesh.pod("app=httpbin,version=v2")["metadata"]["name"]
    out = kubectl.run("delete", "pod", old, "-n", "default").stdout
    assert out.strip() == f'pod "{old}" deleted'
    done = kubectl.run(
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "app=httpbin",
        "-n",
        "default",
        "--timeout=60s",
    )
    names = {p["metadata"]["name"] for p in mesh.pods("default", "app=httpbin")}
    assert old not in names
    assert len(names) == 2
    assert sorted(done.stdout.split()) == sorted(
        token for name in names for token in (f"pod/{name}", "condition", "met")
    )


def test_exec_pilot_agent_request_reads_the_sidecars_admin_api(
    kubectl: Kubectl, mesh: MeshHandle
) -> None:
    pod = mesh.pod("app=httpbin")["metadata"]["name"]
    mesh.fetch("httpbin:8000/status/200")
    exec_in_proxy = ("exec", pod, "-n", "default", "-c", "istio-proxy", "--")
    info = kubectl.run(*exec_in_proxy, "pilot-agent", "request", "GET", "server_info")
    assert json.loads(info.stdout)["node"]["id"] == f"{pod}.default"
    stats = kubectl.run(*exec_in_proxy, "pilot-agent", "request", "GET", "stats").stdout
    direct = mesh.admin(mesh.pod("app=httpbin"), "/stats").text
    # The same stat names as the admin port itself serves (values may move in between).
    names = {line.split(":")[0] for line in stats.splitlines()}
    assert names
    assert names == {line.split(":")[0] for line in direct.splitlines()}
    other = kubectl.run(*exec_in_proxy, "ls", check=False)
    assert other.returncode == 127
    assert "pilot-agent request GET|POST" in other.stderr


def test_exec_through_the_python_client_as_the_cluster_backend_does(mesh: MeshHandle) -> None:
    pod = mesh.pod("app=httpbin")["metadata"]["name"]
    command = ["pilot-agent", "request", "POST", "reset_counters"]
    reset = mesh.client.exec("default", pod, command, container="istio-proxy")
    assert (reset.returncode, reset.stdout.strip()) == (0, "OK")
    missing = mesh.client.exec(
        "default", pod, ["pilot-agent", "request", "GET", "no-such-path"], container="istio-proxy"
    )
    assert missing.returncode == 1
    assert "404" in missing.stderr


def _envoy_filter_file(tmp_path: Path, operation: str | None) -> Path:
    from chaoskit.experiment.cluster_mesh import replica_fault_filter

    body = replica_fault_filter("slow-httpbin", "default", "x", {"latency": "0.1s"})
    body["spec"]["workloadSelector"] = {"labels": {"app": "httpbin", "version": "v2"}}
    if operation is None:
        del body["spec"]["configPatches"][0]["patch"]["operation"]
    path = tmp_path / ("ef.yaml" if operation else "ef-bad.yaml")
    path.write_text(yaml.safe_dump(body))
    return path


def test_envoy_filters_apply_list_and_delete(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _envoy_filter_file(tmp_path, "INSERT_BEFORE")
    created = kubectl.run("apply", "-f", str(path)).stdout.strip()
    assert created == "envoyfilter.networking.istio.io/slow-httpbin created"
    rows = kubectl.table("envoyfilter", "-A")
    assert rows == [{"NAMESPACE": "default", "NAME": "slow-httpbin", "AGE": rows[0]["AGE"]}]
    deleted = kubectl.run("delete", "-f", str(path)).stdout.strip()
    assert deleted == 'envoyfilter.networking.istio.io "slow-httpbin" deleted'
    assert "No resources found" in kubectl.run("get", "envoyfilter", "-A").stderr


def test_a_webhook_denial_is_shown_as_kubectl_shows_istios(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    path = _envoy_filter_file(tmp_path, None)
    done = kubectl.run("apply", "-f", str(path), check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f'Error from server: error when creating "{path}": admission webhook '
        '"validation.istio.io" denied the request: configuration is invalid: '
    ), done.stderr
    assert "Envoy filter: missing patch operation" in done.stderr


def test_get_vs_watch_prints_each_change(kubectl: Kubectl, mesh: MeshHandle) -> None:
    """``kubectl get vs -w`` (bounded by --request-timeout): the rows it had, then one per
    change made while it watched."""
    watcher = subprocess.Popen(
        [*kubectl.base, "get", "vs", "-n", "default", "-w", "--request-timeout", "4s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)  # let it list and start watching
        mesh.apply(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: watched}\n"
            "spec: {hosts: [httpbin], http: [{route: [{destination: {host: httpbin}}]}]}\n"
        )
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "GATEWAYS", "HOSTS", "AGE"], (out, err)
    # No VirtualService at first, so the only row is the one the watch event brought.
    assert [row.split()[:2] for row in rows] == [["watched", '["httpbin"]']], (out, err)
