"""The pod fork server, without a mesh around it: forked pods are isolated processes, each
with its own address and log, and their exits are reported truly. (That pods leave when
the control plane dies is tested in test_lifecycle.py.)"""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

from chaoskit.controlplane.addresses import AddressBlock
from chaoskit.controlplane.launcher import pid_alive
from chaoskit.controlplane.pods import PodHandle, PodRunner
from chaoskit.mesh.bootstrap import Bootstrap


def _bootstrap(tmp: Path, name: str, ip: str, xds_port: int) -> Path:
    boot = Bootstrap(
        pod=name,
        namespace="default",
        ip=ip,
        kind="sidecar",
        labels=(("app", name),),
        app="echo",
        app_settings={},
        container_ports=(8080,),
        xds_address=("127.0.0.1", xds_port),  # nobody listens: the pod keeps reconnecting
        token="t",
        log_dir=str(tmp / "logs"),
    )
    path = tmp / "pods" / f"{name}.default.json"
    boot.write(path)
    return path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin_answers(ip: str, timeout_s: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        try:
            _, writer = await asyncio.open_connection(ip, 15000)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return True
    return False


def test_a_killed_pod_is_reported_and_its_sibling_keeps_running(tmp_path: Path) -> None:
    async def scenario() -> None:
        block = AddressBlock.claim()
        runner = PodRunner(tmp_path)
        await runner.open(["echo"])
        try:
            port = _closed_port()
            ips = [block.allocate(), block.allocate()]
            handles: list[PodHandle] = []
            for index, ip in enumerate(ips):
                boot = _bootstrap(tmp_path, f"pod-{index}", ip, port)
                handles.append(await runner.forks.spawn(boot, tmp_path / "logs" / f"{index}.log"))
            victim, sibling = handles
            assert victim.pid != sibling.pid
            assert all([await _admin_answers(ip) for ip in ips])  # each on its own address

            victim.kill()
            assert await asyncio.wait_for(victim.wait(), 10) == -signal.SIGKILL
            assert sibling.returncode is None
            assert pid_alive(sibling.pid)
            assert await _admin_answers(ips[1], 2)

            # The victim's pid is reaped: a signal for it is not sent to whoever gets it next.
            victim.send_signal(signal.SIGKILL)
            sibling.terminate()
            assert await asyncio.wait_for(sibling.wait(), 10) == 0  # a clean SIGTERM stop
            log = (tmp_path / "logs" / "1.log").read_text()
            assert "push channel lost" in log  # its own log, not the server's
        finally:
            await runner.close()
            block.release()

    asyncio.run(scenario())


def test_a_pod_that_cannot_start_reports_its_exit_code_and_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        runner = PodRunner(tmp_path)
        await runner.open([])
        try:
            missing = tmp_path / "pods" / "nobody.default.json"
            handle = await runner.forks.spawn(missing, tmp_path / "logs" / "nobody.log")
            assert await asyncio.wait_for(handle.wait(), 10) == 1
            assert "FileNotFoundError" in (tmp_path / "logs" / "nobody.log").read_text()
        finally:
            await runner.close()

    asyncio.run(scenario())
