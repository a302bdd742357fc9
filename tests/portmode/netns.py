"""Run a command where the loopback has only 127.0.0.1/32, as macOS has it without aliases.

A fresh network namespace (``unshare --net``) gets its own loopback, down and empty; bringing
it up adds 127.0.0.1/8, which is replaced by 127.0.0.1/32, so binding 127.0.0.2 fails with
EADDRNOTAVAIL as it does on a Mac. The namespace is also a private port space: a mesh in it
collides with nothing outside. Creating one needs root (CAP_SYS_ADMIN) and util-linux's
``unshare`` and iproute2's ``ip``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

SETUP = "ip link set lo up && ip addr del 127.0.0.1/8 dev lo && ip addr add 127.0.0.1/32 dev lo"
_PROBE = (
    "import socket\n"
    "socket.socket().bind(('127.0.0.1', 0))\n"
    "try:\n"
    "    socket.socket().bind(('127.0.0.2', 0))\n"
    "except OSError:\n"
    "    print('only-127.0.0.1')\n"
)


def mac_like(argv: list[str]) -> list[str]:
    """``argv`` wrapped to run in a new namespace whose loopback has only 127.0.0.1/32."""
    return ["unshare", "--net", "sh", "-c", f'{SETUP} && exec "$@"', "sh", *argv]


@functools.cache
def unavailable() -> str | None:
    """Why no such namespace can be made here (None: it can)."""
    if sys.platform != "linux":
        return f"network namespaces are Linux's; this is {sys.platform}"
    if os.geteuid() != 0:
        return "unshare --net needs root (CAP_SYS_ADMIN); run as root, as CI does"
    for tool, package in (("unshare", "util-linux"), ("ip", "iproute2")):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (Debian package {package})"
    probe = subprocess.run(
        mac_like([sys.executable, "-c", _PROBE]), capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0 or probe.stdout.strip() != "only-127.0.0.1":
        return f"could not make a loopback with only 127.0.0.1: {probe.stderr.strip()[:300]}"
    return None
