"""Run the control plane: API server, push channel and pods, until told to stop.

``serve`` is what ``chaoskit mesh up`` runs in the foreground; ``python -m
chaoskit.controlplane`` runs the same in a child process for ``--detach`` and for the
pytest plugin. Either way it writes ``mesh.json`` (addresses, token, pid) and a kubeconfig
into the state directory once every pod is ready, and removes ``mesh.json`` on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from chaoskit.controlplane.api import KubeApi
from chaoskit.controlplane.api_tls import ApiServerTls
from chaoskit.controlplane.logcap import cap_forever
from chaoskit.controlplane.runtime import ControlPlane, MeshOptions
from chaoskit.platform_check import check_posix
from chaoskit.topology.spec import MeshSpec

STATE_FILE = "mesh.json"
KUBECONFIG_FILE = "kubeconfig"
CONTEXT_NAME = "chaoskit-embedded"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig(server: str, token: str, ca_data: str) -> dict[str, Any]:
    """One context, ``chaoskit-embedded``: the HTTPS server, its CA and a bearer token
    (client-go sends a token only over TLS)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT_NAME,
                "cluster": {"server": server, "certificate-authority-data": ca_data},
            }
        ],
        "users": [{"name": "chaoskit", "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT_NAME,
                "context": {"cluster": CONTEXT_NAME, "user": "chaoskit", "namespace": "default"},
            }
        ],
        "current-context": CONTEXT_NAME,
    }


@dataclass(frozen=True, slots=True)
class MeshInfo:
    """What a client needs to reach a running embedded mesh (``mesh.json``)."""

    api_server: str
    token: str
    kubeconfig: str
    ingress_http: str
    ingress_https: str
    pid: int
    state_dir: str
    istio_version: str
    started_at: float
    address_mode: str = "ip"  # ip: a 127.x address per pod; port: ports on 127.0.0.1
    # Namespaces labelled istio.io/dataplane-mode=ambient; the others run sidecars.
    ambient_namespaces: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "apiServer": self.api_server,
            "token": self.token,
            "kubeconfig": self.kubeconfig,
            "ingress": {"http": self.ingress_http, "https": self.ingress_https},
            "pid": self.pid,
            "stateDir": self.state_dir,
            "istioVersion": self.istio_version,
            "startedAt": self.started_at,
            "addressMode": self.address_mode,
            "ambientNamespaces": list(self.ambient_namespaces),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeshInfo:
        return cls(
            api_server=data["apiServer"],
            token=data["token"],
            kubeconfig=data["kubeconfig"],
            ingress_http=data["ingress"]["http"],
            ingress_https=data["ingress"]["https"],
            pid=data["pid"],
            state_dir=data["stateDir"],
            istio_version=data["istioVersion"],
            started_at=data["startedAt"],
            address_mode=data.get("addressMode", "ip"),
            ambient_namespaces=tuple(data.get("ambientNamespaces") or ()),
        )

    @classmethod
    def read(cls, state_dir: Path) -> MeshInfo | None:
        path = state_dir / STATE_FILE
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError):
            return None


class RunningMesh:
    """A started control plane with its API server; ``stop`` undoes everything."""

    def __init__(self, cp: ControlPlane, runner: web.AppRunner, info: MeshInfo) -> None:
        self.cp = cp
        self.runner = runner
        self.info = info

    @classmethod
    async def start(
        cls,
        spec: MeshSpec,
        state_dir: Path,
        *,
        api_port: int = 0,
        ingress_http_port: int = 0,
        ingress_https_port: int = 0,
        seed: int = 0,
        ready_timeout_s: float = 30.0,
        address_mode: str | None = None,
    ) -> RunningMesh:
        check_posix("the embedded mesh")
        state_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before serving
        options = MeshOptions(
            state_dir=state_dir,
            ingress_http_port=ingress_http_port or free_port(),
            ingress_https_port=ingress_https_port or free_port(),
            seed=seed,
            address_mode=address_mode,
        )
        cp = ControlPlane(spec, options)
        api = KubeApi(cp)
        runner = web.AppRunner(api.app, access_log=None, handle_signals=False)
        await runner.setup()
        tls = ApiServerTls.generate()
        tls.write(state_dir)
        site = web.TCPSite(
            runner, "127.0.0.1", api_port or free_port(), ssl_context=tls.server_context(state_dir)
        )
        try:
            await site.start()
            await cp.start(ready_timeout_s)
        except BaseException:
            await cp.stop()
            await runner.cleanup()
            raise
        server = site.name.rstrip("/")
        config_path = state_dir / KUBECONFIG_FILE
        config_path.write_text(
            yaml.safe_dump(kubeconfig(server, cp.token, tls.ca_data), sort_keys=False)
        )
        config_path.chmod(0o600)
        info = MeshInfo(
            api_server=server,
            token=cp.token,
            kubeconfig=str(config_path),
            ingress_http=f"http://127.0.0.1:{options.ingress_http_port}",
            ingress_https=f"https://127.0.0.1:{options.ingress_https_port}",
            pid=os.getpid(),
            state_dir=str(state_dir),
            istio_version=cp.compat.istio_version,
            started_at=time.time(),
            address_mode=cp.address_mode,
            ambient_namespaces=tuple(sorted(cp.ambient_namespaces)),
        )
        state_path = state_dir / STATE_FILE
        state_path.write_text(json.dumps(info.to_json(), indent=1))
        state_path.chmod(0o600)
        return cls(cp, runner, info)

    async def stop(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (Path(self.info.state_dir) / STATE_FILE).unlink()
        await self.cp.stop()
        await self.runner.cleanup()


async def serve_forever(mesh: RunningMesh, parent_pid: int = 0) -> None:
    """Run until SIGINT/SIGTERM (or until ``parent_pid`` exits), then stop every pod."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def watch_parent() -> None:
        # Orphans are re-parented, so a changed parent pid means the starter is gone.
        while os.getppid() == parent_pid:  # noqa: ASYNC110 - no event tells a parent's death
            await asyncio.sleep(0.5)
        stop.set()

    watchdog = loop.create_task(watch_parent()) if parent_pid else None
    capping = loop.create_task(cap_forever(Path(mesh.info.state_dir) / "logs"))
    try:
        await stop.wait()
    finally:
        if watchdog is not None:
            watchdog.cancel()
        capping.cancel()
        await mesh.stop()
