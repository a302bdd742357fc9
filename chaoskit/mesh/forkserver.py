"""The pod fork server: one process pays for the pod's imports, then forks every pod.

A pod is an interpreter that imports the data plane (asyncio, ssl, the proxy, its app):
about 0.2 s of CPU and most of its memory before it does any work. Started once per mesh
as ``python -m chaoskit.mesh.forkserver --lifeline FD [APP ...]``, this process imports
all that (and the apps the mesh runs), freezes the imported objects out of the garbage
collector's reach (``gc.freeze``: a collection in a pod then never writes to, and so never
copies, a page it shares with its siblings), and forks a pod per request. It never runs
an event loop or a thread, so a fork copies no half-held lock and no loop state.

Each forked pod is still its own process: its own loopback IP, admin port and log, and a
SIGKILL of it kills only it. The server is its parent, reaps it and reports its exit code.

The protocol is JSON lines. On stdin, from the control plane::

    {"spawn": ID, "boot": BOOTSTRAP.json, "log": LOG}   fork a pod
    {"signal": PID, "number": SIG}                      signal a pod that has not been reaped

On stdout: ``{"ready": true}`` once imported, then ``{"spawned": ID, "pid": PID}`` (or
``"error"``) and ``{"exited": PID, "code": CODE}`` (negative: killed by that signal, as
``subprocess`` reports it). Signals go through the server because only the parent knows
that a pid is still its unreaped child: a pid the kernel has handed to another process
since is never signalled.

Every pod gets the lifeline (fd ``--lifeline``, the read end of a pipe whose write end only
the control plane holds) as its stdin, so pods still leave when the control plane dies,
even by SIGKILL (see pod.py). EOF on the server's own stdin means the same for it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import sys
import traceback
from types import ModuleType
from typing import Any


class ForkServer:
    def __init__(
        self, pod_module: ModuleType, lifeline: int, requests: int = 0, replies: int = 1
    ) -> None:
        self.pod_module = pod_module
        self.lifeline = lifeline
        self.requests = requests
        self.replies = replies
        self.children: set[int] = set()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._selector = selectors.DefaultSelector()

    def _reply(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self.replies, data) :]

    def serve(self) -> None:
        """Fork on request and report exits, until the control plane closes our stdin."""
        # SIGCHLD wakes the selector through a pipe (the handler itself does nothing).
        signal.set_wakeup_fd(self._wake_write)
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        # Ctrl-C (or `timeout`'s SIGTERM) reaches the whole process group: the control plane
        # stops the pods, and we must stay to reap them and report their exits. We leave on
        # EOF of our stdin, which only the control plane holds.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self._selector.register(self.requests, selectors.EVENT_READ)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._reply({"ready": True})
        pending = b""
        while True:
            for key, _ in self._selector.select():
                if key.fd == self._wake_read:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self._wake_read, 512):
                            pass
                    continue
                data = os.read(self.requests, 1 << 16)
                if not data:
                    return  # the control plane is gone (or done): so are we
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        self._handle(json.loads(line))
            self._reap()

    def _handle(self, request: dict[str, Any]) -> None:
        if "spawn" in request:
            try:
                pid = self._fork(str(request["boot"]), str(request["log"]))
            except OSError as exc:
                self._reply({"spawned": request["spawn"], "error": str(exc)})
            else:
                self._reply({"spawned": request["spawn"], "pid": pid})
        elif "signal" in request:
            pid = int(request["signal"])
            if pid in self.children:  # not reaped yet, so the pid is still this pod's
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, int(request["number"]))

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self._reply({"exited": pid, "code": os.waitstatus_to_exitcode(status)})

    def _fork(self, boot: str, log: str) -> int:
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            os.close(log_fd)
            self.children.add(pid)
            return pid
        code = 1
        try:
            self._become_pod(log_fd)
            code = self.pod_module.main([boot])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)  # never return into the server's loop (or its finally blocks)

    def _become_pod(self, log_fd: int) -> None:
        """In the child: drop the server's signal set-up and pipes; stdin is the lifeline."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self._selector.close()
        for fd in (self._wake_read, self._wake_write, self.requests, self.replies):
            os.close(fd)
        os.dup2(self.lifeline, 0)
        os.close(self.lifeline)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        gc.enable()


def preload(apps: list[str]) -> ModuleType:
    """Import what every pod needs, and the apps this mesh runs, before the first fork."""
    from chaoskit.mesh import pod
    from chaoskit.mesh.apps.base import app_module

    for name in apps:
        module = app_module(name)
        if module is not None:
            importlib.import_module(module)
    with contextlib.suppress(ImportError):
        import uvloop  # noqa: F401  (pod.main installs it; importing it here shares it)
    return pod


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaoskit.mesh.forkserver")
    parser.add_argument("--lifeline", type=int, required=True, help="every pod's stdin")
    parser.add_argument("apps", nargs="*", help="apps to import before forking")
    args = parser.parse_args(argv)
    # As gc.freeze's documentation advises for fork without exec: no collection while
    # importing (it would leave freed holes in the shared pages), then every object that
    # exists is moved out of the collector's reach, so a collection in a pod never writes
    # to (and so never copies) a page it shares with its siblings. Pods enable gc again.
    gc.disable()
    pod = preload(args.apps)
    gc.freeze()
    ForkServer(pod, args.lifeline).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
