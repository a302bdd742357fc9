"""Ports on 127.0.0.1 for pods, in port mode: each mesh claims a block, each pod some ports.

A mesh claims a block of ``BLOCK_SIZE`` ports by listening on its first port, so two meshes
(e.g. xdist workers) never hand out the same port. The blocks lie below Linux's ephemeral
range (32768-60999) and macOS's (49152-65535), where the kernel does not pick client ports;
a port some other process already holds is skipped when it is handed out.
"""

from __future__ import annotations

import socket

from chaoskit.errors import BackendError

FIRST_PORT = 16000
BLOCK_SIZE = 1000
BLOCKS = 16  # 16000-31999


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as asyncio's servers bind (SO_REUSEADDR): a port in TIME_WAIT is still usable
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PortBlock:
    def __init__(self, base: int, claim: socket.socket) -> None:
        self.base = base
        self._claim = claim
        self._next = base + 1

    @classmethod
    def claim(cls) -> PortBlock:
        for block in range(BLOCKS):
            base = FIRST_PORT + block * BLOCK_SIZE
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", base))
                sock.listen(1)
            except OSError:
                sock.close()
                continue
            return cls(base, sock)
        last = FIRST_PORT + BLOCKS * BLOCK_SIZE - 1
        raise BackendError(
            f"port mode: no free block of {BLOCK_SIZE} ports in {FIRST_PORT}-{last} on "
            "127.0.0.1 for the embedded mesh; too many meshes running? (`chaoskit mesh down`)"
        )

    def allocate(self, pod_ports: tuple[int, ...]) -> dict[int, int]:
        """A port of this block for each of the pod's ports (pod port → port on 127.0.0.1)."""
        mapping: dict[int, int] = {}
        for pod_port in pod_ports:
            while self._next < self.base + BLOCK_SIZE and not _bindable(self._next):
                self._next += 1
            if self._next >= self.base + BLOCK_SIZE:
                raise BackendError(
                    f"port mode: the mesh used up its {BLOCK_SIZE - 1} ports "
                    f"({self.base + 1}-{self.base + BLOCK_SIZE - 1}); a mesh this large "
                    "needs ip mode (Linux)"
                )
            mapping[pod_port] = self._next
            self._next += 1
        return mapping

    def release(self) -> None:
        self._claim.close()
