"""Pods as processes: spawn each replica, watch it, kill it, restart it.

Like a kubelet with ``restartPolicy: Never`` plus a Deployment controller that acts only
when asked: a killed pod stays dead (its endpoint stays in EDS, as when a node dies and
nobody has noticed yet) until it is restarted or deleted; deleting a pod replaces it with
a new one (new name, new address), as a Deployment does. The kill modes of
``chaoskit.controlplane.kills`` (app crash, pod deleted, node lost) refine this.

Pod processes are forked by the mesh's fork server (chaoskit.mesh.forkserver), which has
the data plane imported once; it is their parent and reports their exits. Each pod's pid
is written next to its bootstrap (``pods/NAME.NAMESPACE.pid``): a forked pod's command
line is the server's, so that file is how tools find one pod's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit.errors import EmulatorError
from chaoskit.mesh.bootstrap import Bootstrap


class PodHandle:
    """One forked pod process, as the fork server reports it (``asyncio.subprocess``'s
    shape: ``returncode`` is None while it runs, negative when a signal killed it)."""

    def __init__(self, server: ForkServerClient, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._server = server
        self._exited = asyncio.Event()

    def _exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            self._server.signal(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServerClient:
    """The control plane's side of the fork server: spawn requests, signals, exit reports."""

    def __init__(self, state_dir: Path, python: str) -> None:
        self.state_dir = state_dir
        self.python = python
        self._process: asyncio.subprocess.Process | None = None
        self._lifeline: int | None = None  # the write end: pods see EOF when we are gone
        self._spawns: dict[int, asyncio.Future[int]] = {}
        self._handles: dict[int, PodHandle] = {}
        self._seq = 0
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self.on_lost: Callable[[str], None] | None = None
        self.apps: frozenset[str] = frozenset()  # what the launched server preloads

    @property
    def launched(self) -> bool:
        return self._process is not None

    async def launch(self, apps: list[str]) -> None:
        """Start the server process; its imports run while the caller goes on."""
        self.apps = frozenset(apps)
        lifeline_read, self._lifeline = os.pipe()
        log = (self.state_dir / "logs" / "forkserver.log").open("ab")
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            self._process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "chaoskit.mesh.forkserver",
                "--lifeline",
                str(lifeline_read),
                *apps,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=env,
                pass_fds=(lifeline_read,),
                limit=1 << 20,
            )
        finally:
            log.close()
            os.close(lifeline_read)

    async def start(self, apps: list[str]) -> None:
        """Launch the server (unless launched already) and wait until it has imported."""
        if self._process is None:
            await self.launch(apps)
        assert self._process is not None
        assert self._process.stdout is not None
        ready = await self._process.stdout.readline()
        if not ready:
            code = await self._process.wait()
            raise EmulatorError(
                f"the pod fork server exited with code {code} while importing; "
                f"see {self.state_dir / 'logs' / 'forkserver.log'}"
            )
        self._reader = asyncio.get_running_loop().create_task(self._read())

    def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            raise EmulatorError("the pod fork server is not running")
        process.stdin.write((json.dumps(message) + "\n").encode())

    async def spawn(self, boot_path: Path, log_path: Path) -> PodHandle:
        self._seq += 1
        reply: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._spawns[self._seq] = reply
        self._send({"spawn": self._seq, "boot": str(boot_path), "log": str(log_path)})
        return self._handles[await reply]

    def signal(self, pid: int, sig: int) -> None:
        with contextlib.suppress(EmulatorError):
            self._send({"signal": pid, "number": int(sig)})

    async def _read(self) -> None:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        while line := await process.stdout.readline():
            event = json.loads(line)
            if "spawned" in event:
                reply = self._spawns.pop(int(event["spawned"]))
                if "pid" in event:
                    pid = int(event["pid"])
                    self._handles[pid] = PodHandle(self, pid)
                    reply.set_result(pid)
                else:
                    reply.set_exception(EmulatorError(f"fork failed: {event.get('error')}"))
            elif "exited" in event:
                handle = self._handles.pop(int(event["exited"]), None)
                if handle is not None:
                    handle._exit(int(event["code"]))
        code = await process.wait()
        self._server_gone(code)

    def _server_gone(self, code: int) -> None:
        """Nobody reaps the pods now, so no exit could be reported: kill them (an exit we
        caused is one we can report truly) and tell the control plane."""
        for reply in self._spawns.values():
            if not reply.done():
                reply.set_exception(EmulatorError(f"the pod fork server exited with code {code}"))
        for handle in list(self._handles.values()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(handle.pid, signal.SIGKILL)
            handle._exit(-signal.SIGKILL)
        self._handles.clear()
        if not self._closing and self.on_lost is not None:
            self.on_lost(
                f"the pod fork server exited with code {code}: its pods were killed; see "
                f"{self.state_dir / 'logs' / 'forkserver.log'}"
            )

    async def close(self) -> None:
        """After the pods have stopped: end the server (EOF on its stdin) and the lifeline."""
        self._closing = True
        process = self._process
        if process is not None and process.stdin is not None:
            process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None


@dataclass(slots=True)
class PodProcess:
    name: str
    namespace: str
    workload: str
    replica: int
    ip: str
    labels: dict[str, str]
    kind: str
    app: str
    app_settings: dict[str, Any]
    container_ports: tuple[int, ...]
    # The pod's annotations other than the app-settings one (which mirrors app_settings).
    annotations: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    process: PodHandle | None = None
    started_at: float = 0.0
    ready: bool = False
    restart_count: int = 0
    exit_code: int | None = None
    killed_by_chaos: bool = False
    app_down: bool = False  # the app container crashed; the sidecar serves 503 UF
    node_lost: bool = False  # frozen, and its address unreachable from every pod
    in_eds: bool = True  # callers still have its endpoint
    deleted: bool = False  # deleted; gone from the pod list once its endpoint leaves EDS
    endpoint_timer: asyncio.TimerHandle | None = None  # when it leaves EDS
    log_path: Path | None = None
    # Port mode: the pod's ports (admin, app, listeners) → its ports on 127.0.0.1.
    ports: dict[int, int] = field(default_factory=dict)
    source_key: str = ""  # port mode: what a source-IP hash policy sees for its calls

    @property
    def proxy_id(self) -> str:
        return f"{self.name}.{self.namespace}"

    def host_port(self, port: int) -> int:
        """Where the pod's ``port`` is reached: the port itself, or its mapped port."""
        return self.ports.get(port, port)

    @property
    def addresses(self) -> list[str]:
        """What callers connect to: its IP, or in port mode each ``127.0.0.1:port``."""
        if not self.ports:
            return [self.ip]
        return [f"{self.ip}:{p}" for p in sorted(self.ports.values())]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def phase(self) -> str:
        if self.node_lost:
            return "Unknown"  # Kubernetes: the node cannot be asked about its pods
        if self.running:
            return "Running"
        return "Failed" if self.exit_code not in (None, 0) else "Pending"


def pid_path(state_dir: Path, proxy_id: str) -> Path:
    return state_dir / "pods" / f"{proxy_id}.pid"


def pod_pids(state_dir: Path) -> dict[str, int]:
    """Proxy id → pid of every pod process the mesh in ``state_dir`` started (last start)."""
    pids = {}
    for path in (state_dir / "pods").glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pids[path.name.removesuffix(".pid")] = int(path.read_text())
    return pids


def pod_name(workload: str) -> str:
    """Deployment-style names: ``reviews-v1-7f9c4-x2k8d`` without the template hash."""
    return f"{workload}-{secrets.token_hex(3)[:5]}"


# Fork servers launched before the control plane's own imports, by state directory.
_EARLY: dict[Path, ForkServerClient] = {}


async def launch_early(state_dir: Path, python: str = sys.executable) -> None:
    """Launch the mesh's fork server now, preloading every registered app, so that its
    imports (a few tenths of a second) overlap with the control plane's instead of
    following them. The mesh's PodRunner for ``state_dir`` then takes it over."""
    from chaoskit.mesh.apps.base import available_apps

    (state_dir / "logs").mkdir(parents=True, exist_ok=True)
    client = ForkServerClient(state_dir, python)
    await client.launch(available_apps())
    _EARLY[state_dir] = client


async def close_early(state_dir: Path) -> None:
    """Stop an early fork server that no mesh took over (its start failed first)."""
    client = _EARLY.pop(state_dir, None)
    if client is not None:
        await client.close()


class PodRunner:
    """Starts and stops pod processes; knows nothing about Kubernetes objects."""

    def __init__(self, state_dir: Path, python: str = sys.executable) -> None:
        self.state_dir = state_dir
        (state_dir / "pods").mkdir(parents=True, exist_ok=True)
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)
        for stale in (state_dir / "pods").glob("*.pid"):  # a previous mesh's pods
            stale.unlink(missing_ok=True)
        early = _EARLY.pop(state_dir, None)
        self.forks = early if early is not None else ForkServerClient(state_dir, python)

    async def open(self, apps: list[str]) -> None:
        """Start the fork server with ``apps`` (the mesh's app names) imported."""
        from chaoskit.mesh.apps.base import app_module

        wanted = sorted(set(apps))
        preloaded = {app for app in wanted if app_module(app) is not None} <= self.forks.apps
        if self.forks.launched and not preloaded:
            # Launched early without one of this mesh's apps (one registered since):
            # a pod must not pay for that import, so start a server that has it.
            python = self.forks.python
            await self.forks.close()
            self.forks = ForkServerClient(self.state_dir, python)
        await self.forks.start(wanted)

    async def close(self) -> None:
        await self.forks.close()

    async def start(self, pod: PodProcess, boot: Bootstrap) -> None:
        boot_path = self.state_dir / "pods" / f"{pod.name}.{pod.namespace}.json"
        boot.write(boot_path)
        pod.log_path = self.state_dir / "logs" / f"{pod.name}.{pod.namespace}.log"
        pod.process = await self.forks.spawn(boot_path, pod.log_path)
        pid_path(self.state_dir, pod.proxy_id).write_text(f"{pod.process.pid}\n")
        pod.started_at = time.time()
        pod.ready = False
        pod.exit_code = None

    @staticmethod
    def kill(pod: PodProcess, sig: int = signal.SIGKILL) -> None:
        if pod.process is not None and pod.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                pod.process.send_signal(sig)

    @staticmethod
    async def stop(pod: PodProcess, grace_s: float = 2.0) -> None:
        process = pod.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        pod.exit_code = process.returncode

    @staticmethod
    def log_tail(pod: PodProcess, lines: int = 20) -> str:
        if pod.log_path is None or not pod.log_path.exists():
            return ""
        text = pod.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])
