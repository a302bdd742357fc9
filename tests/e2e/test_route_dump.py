"""``proxy-config routes -o json`` prints Envoy's ``RouteConfiguration`` JSON as istioctl
does, so a jq script written against istioctl reads it the same."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chaoskit.commands.envoy_routes import duration
from tests.e2e.conftest import MeshHandle

VS = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}, uri: {prefix: /status}}]
    fault: {abort: {percentage: {value: 50}, httpStatus: 503}, delay: {percentage: {value: 10}, fixedDelay: 1.5s}}
    route: [{destination: {host: httpbin, subset: v1}, weight: 80}, {destination: {host: httpbin, subset: v2}, weight: 20}]
  - route: [{destination: {host: httpbin, subset: v1}}]
    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: 5xx}
"""


def routes_json(mesh: MeshHandle) -> list[dict]:  # type: ignore[type-arg]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaoskit.cli",
            "proxy-config",
            "routes",
            "deploy/fortio",
            "-o",
            "json",
            "--state-dir",
            mesh.info.state_dir,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_routes_are_envoys_route_configuration_json(mesh: MeshHandle) -> None:
    from tests.e2e.conftest import HTTPBIN_SUBSETS

    mesh.apply(HTTPBIN_SUBSETS + "---\n" + VS)
    configs = routes_json(mesh)
    assert all(set(c) == {"name", "virtualHosts", "validateClusters"} for c in configs)
    (vhost,) = [
        v
        for c in configs
        for v in c["virtualHosts"]
        if v["name"] == "httpbin.default.svc.cluster.local:8000"
    ]
    assert vhost["includeRequestAttemptCount"] is True
    jason, default = vhost["routes"]

    assert jason["name"] == "jason"
    assert jason["match"]["prefix"] == "/status"
    assert jason["match"]["headers"] == [{"name": "end-user", "stringMatch": {"exact": "jason"}}]
    weighted = jason["route"]["weightedClusters"]["clusters"]
    assert [(c["name"], c["weight"]) for c in weighted] == [
        ("outbound|8000|v1|httpbin.default.svc.cluster.local", 80),
        ("outbound|8000|v2|httpbin.default.svc.cluster.local", 20),
    ]
    fault = jason["typedPerFilterConfig"]["envoy.filters.http.fault"]
    assert fault["@type"] == "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
    assert fault["abort"] == {
        "httpStatus": 503,
        "percentage": {"numerator": 500000, "denominator": "MILLION"},
    }
    assert fault["delay"] == {
        "fixedDelay": "1.500s",
        "percentage": {"numerator": 100000, "denominator": "MILLION"},
    }
    assert jason["metadata"]["filterMetadata"]["istio"]["config"] == (
        "/apis/networking.istio.io/v1/namespaces/default/virtual-service/httpbin"
    )

    action = default["route"]
    assert action["cluster"] == "outbound|8000|v1|httpbin.default.svc.cluster.local"
    assert action["timeout"] == "3s"
    assert action["retryPolicy"]["numRetries"] == 3
    assert action["retryPolicy"]["perTryTimeout"] == "0.500s"
    assert "5xx" in action["retryPolicy"]["retryOn"].split(",")
    assert action["retryPolicy"]["hostSelectionRetryMaxAttempts"] == "5"  # int64: a string


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(7, "7s"), (0.5, "0.500s"), (0.0005, "0.000500s"), (1e-9, "0.000000001s"), (0, "0s")],
)
def test_durations_are_protobuf_json(seconds: float, text: str) -> None:
    assert duration(seconds) == text
