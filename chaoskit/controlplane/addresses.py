"""Loopback addresses for pods: each mesh claims a 127.N.0.0/16 block, each pod one IP.

Linux routes all of 127.0.0.0/8 to the loopback interface, so every pod can listen on its
own address with the real ports (9080, 15000) as in Kubernetes. A mesh claims its block by
holding a bound socket on 127.N.255.254, so two meshes (e.g. xdist workers) never collide.
"""

from __future__ import annotations

import errno
import socket

from chaoskit.errors import BackendError

CLAIM_PORT = 15999
ADMIN_PORT = 15000  # every pod's Envoy admin port
FIRST_BLOCK, LAST_BLOCK = 20, 250


class AddressBlock:
    def __init__(self, block: int, claim: socket.socket) -> None:
        self.block = block
        self._claim = claim
        self._next = 0

    @classmethod
    def claim(cls, preferred: int | None = None) -> AddressBlock:
        candidates = ([preferred] if preferred else []) + list(range(FIRST_BLOCK, LAST_BLOCK + 1))
        for block in candidates:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((f"127.{block}.255.254", CLAIM_PORT))
                sock.listen(1)
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise BackendError(
                        "this machine cannot bind loopback addresses other than 127.0.0.1 "
                        "(Linux can; macOS needs `sudo ifconfig lo0 alias 127.N.0.M`); the "
                        "embedded mesh gives every pod its own 127.x address"
                    ) from None
                continue
            if _occupied(block):
                sock.close()
                continue
            return cls(block, sock)
        raise BackendError("no free 127.N.0.0/16 block for the embedded mesh; too many meshes?")

    def allocate(self) -> str:
        self._next += 1
        index = self._next
        return f"127.{self.block}.{index // 250}.{index % 250 + 1}"

    def release(self) -> None:
        self._claim.close()


def _occupied(block: int, probe: int = 250) -> bool:
    """Whether a process outside any mesh (a pod orphaned by an older chaoskit) still holds
    an admin port in the block's first addresses: new pods there would fail to bind."""
    for index in range(1, probe + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((f"127.{block}.{index // 250}.{index % 250 + 1}", ADMIN_PORT))
            except OSError:
                return True
    return False
