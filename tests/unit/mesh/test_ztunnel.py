"""ztunnel's L4 hop on real loopback sockets: one connection, its access line and metrics.

The shapes follow istio/ztunnel at tag 1.30.3 (commit a45c62f8d09a78eaa5228afcea6c7d3a06269b2c):
``src/proxy/metrics.rs`` (``ConnectionResult::record_internal``: the ``access`` target's
"connection complete" line; ``Metrics::new``: the ``tcp_*`` counters, prefixed ``istio_``
by ``src/metrics.rs``) and the README's example access line.
"""

from __future__ import annotations

import asyncio
import io
import random
import re

from chaoskit.mesh.config import Cluster, Endpoint, ProxySnapshot
from chaoskit.mesh.ztunnel import WORKLOADS, Ztunnel

SERVICE = "echo.ns.svc.cluster.local"
CLIENT_IP, BACKEND_IP = "127.0.0.2", "127.0.0.3"  # two pods: ztunnel tells them by address


async def _exchange(ztunnel: Ztunnel, target: str, payload: bytes) -> tuple[bytes, bytes]:
    server = await asyncio.start_server(ztunnel.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(CLIENT_IP, 0))
    writer.write(f"CONNECT {target} HTTP/1.1\r\n\r\n".encode() + payload)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    writer.write_eof()
    body = await reader.read()
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return head, body


def _snapshot(backend_port: int) -> ProxySnapshot:
    backend = Endpoint(BACKEND_IP, backend_port, "echo-v1-abcde.ns", (("app", "echo"),))
    client = Endpoint(CLIENT_IP, 0, "client-12345.ns", (("app", "client"),))
    return ProxySnapshot(
        proxy="ztunnel-00000.istio-system",
        kind="ztunnel",
        version=1,
        clusters=(
            Cluster(f"outbound|80||{SERVICE}", SERVICE, 80, endpoints=(backend,)),
            Cluster(WORKLOADS, "", 0, subset=WORKLOADS, endpoints=(client, backend)),
        ),
    )


def test_one_connection_is_carried_and_reported_from_both_ends() -> None:
    async def run() -> tuple[bytes, bytes, Ztunnel, str]:
        async def upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write((await reader.read()).upper())
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        backend = await asyncio.start_server(upper, BACKEND_IP, 0)
        log = io.StringIO()
        ztunnel = Ztunnel("127.0.0.1", log, random.Random(1))
        ztunnel.apply(_snapshot(backend.sockets[0].getsockname()[1]))
        head, body = await _exchange(ztunnel, f"{SERVICE}:80", b"hello ztunnel")
        for _ in range(200):  # ztunnel reports once both directions have closed
            if log.getvalue().count("\n") == 2:
                break
            await asyncio.sleep(0.01)
        backend.close()
        return head, body, ztunnel, log.getvalue()

    head, body, ztunnel, log = asyncio.run(run())
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b"HELLO ZTUNNEL"
    lines = log.splitlines()
    assert len(lines) == 2  # the source's and the destination's ztunnel (one node)
    pattern = (
        r"\S+Z  INFO access: connection complete src\.addr=127\.0\.0\.2:\d+ "
        r'src\.workload="client-12345" src\.namespace="ns" '
        r'src\.identity="spiffe://cluster\.local/ns/ns/sa/default" '
        r"dst\.addr=127\.0\.0\.3:15008 dst\.hbone_addr=127\.0\.0\.3:\d+ "
        rf'dst\.service="{re.escape(SERVICE)}" dst\.workload="echo-v1-abcde" '
        r'dst\.namespace="ns" dst\.identity="spiffe://cluster\.local/ns/ns/sa/default" '
        r'direction="(outbound|inbound)" bytes_sent=(\d+) bytes_recv=(\d+) duration="\d+ms"'
    )
    matches = [re.fullmatch(pattern, line) for line in lines]
    assert all(matches), lines
    by_direction = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in matches if m}
    # 13 bytes went in, 13 came back; each side logs what it sent and received.
    assert by_direction == {"outbound": (13, 13), "inbound": (13, 13)}
    counted = {
        (name, dict(labels)["reporter"]): value for (name, labels), value in ztunnel.metrics.items()
    }
    assert counted[("istio_tcp_connections_opened_total", "source")] == 1
    assert counted[("istio_tcp_connections_closed_total", "destination")] == 1
    assert counted[("istio_tcp_received_bytes_total", "source")] == 13
    assert counted[("istio_tcp_sent_bytes_total", "destination")] == 13


def test_a_service_without_endpoints_fails_the_connection_and_says_so() -> None:
    async def run() -> tuple[bytes, Ztunnel, str]:
        log = io.StringIO()
        ztunnel = Ztunnel("127.0.0.1", log, random.Random(1))
        ztunnel.apply(_snapshot(1))
        head, _ = await _exchange(ztunnel, "missing.ns.svc.cluster.local:80", b"")
        return head, ztunnel, log.getvalue()

    head, ztunnel, log = asyncio.run(run())
    assert head.startswith(b"HTTP/1.1 503")
    assert "  ERROR access: connection complete " in log
    assert 'error="unknown destination"' in log
    failed = [
        dict(labels)
        for (name, labels), value in ztunnel.metrics.items()
        if name == "istio_tcp_connections_failed_total" and value
    ]
    assert [f["response_flags"] for f in failed] == ["CONNECT"]
