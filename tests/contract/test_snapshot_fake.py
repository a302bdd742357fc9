"""``chaoskit mesh snapshot`` against the contract fake API server holding a small shop
(not Bookinfo: a frontend that calls checkout, which fans out to payments and inventory),
with Istio objects the mesh does not emulate, bad input, and ``--prometheus`` calibration
from a loopback Prometheus (tests/contract/fake_prometheus.py says where its shapes come
from)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.cli import main
from chaoskit.durations import parse_seconds
from chaoskit.topology.spec import MeshSpec
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.fake_prometheus import FakePrometheus, Requests

SHOP = "shop"
KEY_MATERIAL = "c2VjcmV0LWtleS1tYXRlcmlhbA=="  # must never reach the twin
HTTP = [{"name": "http", "port": 8080, "targetPort": 8080}]
# (namespace, workload) -> {quantile: ms}, as the destination sidecars measured them.
LATENCY = {
    (SHOP, "frontend"): {0.5: 30.0, 0.9: 60.0, 0.99: 150.0},
    (SHOP, "checkout"): {0.5: 20.0, 0.9: 45.0, 0.99: 120.0},
    (SHOP, "payments"): {0.5: 12.0, 0.9: 30.0, 0.99: 100.0},
    (SHOP, "inventory"): {0.5: 5.0, 0.9: 8.0, 0.99: 20.0},
}
GATEWAY = ("istio-system", "istio-ingressgateway")

# What an uncalibrated workload's app is told: a few ms, no errors, no calls.
UNCALIBRATED = {"latency": {"distribution": "quantiles", "p50": "2ms", "p90": "4ms", "p99": "8ms"}}


def shop_traffic() -> list[Requests]:
    def edge(src: str | tuple[str, str], dst: str, code: str, rate: float) -> Requests:
        source = src if isinstance(src, tuple) else (SHOP, src)
        return Requests(source, (SHOP, dst), (SHOP, dst), code, rate)

    return [
        edge(GATEWAY, "frontend", "200", 10.0),
        edge("frontend", "checkout", "200", 9.9),
        edge("frontend", "checkout", "503", 0.1),
        edge("checkout", "payments", "200", 9.8),
        edge("checkout", "payments", "500", 0.2),
        edge("checkout", "inventory", "200", 10.0),
        edge("checkout", "inventory", "0", 0.05),  # the caller went away: not an error code
        edge("frontend", "inventory", "200", 1.0),  # on 10% of frontend's requests
        edge(("batch", "nightly-report"), "checkout", "200", 0.01),  # a job: not called
    ]


def build_shop(fake: FakeApiServer) -> None:
    fake.namespace_labels[SHOP] = {"istio-injection": "enabled"}
    fake.namespace_labels["batch"] = {}  # a namespace with workloads but no Services
    for name in ("frontend", "checkout", "inventory"):
        fake.add_deployment(SHOP, name, {"app": name, "version": "v1"})
        fake.add_service(SHOP, name, {"app": name}, HTTP)
    fake.add_deployment(
        SHOP,
        "payments",
        {"app": "payments", "version": "v1"},
        replicas=2,
        container_ports=[{"name": "web", "containerPort": 9090}],
    )
    fake.add_service(SHOP, "payments", {"app": "payments"}, [{"port": 8080, "targetPort": "web"}])
    fake.add_deployment("batch", "nightly-report", {"app": "nightly-report"})
    gateway_labels = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    fake.add_deployment("istio-system", "istio-ingressgateway", gateway_labels)
    fake.add_service(
        "istio-system",
        "istio-ingressgateway",
        {"istio": "ingressgateway"},
        [
            {"name": "http2", "port": 80, "targetPort": 8080},
            {"name": "https", "port": 443, "targetPort": 8443},
        ],
    )
    fake.add_secret("istio-system", "shop-tls", {"tls.key": KEY_MATERIAL, "tls.crt": "Y2VydA=="})
    for plural, obj in (
        ("virtualservices", vs("checkout", {"timeout": "2s"})),
        (
            "destinationrules",
            istio(
                "DestinationRule",
                "payments",
                {
                    "host": "payments",
                    "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 3}},
                },
            ),
        ),
        (
            "gateways",
            istio(
                "Gateway",
                "shop",
                {
                    "selector": {"istio": "ingressgateway"},
                    "servers": [
                        {
                            "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                            "hosts": ["shop.example.com"],
                            "tls": {"mode": "SIMPLE", "credentialName": "shop-tls"},
                        },
                        {
                            "port": {"number": 8443, "name": "https-admin", "protocol": "HTTPS"},
                            "hosts": ["admin.example.com"],
                            "tls": {"mode": "SIMPLE", "credentialName": "admin-tls"},
                        },
                    ],
                },
                namespace="istio-system",
            ),
        ),
        ("sidecars", istio("Sidecar", "default", {"egress": [{"hosts": ["./*"]}]})),
        ("workloadentries", istio("WorkloadEntry", "legacy-db", {"address": "10.1.2.3"})),
    ):
        fake.put_object(plural, obj)


def istio(kind: str, name: str, spec: dict[str, Any], namespace: str = SHOP) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def vs(host: str, route: dict[str, Any]) -> dict[str, Any]:
    http = [{"route": [{"destination": {"host": host}}], **route}]
    return istio("VirtualService", host, {"hosts": [host], "http": http})


@pytest.fixture
def shop(fake: FakeApiServer) -> FakeApiServer:
    build_shop(fake)
    return fake


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    server = FakePrometheus(latency=dict(LATENCY), requests=shop_traffic()).start()
    yield server
    server.stop()


def snapshot(
    fake: FakeApiServer, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    argv = ["mesh", "snapshot", "--kubeconfig", str(fake.kubeconfig), "-o", str(out), *extra]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def only_reads(fake: FakeApiServer) -> None:
    assert fake.log, "the snapshot made no request"
    assert {method for method, _ in fake.log} == {"GET"}, fake.log
    # Secrets: listed as metadata only, never read one by one, never with their data.
    secret_reads = [(p, a) for m, p, a in fake.accepts if "/secrets" in p]
    assert all(p.endswith("/secrets") for p, _ in secret_reads), secret_reads
    assert all("as=PartialObjectMetadataList" in a for _, a in secret_reads), secret_reads


def workloads_by_name(spec: MeshSpec) -> dict[str, Any]:
    return {w.name: w for w in spec.spec.workloads}


# --- the topology ----------------------------------------------------------------------------


def test_a_shop_with_objects_the_mesh_does_not_emulate(
    shop: FakeApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "twin"
    code, stdout, stderr = snapshot(shop, out, capsys)
    assert code == 0, stderr
    only_reads(shop)
    twin = MeshSpec.load(out / "mesh.yaml")

    services = {(s.namespace, s.name): s for s in twin.spec.services}
    assert set(services) == {
        (SHOP, n) for n in ("frontend", "checkout", "payments", "inventory")
    } | {GATEWAY}
    # The named targetPort resolves to the container port of that name.
    assert [(p.port, p.container_port) for p in services[(SHOP, "payments")].ports] == [
        (8080, 9090)
    ]
    workloads = workloads_by_name(twin)
    assert workloads["payments"].replicas == 2
    assert workloads["nightly-report"].namespace == "batch"
    # Uncalibrated: every app runs echo answering in a few ms, no errors, no calls.
    apps = [w.app for n, w in workloads.items() if n != GATEWAY[1]]
    assert {a.name for a in apps} == {"echo"}
    assert all(a.settings == UNCALIBRATED for a in apps)

    written = {
        (d["kind"], d["metadata"]["name"])
        for path in twin.resource_files()
        for d in yaml.safe_load_all(path.read_text())
    }
    assert written == {
        ("VirtualService", "checkout"),
        ("DestinationRule", "payments"),
        ("Gateway", "shop"),
    }
    readme = (out / "README.md").read_text()
    for left_out in (
        "Sidecar shop/default: the embedded mesh does not emulate this kind",
        "WorkloadEntry shop/legacy-db: the embedded mesh does not emulate this kind",
        "namespace batch has no Services",
        # The Secret list (names only) shows one credentialName with no Secret behind it.
        "Gateway credentialName admin-tls: no Secret of that name in istio-system",
    ):
        assert left_out in readme
        assert f"left out: {left_out}" in stdout
    assert "shop-tls: no Secret" not in readme
    # Stand-ins for both credentialNames; no key material anywhere in the twin.
    assert {s.name for s in twin.spec.secrets} == {"shop-tls", "admin-tls"}
    for path in out.rglob("*"):
        if path.is_file():
            assert KEY_MATERIAL not in path.read_text(), path


# --- bad input -------------------------------------------------------------------------------


def test_a_context_that_does_not_answer_writes_nothing(
    fake: FakeApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.stop()  # its port is closed now: nothing answers there
    out = tmp_path / "twin"
    code, _, stderr = snapshot(fake, out, capsys)
    assert code == 1
    assert "cannot reach the API server" in stderr, stderr
    assert fake.url in stderr
    assert not out.exists()


def test_no_right_to_list_secrets_still_builds_the_twin_and_says_so(
    shop: FakeApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.fail(
        "GET",
        r"/secrets$",
        403,
        reason="Forbidden",
        times=None,
        message=(
            'secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" '
            'in the namespace "istio-system"'
        ),
    )
    shop.fail("GET", r"/sidecars$", 403, reason="Forbidden", times=None, message="forbidden")
    out = tmp_path / "twin"
    code, stdout, stderr = snapshot(shop, out, capsys)
    assert code == 0, stderr
    only_reads(shop)
    twin = MeshSpec.load(out / "mesh.yaml")
    assert {s.name for s in twin.spec.secrets} == {"shop-tls", "admin-tls"}
    readme = (out / "README.md").read_text()
    assert "could not list Secret names in istio-system (403)" in readme
    assert "credentialNames (admin-tls, shop-tls) exist was not checked" in readme
    assert (
        "could not read /apis/networking.istio.io/v1/namespaces/shop/sidecars: forbidden" in readme
    )
    assert "could not list Secret names" in stdout


def test_a_namespace_with_no_services_is_named(
    shop: FakeApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "twin"
    code, stdout, stderr = snapshot(shop, out, capsys, "--namespaces", "batch")
    assert code == 0, stderr
    only_reads(shop)
    assert "left out: namespace batch has no Services: nothing in it to call" in stdout
    twin = MeshSpec.load(out / "mesh.yaml")
    assert {s.namespace for s in twin.spec.services} == {"istio-system"}


def test_a_namespace_that_does_not_exist_is_a_clear_error(
    shop: FakeApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "twin"
    code, _, stderr = snapshot(shop, out, capsys, "--namespaces", "shop,shpo")
    assert code == 1
    assert "namespace(s) shpo do not exist in context 'kind-fake'" in stderr
    assert not out.exists()
    only_reads(shop)


# --- calibration from Prometheus -------------------------------------------------------------


def check_twin_keys(settings: dict[str, Any]) -> None:
    """The behaviour keys the twin's echo app reads (latency quantiles, errorCodes, calls,
    callMode), checked against their agreed shape until the app itself parses them here."""
    assert set(settings) <= {"latency", "errorCodes", "calls", "callMode"}, settings
    if "latency" in settings:
        latency = dict(settings["latency"])
        assert latency.pop("distribution") == "quantiles"
        assert set(latency) <= {"p50", "p75", "p90", "p95", "p99", "p999"}
        order = ["p50", "p75", "p90", "p95", "p99", "p999"]
        values = [parse_seconds(latency[k]) for k in order if k in latency]
        assert values == sorted(values)
        assert values[0] >= 0
    for code, share in settings.get("errorCodes", {}).items():
        assert isinstance(code, str)
        assert code.isdigit()
        assert 400 <= int(code) <= 599
        assert 0 < share <= 1
    assert sum(settings.get("errorCodes", {}).values()) <= 1
    for call in settings.get("calls", []):
        assert set(call) <= {"host", "port", "path", "timeout"}
        assert call["host"]
        assert call["port"]
    assert settings.get("callMode", "parallel") in ("parallel", "sequence")


def ms(value: float) -> str:
    return f"{value:g}ms"


def test_prometheus_calibrates_latency_errors_and_the_call_graph(
    shop: FakeApiServer,
    prometheus: FakePrometheus,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "twin"
    code, stdout, stderr = snapshot(
        shop, out, capsys, "--prometheus", prometheus.url, "--prometheus-window", "30m"
    )
    assert code == 0, stderr
    only_reads(shop)
    assert all("[30m]" in q and 'reporter="destination"' in q for q in prometheus.queries)
    twin = MeshSpec.load(out / "mesh.yaml")
    workloads = workloads_by_name(twin)
    settings = {name: dict(w.app.settings) for name, w in workloads.items()}
    for value in settings.values():
        check_twin_keys(value)

    def self_time(name: str, callees: list[str]) -> dict[str, str]:
        own = LATENCY[(SHOP, name)]
        return {
            p: ms(own[q] - max((LATENCY[(SHOP, c)][q] for c in callees), default=0.0))
            for p, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
        }

    checkout = settings["checkout"]
    assert checkout["calls"] == [
        {"host": "payments.shop.svc.cluster.local", "port": 8080},
        {"host": "inventory.shop.svc.cluster.local", "port": 8080},
    ] or checkout["calls"] == [
        {"host": "inventory.shop.svc.cluster.local", "port": 8080},
        {"host": "payments.shop.svc.cluster.local", "port": 8080},
    ]
    assert checkout["callMode"] == "parallel"
    # Measured at checkout's sidecar, its latency holds its callees': the slowest is taken off.
    assert checkout["latency"] == {
        "distribution": "quantiles",
        **self_time("checkout", ["payments", "inventory"]),
    }
    assert checkout["errorCodes"] == {"503": round(0.1 / (10.0 + 0.01), 4)}  # the job too
    assert settings["payments"]["errorCodes"] == {"500": round(0.2 / 10.0, 4)}
    assert "calls" not in settings["payments"]
    assert settings["inventory"]["latency"] == {
        "distribution": "quantiles",
        **self_time("inventory", []),
    }
    assert "errorCodes" not in settings["inventory"]  # response code 0 is no error code
    # frontend calls inventory on 10% of its requests: not a call per request.
    assert settings["frontend"]["calls"] == [
        {"host": "checkout.shop.svc.cluster.local", "port": 8080}
    ]
    assert settings["frontend"]["latency"]["p50"] == self_time("frontend", ["checkout"])["p50"]
    assert settings["nightly-report"] == UNCALIBRATED  # no metrics for it: the defaults
    assert workloads["istio-ingressgateway"].app.name == "ingress-gateway"

    readme = (out / "README.md").read_text()
    assert "## Behaviour, calibrated from Prometheus" in readme
    for query in set(prometheus.queries):
        assert query in readme
    assert "shop/frontend -> shop/inventory: called on 10% of its requests" in readme
    assert "includes its callees'" in readme
    assert "istio-ingressgateway ->" not in readme  # the gateway runs no app: no calls
    assert "batch/nightly-report -> shop/checkout: the caller answered no requests" in readme
    assert f"calibrating from Prometheus at {prometheus.url} (last 30m)" in stdout
    assert "calibrated 4 workload(s)" in stdout


@pytest.mark.parametrize(
    ("broken", "said"),
    [
        pytest.param(
            (
                503,
                b'{"status":"error","errorType":"timeout","error":"query timed out in '
                b'expression evaluation"}',
                "application/json",
            ),
            "answered HTTP 503, timeout: query timed out in expression evaluation",
            id="query-timeout-503",
        ),
        pytest.param(
            (
                422,
                b'{"status":"error","errorType":"execution","error":"many-to-many matching"}',
                "application/json",
            ),
            "answered HTTP 422, execution: many-to-many matching",
            id="cannot-execute-422",
        ),
        pytest.param(
            (502, b"<html>Bad Gateway</html>", "text/html"),
            "answered HTTP 502 (text/html), not Prometheus's JSON API",
            id="proxy-502",
        ),
        pytest.param(
            (
                200,
                b'{"status":"success","data":{"resultType":"vector","result":[]}}',
                "application/json",
            ),
            "has no istio_requests_total reported by a destination sidecar in the last 1h",
            id="no-istio-metrics",
        ),
    ],
)
def test_a_bad_prometheus_leaves_the_defaults_and_says_so(
    shop: FakeApiServer,
    prometheus: FakePrometheus,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    broken: tuple[int, bytes, str],
    said: str,
) -> None:
    prometheus.broken = broken
    out = tmp_path / "twin"
    code, stdout, stderr = snapshot(shop, out, capsys, "--prometheus", prometheus.url)
    assert code == 0, stderr
    assert said in stdout
    assert "the twin keeps the default behaviour" in stdout
    readme = (out / "README.md").read_text()
    assert "Not calibrated: " in readme
    assert said in readme
    twin = MeshSpec.load(out / "mesh.yaml")
    assert all(w.app.settings == UNCALIBRATED for w in twin.spec.workloads if w.app.name == "echo")


def test_an_unreachable_prometheus_leaves_the_defaults(
    shop: FakeApiServer,
    prometheus: FakePrometheus,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = prometheus.url
    prometheus.stop()
    out = tmp_path / "twin"
    code, stdout, stderr = snapshot(shop, out, capsys, "--prometheus", url)
    assert code == 0, stderr
    assert f"not calibrated: Prometheus at {url} did not answer (ConnectionError" in stdout
    assert "Not calibrated: " in (out / "README.md").read_text()


def test_a_bad_window_is_refused_before_reading_the_cluster(
    shop: FakeApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "twin"
    argv = ("--prometheus", "http://127.0.0.1:9", "--prometheus-window", "1 hour")
    code, _, stderr = snapshot(shop, out, capsys, *argv)
    assert code == 1
    assert "--prometheus-window '1 hour' is not a Prometheus duration; write e.g. 1h" in stderr
    assert not shop.log
    assert not out.exists()


def test_quantiles_without_samples_or_above_the_top_bucket_keep_the_default(
    shop: FakeApiServer,
    prometheus: FakePrometheus,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """histogram_quantile answers NaN without samples and +Inf above the top bucket: those
    quantiles are left out and named; a callee slower than its caller leaves the caller a
    tenth of its measured time, not a negative one."""
    nan, inf = float("nan"), float("inf")
    prometheus.latency = {
        (SHOP, "checkout"): {0.5: 20.0, 0.9: 45.0, 0.99: 120.0},
        (SHOP, "payments"): {0.5: 30.0, 0.9: 60.0, 0.99: inf},
        (SHOP, "inventory"): {0.5: 5.0, 0.9: nan},
    }
    out = tmp_path / "twin"
    code, _, stderr = snapshot(shop, out, capsys, "--prometheus", prometheus.url)
    assert code == 0, stderr
    twin = MeshSpec.load(out / "mesh.yaml")
    settings = {w.name: dict(w.app.settings) for w in twin.spec.workloads}
    for value in settings.values():
        check_twin_keys(value)
    assert settings["payments"]["latency"] == {
        "distribution": "quantiles",
        "p50": "30ms",
        "p90": "60ms",
    }
    assert settings["inventory"]["latency"] == {"distribution": "quantiles", "p50": "5ms"}
    assert settings["checkout"]["latency"] == {
        "distribution": "quantiles",
        "p50": ms(20.0 * 0.1),  # payments (30 ms) is slower than checkout: a tenth is left
        "p90": ms(45.0 * 0.1),
        "p99": ms(120.0),  # no callee has a finite p99 to take off
    }
    readme = (out / "README.md").read_text()
    assert "shop/inventory: p90 is nan (no samples, or above the top bucket)" in readme
    assert "shop/payments: p99 is inf (no samples, or above the top bucket)" in readme
