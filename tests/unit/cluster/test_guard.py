"""The guard's kubeconfig reading and its local checks (no server involved)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaoskit.cluster.guard import (
    UnsafeTarget,
    check_context_name,
    check_nodes,
    check_server,
    kubeconfig_target,
)


def kubeconfig(path: Path, current: str, **contexts: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": [
                    {"name": f"c-{n}", "cluster": {"server": s}} for n, s in contexts.items()
                ],
                "contexts": [
                    {"name": n, "context": {"cluster": f"c-{n}", "user": "u"}} for n in contexts
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    return path


@pytest.mark.parametrize(
    "server",
    [
        "https://127.0.0.1:40443",
        "https://127.9.8.7:6443",
        "https://localhost:6443",
        "https://[::1]:6443",
        "http://LOCALHOST",
    ],
)
def test_loopback_servers_pass(server: str) -> None:
    assert check_server(server).ok


@pytest.mark.parametrize(
    "server",
    [
        "https://10.96.0.1:443",
        "https://192.168.49.2:8443",
        "https://[fe80::1]:6443",
        "https://kubernetes.default.svc",
        "https://localhost.example.com",
        "https://128.0.0.1",
    ],
)
def test_other_servers_fail(server: str) -> None:
    check = check_server(server)
    assert not check.ok
    assert "is not on loopback (127.0.0.0/8, localhost or ::1)" in check.detail


def test_context_names() -> None:
    assert check_context_name("kind-chaoskit").ok
    assert check_context_name("kind-chart-testing").ok
    assert not check_context_name("kindergarten").ok
    assert not check_context_name("arn:aws:eks:eu-west-1:1:cluster/kind-prod").ok
    assert check_context_name("chaoskit-embedded").ok
    assert not check_context_name("chaoskit-embedded-prod").ok


def test_the_guard_knows_the_embedded_meshs_own_names() -> None:
    from chaoskit.cluster.guard import EMBEDDED_CONTEXT, EMBEDDED_PROVIDER_PREFIX
    from chaoskit.controlplane.api_workloads import PROVIDER_ID
    from chaoskit.controlplane.server import CONTEXT_NAME

    assert EMBEDDED_CONTEXT == CONTEXT_NAME
    assert PROVIDER_ID.startswith(EMBEDDED_PROVIDER_PREFIX)


def test_embedded_nodes_pass_only_the_embedded_check() -> None:
    from chaoskit.cluster.guard import EMBEDDED_PROVIDER_PREFIX

    node = {"metadata": {"name": "e"}, "spec": {"providerID": "chaoskit://embedded"}}
    assert check_nodes([node], EMBEDDED_PROVIDER_PREFIX).ok
    assert (
        check_nodes([node]).detail
        == "node spec.providerID is not kind://*: e (chaoskit://embedded)"
    )


def test_nodes_need_a_kind_provider_id_each() -> None:
    kind = {"metadata": {"name": "a"}, "spec": {"providerID": "kind://docker/chaoskit/a"}}
    bare = {"metadata": {"name": "b"}, "spec": {}}
    assert check_nodes([kind]).ok
    assert (
        check_nodes([kind, bare]).detail
        == "node spec.providerID is not kind://*: b (no providerID)"
    )
    assert not check_nodes([]).ok


def test_the_named_context_or_the_current_one_is_resolved(tmp_path: Path) -> None:
    path = kubeconfig(
        tmp_path / "config",
        "kind-a",
        **{"kind-a": "https://127.0.0.1:1", "prod": "https://10.0.0.1"},
    )
    assert kubeconfig_target(path, None) == ("kind-a", "https://127.0.0.1:1")
    assert kubeconfig_target(path, "prod") == ("prod", "https://10.0.0.1")
    with pytest.raises(UnsafeTarget, match="context 'nope' is not in"):
        kubeconfig_target(path, "nope")


def test_kubeconfig_env_with_several_files_first_entry_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kubeconfig(tmp_path / "a", "kind-x", **{"kind-x": "https://127.0.0.1:1"})
    second = kubeconfig(
        tmp_path / "b", "prod", **{"kind-x": "https://10.0.0.9", "prod": "https://10.0.0.1"}
    )
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'missing'}:{second}")
    assert kubeconfig_target(None, None) == ("kind-x", "https://127.0.0.1:1")
    assert kubeconfig_target(None, "prod") == ("prod", "https://10.0.0.1")
