"""An ambient pod's outbound HTTP: plain connections, redirected to the node's ztunnel.

With no sidecar, nothing in the pod routes, retries, times out or injects faults: the app's
client opens a TCP connection to the service and the CNI redirect hands it to ztunnel
(istio/istio ``cni/pkg/iptables``, tag 1.30.3). Here the redirect is explicit: the pod
connects from its own IP to ztunnel's outbound port and names the service in a ``CONNECT``
preamble (see ``chaoskit.mesh.ztunnel``); the HTTP/1.1 exchange then runs inside that
tunnel, and a kept-alive connection carries later requests to the same endpoint, as a
redirected connection stays bound to the endpoint ztunnel picked for it.
"""

from __future__ import annotations

import asyncio
import socket

from chaoskit.mesh.http.client import ConnectFailure, HttpConnection, _ClientProtocol
from chaoskit.mesh.http.message import Request, Response

_CONNECT_TIMEOUT_S = 10.0  # the kernel's connect, not a mesh policy: ztunnel is local


class AmbientClient:
    def __init__(self, source_ip: str, ztunnel: tuple[str, int]) -> None:
        self.source_ip = source_ip
        self.ztunnel = ztunnel
        self._idle: dict[tuple[str, int], list[HttpConnection]] = {}

    async def send(self, request: Request, service: str, port: int) -> Response:
        key = (service, port)
        idle = self._idle.setdefault(key, [])
        while idle:
            conn = idle.pop()
            if conn.is_reusable:
                break
        else:
            conn = await self._open(service, port)
        try:
            response = await conn.send(request)
        except BaseException:
            conn.close()
            raise
        if conn.is_reusable:
            idle.append(conn)
        else:
            conn.close()
        return response

    async def _open(self, service: str, port: int) -> HttpConnection:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.bind((self.source_ip, 0))  # ztunnel knows the source pod by its address
            await asyncio.wait_for(loop.sock_connect(sock, self.ztunnel), _CONNECT_TIMEOUT_S)
            target = f"{service}:{port}"
            await loop.sock_sendall(
                sock, f"CONNECT {target} HTTP/1.1\r\nhost: {target}\r\n\r\n".encode("latin-1")
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await asyncio.wait_for(loop.sock_recv(sock, 1024), _CONNECT_TIMEOUT_S)
                if not chunk:
                    break
                head += chunk
        except (OSError, TimeoutError) as exc:
            sock.close()
            raise ConnectFailure(
                f"connect to {service}:{port} through ztunnel failed: {exc}"
            ) from None
        status = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
        if status != b"200":
            sock.close()
            # ztunnel found no endpoint, or the endpoint refused: the app sees a failed connect.
            raise ConnectFailure(f"ztunnel could not connect {service}:{port}")
        _, protocol = await loop.create_connection(_ClientProtocol, sock=sock)
        return HttpConnection((service, port), protocol)

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
