"""Start an embedded mesh in a child process and wait until it is ready; stop it again.

Used by ``chaoskit mesh up --detach``, by the pytest plugin and by chaoskit's own tests.
The child writes ``mesh.json`` once every pod is ready; if it dies first, its log tail
becomes the error.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from chaoskit.controlplane.address_mode import check_mode
from chaoskit.controlplane.server import MeshInfo
from chaoskit.errors import BackendError, ReadinessTimeout
from chaoskit.mesh.releases import parse_release
from chaoskit.platform_check import check_posix


@dataclass
class MeshProcess:
    process: subprocess.Popen[bytes]
    info: MeshInfo
    log_path: Path

    @classmethod
    def start(
        cls,
        state_dir: Path,
        *,
        spec: Path | None = None,
        ingress_port: int = 0,
        ingress_https_port: int = 0,
        api_port: int = 0,
        seed: int = 0,
        timeout_s: float = 60.0,
        detach: bool = False,
        istio_version: str | None = None,
        address_mode: str | None = None,
    ) -> MeshProcess:
        check_posix("the embedded mesh")
        if istio_version is not None:
            parse_release(istio_version)  # a bad value fails here, not in the child's log
        if address_mode is not None:
            check_mode(address_mode, "--address-mode")
        state_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (state_dir / "mesh.json").unlink()
        record_spec(state_dir, spec)
        command = [
            sys.executable,
            "-m",
            "chaoskit.controlplane",
            "--state-dir",
            str(state_dir),
            "--ingress-port",
            str(ingress_port),
            "--ingress-https-port",
            str(ingress_https_port),
            "--api-port",
            str(api_port),
            "--seed",
            str(seed),
            # the mesh's own readiness wait, a little inside ours so its error (naming the
            # pods) arrives before we give up
            "--ready-timeout",
            str(max(timeout_s - 5.0, timeout_s * 0.9)),
        ]
        if spec is not None:
            command += ["--spec", str(spec)]
        if istio_version is not None:
            command += ["--istio-version", istio_version]
        if address_mode is not None:
            command += ["--address-mode", address_mode]
        if not detach:
            command += ["--parent-pid", str(os.getpid())]
        log_path = state_dir / "controlplane.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=detach,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            info = MeshInfo.read(state_dir)
            if info is not None and info.pid == process.pid:
                return cls(process, info, log_path)
            if process.poll() is not None:
                raise BackendError(
                    f"the embedded mesh exited with code {process.returncode} while starting; "
                    f"{log_path} ends with:\n{_tail(log_path)}"
                )
            time.sleep(0.02)
        process.terminate()
        raise ReadinessTimeout(
            f"the embedded mesh was not ready after {timeout_s:.0f}s; {log_path} ends with:\n"
            f"{_tail(log_path)}"
        )

    def stop(self, timeout_s: float = 15.0) -> None:
        stop_pid(self.process.pid, timeout_s)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(1)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_pid(pid: int, timeout_s: float = 15.0) -> None:
    """SIGTERM (the mesh stops its pods), then SIGKILL if it does not exit in time."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                return
        time.sleep(0.02)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


SPEC_FILE = "spec-path"


def record_spec(state_dir: Path, spec: Path | None) -> None:
    """Remember which mesh spec the mesh in ``state_dir`` runs (none: the built-in), so
    `chaoskit analyze` can judge its live config against the same services and pods."""
    path = state_dir / SPEC_FILE
    if spec is None:
        path.unlink(missing_ok=True)
    else:  # a foreground `mesh up` may be the first to use a new --state-dir
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(str(Path(spec).resolve()), encoding="utf-8")


def recorded_spec(state_dir: Path) -> Path | None:
    try:
        return Path((state_dir / SPEC_FILE).read_text(encoding="utf-8").strip())
    except OSError:
        return None
