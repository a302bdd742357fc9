"""Port mode: pods told apart by their ports on 127.0.0.1 where no other loopback binds."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from chaoskit.controlplane import address_mode
from chaoskit.controlplane.address_mode import check_mode, resolve_address_mode
from chaoskit.controlplane.compiler import Compiler
from chaoskit.controlplane.model import MeshState, PodView, PortView, ServiceView
from chaoskit.controlplane.pods import PodProcess
from chaoskit.controlplane.port_block import BLOCK_SIZE, PortBlock
from chaoskit.controlplane.runtime import ControlPlane, MeshOptions
from chaoskit.errors import BackendError, ConfigError
from chaoskit.mesh.bootstrap import Bootstrap
from chaoskit.mesh.http.message import Headers, Request
from chaoskit.mesh.pod import Pod
from chaoskit.platform_check import check_posix
from chaoskit.topology.host_ports import admin_address, host_ports, pod_address
from chaoskit.topology.spec import MeshSpec


@pytest.mark.parametrize("aliases", [True, False])
def test_auto_picks_ip_mode_only_where_another_loopback_address_binds(
    monkeypatch: pytest.MonkeyPatch, aliases: bool
) -> None:
    monkeypatch.delenv(address_mode.ENV_VAR, raising=False)
    monkeypatch.setattr(address_mode, "loopback_aliases_work", lambda: aliases)
    assert resolve_address_mode() == ("ip" if aliases else "port")
    assert resolve_address_mode("port") == "port"  # port mode runs anywhere


def test_ip_mode_where_only_127_0_0_1_binds_names_the_way_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(address_mode, "loopback_aliases_work", lambda: False)
    with pytest.raises(BackendError, match="use --address-mode port"):
        resolve_address_mode("ip")


def test_the_environment_sets_the_mode_and_a_bad_value_names_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(address_mode, "loopback_aliases_work", lambda: True)
    monkeypatch.setenv(address_mode.ENV_VAR, "port")
    assert resolve_address_mode() == "port"
    assert resolve_address_mode("ip") == "ip"  # the option beats the environment
    monkeypatch.setenv(address_mode.ENV_VAR, "ipv6")
    with pytest.raises(ConfigError, match="CHAOSKIT_ADDRESS_MODE: 'ipv6' is not an address"):
        resolve_address_mode()
    assert check_mode(" Port ", "x") == "port"


@pytest.mark.skipif(sys.platform != "linux", reason="Linux routes 127.0.0.0/8 to lo; macOS not")
def test_this_host_binds_127_0_0_2_as_linux_does() -> None:
    """The probe itself, on the machine the tests run on (Linux routes 127/8 to lo)."""
    assert address_mode.loopback_aliases_work()


def test_two_meshes_claim_different_blocks_and_skip_a_port_someone_holds() -> None:
    first = PortBlock.claim()
    second = PortBlock.claim()
    held = socket.socket()
    try:
        assert second.base != first.base
        held.bind(("127.0.0.1", first.base + 2))
        held.listen(1)
        ports = first.allocate((15000, 9080, 9443))
        assert ports[15000] == first.base + 1
        assert first.base + 2 not in ports.values()
        assert len(set(ports.values())) == 3
        assert all(first.base < p < first.base + BLOCK_SIZE for p in ports.values())
        assert not set(ports.values()) & set(second.allocate((15000, 9080)).values())
    finally:
        held.close()
        first.release()
        second.release()


def test_endpoints_are_the_pods_mapped_ports_on_one_address() -> None:
    """Envoy's endpoint is address:port: two replicas on 127.0.0.1 are two hosts."""
    pods = [
        PodView("r-a", "b", "r", (("app", "r"),), "127.0.0.1", ports=((9080, 16002),)),
        PodView("r-b", "b", "r", (("app", "r"),), "127.0.0.1", ports=((9080, 16004),)),
    ]
    service = ServiceView("r", "b", (PortView(9080, 9080),), (("app", "r"),))
    compiler = Compiler(MeshState(services=[service], pods=pods))
    endpoints = compiler.endpoints(service, 9080, {})
    assert sorted((e.address, e.port) for e in endpoints) == [
        ("127.0.0.1", 16002),
        ("127.0.0.1", 16004),
    ]


def test_port_mode_gives_each_pod_its_ports_and_a_source_stand_in(tmp_path: Path) -> None:
    plane = ControlPlane(MeshSpec.load(None), MeshOptions(state_dir=tmp_path))
    plane.port_block = PortBlock.claim()
    try:
        pods = [
            PodProcess(f"p{i}", "ns", "w", i, "", {}, "sidecar", "echo", {}, (9080,))
            for i in range(3)
        ]
        for pod in pods:
            plane._allocate(pod)
        assert {p.ip for p in pods} == {"127.0.0.1"}
        ports = [p for pod in pods for p in pod.ports.values()]
        assert len(set(ports)) == 6  # admin and app port, per pod
        assert len({p.source_key for p in pods}) == 3
        assert pods[0].addresses == [f"127.0.0.1:{p}" for p in sorted(pods[0].ports.values())]
        boot = plane._bootstrap(pods[0])
        assert boot.admin_port == pods[0].ports[15000]
        assert boot.listen_port(9080) == pods[0].ports[9080]
        assert boot.listen_port(8443) == 0  # no Service targets it: any free port
    finally:
        plane.port_block.release()


def test_a_sidecar_hashes_its_source_stand_in_not_the_shared_127_0_0_1(tmp_path: Path) -> None:
    """useSourceIp hashes the downstream address in the caller's own sidecar; in port mode
    every pod's is 127.0.0.1, so the sidecar hashes its pod's stand-in instead, while its
    access log keeps the real 127.0.0.1."""
    boot = Bootstrap(
        pod="a",
        namespace="ns",
        ip="127.0.0.1",
        kind="sidecar",
        labels=(),
        app="echo",
        app_settings={},
        container_ports=(9080,),
        xds_address=("127.0.0.1", 1),
        token="t",
        log_dir=str(tmp_path),
        port_map=((15000, 16001), (9080, 16002)),
        source_key="127.255.0.2",
    )
    pod = Pod(boot)
    seen: list[tuple[Any, ...]] = []

    async def route(*args: Any) -> Any:
        seen.append(args[2:])
        return None

    pod.proxy.knows_host = lambda host, port: True  # type: ignore[method-assign]
    pod.proxy.route = route  # type: ignore[method-assign]
    try:
        asyncio.run(pod.outbound(Request("GET", "/", Headers([("host", "b:9080")])), 9080))
    finally:
        pod._log_file.close()
    assert seen == [("127.255.0.2", "outbound", "127.0.0.1")]
    assert pod.proxy.identity.app_address(9080) == "127.0.0.1:16002"


def test_pod_objects_carry_their_ports() -> None:
    pod = {
        "metadata": {"annotations": {"chaoskit.dev/ports": '{"15000": 16001, "8080": 16002}'}},
        "status": {"podIP": "127.0.0.1"},
    }
    assert host_ports(pod) == {15000: 16001, 8080: 16002}
    assert admin_address(pod) == "127.0.0.1:16001"
    assert pod_address(pod, 8080) == "127.0.0.1:16002"
    ip_mode = {"metadata": {}, "status": {"podIP": "127.20.0.3"}}
    assert admin_address(ip_mode) == "127.20.0.3:15000"


def test_native_windows_is_told_to_use_wsl2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.name", "nt")
    with pytest.raises(BackendError, match="inside WSL2"):
        check_posix("the embedded mesh")
