"""Which TLS server names a gateway listener accepts (Envoy's filter-chain match).

Istio gives each TLS server of a Gateway a filter chain whose ``server_names`` are the
server's hosts (pilot/pkg/networking/core/gateway.go); a host of ``*`` matches every name
and also a client that sends none. A handshake whose SNI matches no chain is refused:
Envoy finds no filter chain and closes the connection.
"""

from __future__ import annotations


def _bare(host: str) -> str:
    return host.split("/", 1)[-1].lower()  # Gateway hosts may be written "namespace/host"


def accepts(hosts: tuple[str, ...], server_name: str | None) -> bool:
    """Whether a ClientHello naming ``server_name`` (``None``: no SNI) finds a chain."""
    names = [_bare(h) for h in hosts]
    if not names or "*" in names:
        return True
    if not server_name:
        return False
    name = server_name.lower()
    for pattern in names:
        if pattern == name:
            return True
        # Envoy's server_names wildcard: "*.example.com" covers one or more labels before it.
        if pattern.startswith("*.") and name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
            return True
    return False
