"""A mesh spec's generic-app settings are checked when the spec loads (topology/app_check.py):
bad settings and calls to hosts the spec does not have are one line each, naming the file,
the workload and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from chaoskit.errors import ConfigError
from chaoskit.topology.spec import MeshSpec

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "shop" / "mesh.yaml"


def _spec(tmp_path: Path, settings: dict[str, Any], resources: str = "") -> Path:
    body: dict[str, Any] = {
        "apiVersion": "chaoskit.dev/v1alpha1",
        "kind": "MeshSpec",
        "spec": {
            "namespaces": [{"name": "shop"}, {"name": "ops"}],
            "services": [
                {"name": "front", "namespace": "shop", "ports": [{"port": 8080}]},
                {"name": "pay", "namespace": "shop", "ports": [{"port": 8080}]},
                {"name": "audit", "namespace": "ops", "ports": [{"port": 9000}]},
            ],
            "workloads": [
                {
                    "name": "pay",
                    "namespace": "shop",
                    "labels": {"app": "pay"},
                    "app": {"name": "echo"},
                },
                {
                    "name": "front",
                    "namespace": "shop",
                    "labels": {"app": "front"},
                    "app": {"name": "echo", "settings": settings},
                },
            ],
        },
    }
    if resources:
        (tmp_path / "entries.yaml").write_text(resources)
        body["spec"]["resources"] = ["entries.yaml"]
    path = tmp_path / "mesh.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        MeshSpec.load(path)
    return str(raised.value)


@pytest.mark.parametrize(
    "host",
    [
        "pay",
        "pay.shop",
        "pay.shop.svc",
        "pay.shop.svc.cluster.local",
    ],
)
def test_a_call_resolves_as_the_pods_dns_search_path_does(tmp_path: Path, host: str) -> None:
    MeshSpec.load(_spec(tmp_path, {"calls": [{"host": host, "port": 8080}]}))


def test_a_short_name_resolves_in_the_callers_namespace_only(tmp_path: Path) -> None:
    """``audit`` lives in ops: from shop it takes ``audit.ops``."""
    MeshSpec.load(_spec(tmp_path, {"calls": [{"host": "audit.ops", "port": 9000}]}))
    message = _error(_spec(tmp_path, {"calls": [{"host": "audit", "port": 9000}]}))
    assert "host 'audit' is not a Service of the spec (from namespace shop)" in message


def test_an_unknown_host_names_the_file_the_workload_and_the_call(tmp_path: Path) -> None:
    path = _spec(
        tmp_path, {"calls": [{"host": "pay", "port": 8080}, {"host": "paymnts", "port": 80}]}
    )
    message = _error(path)
    assert message.startswith(f"mesh spec {path} is invalid:")
    assert "spec.workloads[1] (shop/front): app.settings.calls[1]: host 'paymnts'" in message
    assert "known Services: audit.ops.svc.cluster.local, front.shop.svc.cluster.local" in message


def test_a_port_the_service_does_not_have_is_refused(tmp_path: Path) -> None:
    message = _error(_spec(tmp_path, {"calls": [{"host": "pay", "port": 80}]}))
    assert "calls[0]: port 80 is not a port of Service shop/pay (its ports: 8080)" in message


def test_a_serviceentry_host_in_the_resources_may_be_called(tmp_path: Path) -> None:
    entry = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bank, namespace: shop}
spec:
  hosts: [api.bank.example]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
"""
    MeshSpec.load(_spec(tmp_path, {"calls": [{"host": "api.bank.example", "port": 443}]}, entry))
    message = _error(_spec(tmp_path, {"calls": [{"host": "api.bank.example", "port": 80}]}, entry))
    assert "port 80 is not a port of the ServiceEntry host api.bank.example" in message


def test_bad_settings_are_refused_at_load_with_the_field(tmp_path: Path) -> None:
    settings = {"latency": {"distribution": "quantiles", "p50": "9ms", "p99": "3ms"}}
    message = _error(_spec(tmp_path, settings))
    assert "spec.workloads[1] (shop/front): app.settings: latency.p99: '3ms' is below" in message


def test_the_shop_example_loads() -> None:
    spec = MeshSpec.load(EXAMPLE)
    frontend = next(w for w in spec.spec.workloads if w.name == "frontend")
    assert [c["host"] for c in frontend.app.settings["calls"]] == [
        "cart.shop.svc.cluster.local",
        "catalog.shop.svc.cluster.local",
    ]
