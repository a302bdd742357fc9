"""HTTPS to the ingress gateway as a real client does it: with the virtual host as SNI.

A Gateway's TLS server only accepts its hosts' names (Envoy's filter-chain match), and a
client that dials an IP address sends no SNI, so tests name the host in the handshake, as
Istio's secure-ingress task does with ``curl --resolve``.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def https_get(url: str, path: str, server_name: str | None, host: str | None = None) -> Reply:
    """GET ``path`` over TLS from the ingress at ``url`` with ``server_name`` as SNI (None:
    none) and ``host`` (default: the server name) as the Host header."""
    address = urlsplit(url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the mesh's self-signed Secrets
    raw = socket.create_connection((address.hostname, address.port), timeout=10)
    with context.wrap_socket(raw, server_hostname=server_name) as tls:
        name = host or server_name or "localhost"
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return Reply(int(status_line.split()[1]), headers, body)
