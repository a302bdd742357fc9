"""The node network as one pod process sees it: addresses whose packets vanish.

A lost node (its kernel or its link gone) answers nothing: a SYN to one of its pods gets
neither SYN-ACK nor RST, so the caller's Envoy waits out the cluster's ``connect_timeout``
(envoyproxy/envoy ``source/common/conn_pool/conn_pool_base.cc``: the connect timer of an
``ActiveClient``; ``onConnectTimeout`` counts ``upstream_cx_connect_timeout`` and closes,
and the router reports the reset as "connection timeout"). Loopback cannot drop a SYN
without changing the host, so the embedded data plane drops the connect itself: the
control plane tells every pod which addresses are on a lost node, and connects to them
wait the whole timeout and fail.
The set is the same for every pod (it is the network's state, not one proxy's), so it is
kept per process.
"""

from __future__ import annotations

import asyncio

_unreachable: frozenset[str] = frozenset()


def set_unreachable(addresses: frozenset[str]) -> None:
    """Replace the addresses that are on lost nodes (an empty set heals the network)."""
    global _unreachable
    _unreachable = addresses


def is_unreachable(host: str, port: int) -> bool:
    """Whether a connect to ``host:port`` goes to a lost node: its address is listed, or in
    port mode (every pod on 127.0.0.1) the ``address:port`` itself."""
    return bool(_unreachable) and (host in _unreachable or f"{host}:{port}" in _unreachable)


async def vanish(connect_timeout_s: float) -> None:
    """A connect to a lost node: nothing comes back until the connect timer fires."""
    await asyncio.sleep(connect_timeout_s)
