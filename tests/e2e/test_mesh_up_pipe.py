"""``chaoskit mesh up | tee log``: the ready block reaches a pipe while the mesh runs.

Python block-buffers stdout when it is a pipe, so a block that is not flushed shows up only
when the command exits, which a foreground mesh does not do until Ctrl-C.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from tests.e2e.conftest import SPEC

READY_LINES = ("embedded mesh ready", "  ingress:", "  API server:", "  kubeconfig:")


def test_the_ready_block_reaches_a_pipe_before_the_mesh_exits(tmp_path: Path) -> None:
    errors = tmp_path / "stderr"
    with errors.open("w") as stderr:
        _check_ready_block(tmp_path, errors, stderr)


def _check_ready_block(tmp_path: Path, errors: Path, stderr: IO[str]) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaoskit.cli",
            "mesh",
            "up",
            "--spec",
            str(SPEC),
            "--state-dir",
            str(tmp_path / "mesh"),
            "--ingress-port",
            "0",
            "--ingress-https-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=stderr,
        # As a user's shell runs it: Python's default buffering, whatever this run sets.
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    try:
        while not all(any(s.startswith(p) for s in seen) for p in READY_LINES):
            try:
                seen.append(lines.get(timeout=90))
            except queue.Empty:
                raise AssertionError(
                    f"no ready block on the pipe within 90 s; got {seen}"
                ) from None
            if not seen[-1]:  # end of file: the command exited
                raise AssertionError(
                    f"mesh up exited with {process.wait()}: {errors.read_text()[-2000:]}"
                )
        # The block arrived through the pipe while the mesh was still serving.
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        stdout.close()
