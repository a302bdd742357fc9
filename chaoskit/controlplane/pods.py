"""Pods as processes: spawn each replica, watch it, kill it, restart it.

Like a kubelet with ``restartPolicy: Never`` plus a Deployment controller that acts only
when asked: a killed pod stays dead (its endpoint stays in EDS, as when a node dies and
nobody has noticed yet) until it is restarted or deleted; deleting a pod replaces it with
a new one (new name, new address), as a Deployment does. The kill modes of
``chaoskit.controlplane.kills`` (app crash, pod deleted, node lost) refine this.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit.mesh.bootstrap import Bootstrap


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
    process: asyncio.subprocess.Process | None = None
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

    @property
    def proxy_id(self) -> str:
        return f"{self.name}.{self.namespace}"

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


def pod_name(workload: str) -> str:
    """Deployment-style names: ``reviews-v1-7f9c4-x2k8d`` without the template hash."""
    return f"{workload}-{secrets.token_hex(3)[:5]}"


class PodRunner:
    """Starts and stops pod processes; knows nothing about Kubernetes objects."""

    def __init__(self, state_dir: Path, python: str = sys.executable) -> None:
        self.state_dir = state_dir
        self.python = python
        (state_dir / "pods").mkdir(parents=True, exist_ok=True)
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)

    async def start(self, pod: PodProcess, boot: Bootstrap) -> None:
        boot_path = self.state_dir / "pods" / f"{pod.name}.{pod.namespace}.json"
        boot.write(boot_path)
        pod.log_path = self.state_dir / "logs" / f"{pod.name}.{pod.namespace}.log"
        log = pod.log_path.open("ab")
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            pod.process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "chaoskit.mesh.pod",
                str(boot_path),
                # A pipe only we hold: its EOF tells the pod that its control plane died,
                # which a dropped push channel (retried with back-off) cannot be confused with.
                stdin=asyncio.subprocess.PIPE,
                stdout=log,
                stderr=log,
                env=env,
            )
        finally:
            log.close()
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
