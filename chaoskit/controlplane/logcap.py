"""Pod logs are capped while the mesh runs and belong to the mesh.

Like the kubelet's container log rotation (``containerLogMaxSize``, 10Mi by default,
``pkg/kubelet/logs/container_log_manager.go``), a log that outgrows the cap is rotated:
its content moves to ``<name>.1`` (replacing the previous one) and the live file starts
empty. Pod processes write with ``O_APPEND``, so they keep writing to the live file
through the same descriptor: copy-then-truncate, as logrotate's ``copytruncate`` does. A
line written between the copy and the truncate can be lost; a cap is worth that.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

MAX_LOG_BYTES = 10 * 1024 * 1024
CHECK_EVERY_S = 5.0


def cap_logs(directory: Path, max_bytes: int = MAX_LOG_BYTES) -> list[Path]:
    """Rotate every live log in ``directory`` larger than ``max_bytes``; return them."""
    rotated = []
    for path in sorted(directory.glob("*")):
        if path.suffix == ".1" or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size <= max_bytes:
                continue
            shutil.copyfile(path, path.with_name(path.name + ".1"))
            with path.open("r+b") as live:
                live.truncate(0)
            rotated.append(path)
    return rotated


async def cap_forever(directory: Path, max_bytes: int = MAX_LOG_BYTES) -> None:
    while True:
        await asyncio.sleep(CHECK_EVERY_S)
        await asyncio.to_thread(cap_logs, directory, max_bytes)


def remove_logs(state_dir: Path) -> int:
    """Delete a stopped mesh's pod logs (and its pods' boot files); return how many files."""
    count = 0
    for name in ("logs", "pods"):
        directory = state_dir / name
        if directory.is_dir():
            count += sum(1 for p in directory.rglob("*") if p.is_file())
            shutil.rmtree(directory, ignore_errors=True)
    return count
