"""The node's ztunnel: the L4 proxy that carries ambient pods' traffic (istio/ztunnel 1.30.3).

Ambient pods have no sidecar; their outbound connections are redirected to ztunnel, which
picks the destination for each *connection* (not each request: it never parses HTTP) and
carries the bytes over mutual TLS (HBONE). The embedded mesh has one node, so one ztunnel
serves both ends of a connection and reports it twice, as the source's and the
destination's ztunnel would:

- the redirect is a ``CONNECT host:port`` preamble (HBONE is an HTTP CONNECT tunnel; here
  on plain TCP, since loopback needs no encryption to show the hop) from the pod's own IP;
- the destination is a random endpoint of the service (``src/state.rs``, ``load_balance``:
  ``choose_weighted`` by capacity, all 1 here), or the service's waypoint when it has one;
- each connection ends with an ``access`` log line ``connection complete`` with ztunnel's
  fields (``src/proxy/metrics.rs``, ``ConnectionResult::record_internal``) and counts
  ``istio_tcp_*`` metrics labelled as ztunnel labels them (``CommonTrafficLabels``), served
  in Prometheus text on port 15020 at ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from chaoskit.mesh.config import Cluster, Endpoint, ProxySnapshot

TRUST_DOMAIN = "cluster.local"
# The label the Gateway controller puts on waypoint pods: ztunnel's tunnel ends at them.
WAYPOINT_LABEL = "gateway.networking.k8s.io/gateway-name"
# The resource that lists every workload, pushed to ztunnel beside the services.
WORKLOADS = "workloads"


@dataclass(frozen=True, slots=True)
class WorkloadRef:
    """A pod as ztunnel names it in logs and metric labels."""

    name: str  # the pod, as ztunnel's access log names it
    namespace: str
    app: str  # the canonical service (metric labels *_app, *_canonical_service)
    waypoint: bool = False

    @property
    def workload(self) -> str:
        """The Deployment (metric labels *_workload): the pod name without its suffix."""
        return self.name.rsplit("-", 1)[0]

    @property
    def identity(self) -> str:
        # A SPIFFE identity per service account; the embedded pods run as the namespace's
        # default account, as Kubernetes assigns one when a pod names none.
        return f"spiffe://{TRUST_DOMAIN}/ns/{self.namespace}/sa/default"

    @classmethod
    def of(cls, endpoint: Endpoint) -> WorkloadRef:
        pod, _, namespace = endpoint.pod.partition(".")
        labels = dict(endpoint.labels)
        app = labels.get("service.istio.io/canonical-name") or labels.get("app")
        return cls(pod, namespace, app or pod.rsplit("-", 1)[0], WAYPOINT_LABEL in labels)


@dataclass(slots=True)
class _Connection:
    source_addr: str
    source: WorkloadRef | None
    destination_addr: str
    service: str
    destination: WorkloadRef | None
    start: float
    sent: int = 0  # bytes from the destination back to the source
    received: int = 0  # bytes from the source to the destination
    error: str | None = None


class Ztunnel:
    def __init__(
        self, ip: str, log: TextIO, rng: random.Random, clock: Callable[[], float] = time.time
    ) -> None:
        self.ip = ip
        self._log = log
        self._rng = rng
        self._clock = clock
        self._services: dict[tuple[str, int], Cluster] = {}
        self._workloads: dict[str, WorkloadRef] = {}
        self.metrics: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    def apply(self, snapshot: ProxySnapshot) -> None:
        """Take the services (each with its endpoints, or its waypoint) and workloads."""
        self._services = {(c.service, c.port): c for c in snapshot.clusters if not c.subset}
        # Every pod of the mesh, by address (ztunnel's Workload resources): the sources.
        self._workloads = {
            e.address: WorkloadRef.of(e)
            for c in snapshot.clusters
            if c.subset == WORKLOADS
            for e in c.endpoints
        }

    # --- a redirected connection ------------------------------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source_addr = f"{peer[0]}:{peer[1]}"
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        target = _connect_target(head)
        cluster = self._services.get(target) if target else None
        conn = _Connection(
            source_addr,
            self._workloads.get(peer[0]),
            "",
            cluster.service if cluster else (f"{target[0]}" if target else "-"),
            None,
            self._clock(),
        )
        endpoints = list(cluster.endpoints) if cluster else []
        if not endpoints:
            conn.error = "no healthy upstream" if cluster else "unknown destination"
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
            self._complete(conn, failed=True)
            writer.close()
            return
        endpoint = self._rng.choice(endpoints)
        conn.destination_addr = f"{endpoint.address}:{endpoint.port}"
        conn.destination = WorkloadRef.of(endpoint) if endpoint.pod else None
        try:
            up_reader, up_writer = await asyncio.open_connection(endpoint.address, endpoint.port)
        except OSError as exc:
            conn.error = f"connection failed: {exc.strerror or exc}"
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
            self._complete(conn, failed=True)
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        self._opened(conn)
        await asyncio.gather(
            self._pipe(reader, up_writer, conn, upstream=True),
            self._pipe(up_reader, writer, conn, upstream=False),
        )
        self._complete(conn, failed=False)
        for side in (writer, up_writer):
            side.close()
            with contextlib.suppress(OSError):
                await side.wait_closed()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: _Connection,
        *,
        upstream: bool,
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if upstream:
                    conn.received += len(chunk)
                else:
                    conn.sent += len(chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()

    # --- what ztunnel reports ---------------------------------------------------------------

    def _labels(self, conn: _Connection, reporter: str, flags: str) -> tuple[tuple[str, str], ...]:
        src, dst = conn.source, conn.destination
        return (
            ("reporter", reporter),
            ("source_workload", src.workload if src else "unknown"),
            ("source_workload_namespace", src.namespace if src else "unknown"),
            ("source_principal", src.identity if src else "unknown"),
            ("source_app", src.app if src else "unknown"),
            ("destination_service", conn.service),
            ("destination_workload", dst.workload if dst else "unknown"),
            ("destination_workload_namespace", dst.namespace if dst else "unknown"),
            ("destination_principal", dst.identity if dst else "unknown"),
            ("destination_app", dst.app if dst else "unknown"),
            ("request_protocol", "tcp"),
            ("response_flags", flags),
            ("connection_security_policy", "mutual_tls"),
        )

    def _reporters(self, conn: _Connection) -> tuple[str, ...]:
        # One node: the destination's ztunnel is this one too, unless the destination is a
        # waypoint, which terminates HBONE itself (no ztunnel on its side).
        dst = conn.destination
        return ("source",) if dst is None or dst.waypoint else ("source", "destination")

    def _opened(self, conn: _Connection) -> None:
        for reporter in self._reporters(conn):
            labels = self._labels(conn, reporter, "-")
            self.metrics[("istio_tcp_connections_opened_total", labels)] += 1

    def _complete(self, conn: _Connection, *, failed: bool) -> None:
        flags = "CONNECT" if failed else "-"
        for reporter in self._reporters(conn):
            labels = self._labels(conn, reporter, flags)
            self.metrics[("istio_tcp_connections_closed_total", labels)] += 1
            if failed:
                self.metrics[("istio_tcp_connections_failed_total", labels)] += 1
            # Istio's TCP byte metrics are named from the destination's view, for every
            # reporter: received = source → destination.
            self.metrics[("istio_tcp_received_bytes_total", labels)] += conn.received
            self.metrics[("istio_tcp_sent_bytes_total", labels)] += conn.sent
            self._log.write(self._line(conn, reporter) + "\n")
        self._log.flush()

    def _line(self, conn: _Connection, reporter: str) -> str:
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        level = "ERROR" if conn.error else "INFO"
        src, dst = conn.source, conn.destination
        fields = [f"src.addr={conn.source_addr}"]
        if src:
            fields += [
                f'src.workload="{src.name}"',
                f'src.namespace="{src.namespace}"',
                f'src.identity="{src.identity}"',
            ]
        if conn.destination_addr:
            # The HBONE hop goes to port 15008; the inner target is the workload's port.
            host = conn.destination_addr.rsplit(":", 1)[0]
            fields += [f"dst.addr={host}:15008", f"dst.hbone_addr={conn.destination_addr}"]
        fields.append(f'dst.service="{conn.service}"')
        if dst:
            fields += [
                f'dst.workload="{dst.name}"',
                f'dst.namespace="{dst.namespace}"',
                f'dst.identity="{dst.identity}"',
            ]
        direction = "outbound" if reporter == "source" else "inbound"
        fields.append(f'direction="{direction}"')
        # Logs unflip Istio's byte metrics (src/proxy/metrics.rs): sent is what this side sent.
        sent, received = (
            (conn.received, conn.sent) if reporter == "source" else (conn.sent, conn.received)
        )
        fields += [f"bytes_sent={sent}", f"bytes_recv={received}"]
        fields.append(f'duration="{int((self._clock() - conn.start) * 1000)}ms"')
        if conn.error:
            fields.append(f'error="{conn.error}"')
        return f"{stamp}  {level} access: connection complete {' '.join(fields)}"

    def prometheus(self) -> str:
        lines: list[str] = []
        for (name, labels), value in sorted(self.metrics.items()):
            text = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{name}{{{text}}} {value}")
        return "\n".join(lines) + "\n"


def _connect_target(head: bytes) -> tuple[str, int] | None:
    """``CONNECT host:port HTTP/1.1`` → (host, port); None for anything else."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    if len(parts) != 3 or parts[0] != "CONNECT" or ":" not in parts[1]:
        return None
    host, _, port = parts[1].rpartition(":")
    return (host, int(port)) if port.isdigit() else None
