"""A pod of the embedded mesh: one process running an app and its sidecar (or a gateway).

Forked by the mesh's fork server (forkserver.py), which calls :func:`main`; by hand it runs
as ``python -m chaoskit.mesh.pod BOOTSTRAP.json``. It connects to the control plane's push
channel, applies the first configuration, binds its listeners on its own loopback IP (or,
in port mode, its own ports on 127.0.0.1),
acknowledges, and from then on follows pushes. A dropped channel is
re-established with back-off, as Envoy reconnects to istiod; the pod exits only on a
``shutdown`` message, a signal, or when its stdin pipe (held by the control plane) reaches
EOF, so a pod never outlives the mesh that started it and never mistakes a drop for a stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import ssl
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaoskit.mesh.accesslog import AccessLog
from chaoskit.mesh.admin import Admin
from chaoskit.mesh.ambient_client import AmbientClient
from chaoskit.mesh.apps.base import App, AppContext, AppSettingsError, create_app
from chaoskit.mesh.bootstrap import Bootstrap
from chaoskit.mesh.config import Listener, ProxySnapshot
from chaoskit.mesh.delta import ConfigState
from chaoskit.mesh.http import network
from chaoskit.mesh.http.client import ConnectFailure
from chaoskit.mesh.http.message import Headers, Request, Response
from chaoskit.mesh.http.server import ConnectionInfo, close_server, start_server
from chaoskit.mesh.proxy import Proxy, ProxyIdentity
from chaoskit.mesh.reconnect import Backoff, keep_connected
from chaoskit.mesh.sni import accepts
from chaoskit.mesh.stats_matcher import StatsMatcher
from chaoskit.mesh.upstream import CLUSTER_COUNTERS
from chaoskit.mesh.xds import MAX_MESSAGE, read_message, send_message
from chaoskit.mesh.ztunnel import Ztunnel

# Pods that serve listeners from their pushed config rather than an app's ports.
_LISTENER_KINDS = ("gateway", "waypoint")
ZTUNNEL_OUTBOUND_PORT = 15001  # where ambient pods' outbound traffic is redirected
ZTUNNEL_METRICS_PORT = 15020  # ztunnel's Prometheus port (istio/ztunnel src/config.rs)


class NameResolutionError(ConnectFailure):
    """The app asked for a host no Service or ServiceEntry defines (a DNS failure)."""


class Pod:
    def __init__(self, boot: Bootstrap) -> None:
        self.boot = boot
        log_path = Path(boot.log_dir) / f"{boot.pod}.{boot.namespace}.access.jsonl"
        self._log_file = log_path.open("a", encoding="utf-8", buffering=1 << 16)
        self.rng = random.Random(f"{boot.seed}:{boot.namespace}/{boot.pod}")
        self.proxy = Proxy(
            ProxyIdentity(boot.pod, boot.namespace, boot.ip, boot.kind, boot.port_map),
            rng=self.rng,
            access_log=AccessLog(self._log_file),
        )
        if boot.stats_matcher:
            self.proxy.stats.keep = StatsMatcher(boot.stats_matcher)
        self.app: App | None = None
        # The app container crashed (kubelet restarts it later); the sidecar lives on.
        self.app_down = False
        self.started = time.time()
        self._servers: dict[str, asyncio.Server] = {}
        self._gateway_listeners: dict[int, Listener] = {}
        self._stop = asyncio.Event()
        self._timers_changed = asyncio.Event()  # set when a push brings an interval timer
        self.config = ConfigState()  # what the control plane has pushed so far
        self.ambient: AmbientClient | None = (
            AmbientClient(boot.ip, boot.ztunnel)
            if boot.kind == "ambient" and boot.ztunnel
            else None
        )
        self.ztunnel: Ztunnel | None = None
        if boot.kind == "ztunnel":
            ztunnel_log = Path(boot.log_dir) / f"{boot.pod}.{boot.namespace}.ztunnel.log"
            self.ztunnel = Ztunnel(boot.ip, ztunnel_log.open("a", encoding="utf-8"), self.rng)

    # --- the app's view of the mesh ----------------------------------------------------------

    async def outbound(self, request: Request, port: int) -> Response:
        """What the app's HTTP client does: resolve the name, then go through the sidecar."""
        host = request.authority.rsplit(":", 1)[0] if request.authority else ""
        if not self.proxy.knows_host(host, port):
            raise NameResolutionError(f"cannot resolve {host!r}: no such service in the mesh")
        if self.ambient is not None:
            # No sidecar: the connection goes to the service, and ztunnel takes it from there.
            return await self.ambient.send(request, self.proxy.service_of(host, port), port)
        # The source IP a hash policy sees is the pod's; port mode hashes a per-pod
        # stand-in, since every pod's calls come from 127.0.0.1 (docs/decisions.md).
        source = self.boot.source_key or self.boot.ip
        return await self.proxy.route(request, port, source, "outbound", self.boot.ip)

    # --- listeners --------------------------------------------------------------------------

    async def _start_inbound(self) -> None:
        app = self.app
        assert app is not None
        for port in self.boot.container_ports:
            # Istio's inbound cluster for the port exists from the first push, stats at 0.
            self.proxy.stats.declare(f"cluster.inbound|{port}||.{s}" for s in CLUSTER_COUNTERS)

            async def handler(request: Request, info: ConnectionInfo, port: int = port) -> Response:
                serving = None if self.app_down else app.handle
                return await self.proxy.inbound(request, port, serving, info.peer[0])

            async def direct(request: Request, _info: ConnectionInfo) -> Response:
                return await app.handle(request)  # ambient: no inbound proxy in the pod

            if self.boot.kind == "ambient":
                self._servers[f"inbound:{port}"] = await start_server(
                    direct, self.boot.ip, self.boot.listen_port(port)
                )
                continue
            self._servers[f"inbound:{port}"] = await start_server(
                handler, self.boot.ip, self.boot.listen_port(port), server_header="istio-envoy"
            )

    async def _sync_gateway_listeners(self, snapshot: ProxySnapshot) -> None:
        wanted = {listener.port: listener for listener in snapshot.listeners}
        for port in list(self._gateway_listeners):
            if port not in wanted or wanted[port].tls != self._gateway_listeners[port].tls:
                for key in [k for k in self._servers if k.endswith(f"gw:{port}")]:
                    await close_server(self._servers.pop(key))
                del self._gateway_listeners[port]
        for port, listener in wanted.items():
            if port in self._gateway_listeners:
                self._gateway_listeners[port] = listener
                continue
            context = self._tls_context(listener) if listener.tls else None
            handler = self._gateway_handler(port)
            self._servers[f"gw:{port}"] = await start_server(
                handler,
                self.boot.ip,
                self.boot.listen_port(port),
                ssl_context=context,
                server_header="istio-envoy",
            )
            for mapping in self.boot.host_ports:
                if mapping.listener_port == port:
                    self._servers[f"host:{mapping.host_port}:gw:{port}"] = await start_server(
                        handler, "127.0.0.1", mapping.host_port, ssl_context=context
                    )
            self._gateway_listeners[port] = listener

    def _gateway_handler(self, port: int) -> Any:
        async def handler(request: Request, info: ConnectionInfo) -> Response:
            listener = self._gateway_listeners.get(port)
            if listener is not None and listener.https_redirect and not info.tls:
                location = f"https://{request.authority.rsplit(':', 1)[0]}{request.target}"
                return Response(301, Headers([("location", location), ("server", "istio-envoy")]))
            xff = request.headers.get("x-forwarded-for")
            client = info.peer[0]
            request.headers.set("x-forwarded-for", f"{xff}, {client}" if xff else client)
            request.headers.set("x-forwarded-proto", "https" if info.tls else "http")
            request.headers.setdefault("x-envoy-external-address", client)
            direction = self.boot.kind  # "gateway", or "waypoint": the server side's L7 proxy
            return await self.proxy.route(request, port, client, direction, client)

        return handler

    def _tls_context(self, listener: Listener) -> ssl.SSLContext:
        tls = listener.tls
        assert tls is not None
        directory = Path(self.boot.log_dir) / "tls" / f"{self.boot.pod}-{listener.port}"
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = directory / "tls.crt", directory / "tls.key"
        cert.write_text(tls.cert_pem)
        key.write_text(tls.key_pem)
        key.chmod(0o600)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        hosts = tls.sni_hosts

        def check_sni(_sock: Any, server_name: str | None, _ctx: ssl.SSLContext) -> int | None:
            # No filter chain for this name: Envoy refuses the connection.
            return None if accepts(hosts, server_name) else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

        context.sni_callback = check_sni
        return context

    async def _start_ztunnel(self, ztunnel: Ztunnel) -> None:
        assert self.boot.ztunnel is None
        server = await asyncio.start_server(
            ztunnel.serve, self.boot.ip, self.boot.listen_port(ZTUNNEL_OUTBOUND_PORT)
        )
        self._servers["ztunnel:outbound"] = server

        async def metrics(request: Request, _info: ConnectionInfo) -> Response:
            if request.target.split("?", 1)[0] != "/metrics":
                return Response(404, Headers([("content-type", "text/plain")]), b"not found\n")
            body = ztunnel.prometheus().encode()
            return Response(200, Headers([("content-type", "text/plain; version=0.0.4")]), body)

        self._servers["ztunnel:metrics"] = await start_server(
            metrics, self.boot.ip, self.boot.listen_port(ZTUNNEL_METRICS_PORT)
        )

    # --- the push channel -----------------------------------------------------------------------

    async def _apply(self, message: dict[str, Any]) -> None:
        snapshot = self.config.apply(message)
        self.proxy.apply(snapshot)
        if self.ztunnel is not None:
            self.ztunnel.apply(snapshot)
        if self.proxy.needs_ticks:
            self._timers_changed.set()
        if self.boot.kind in _LISTENER_KINDS:
            await self._sync_gateway_listeners(snapshot)

    async def _session(self, progress: Callable[[], None]) -> bool:
        """One connection of the push channel; True when told to shut down."""
        host, port = self.boot.xds_address
        # A snapshot of a large mesh is several MB on one line: the reader's limit must
        # cover it, or readline fails and the channel looks closed (asyncio's default 64 KiB).
        reader, writer = await asyncio.open_connection(host, port, limit=MAX_MESSAGE)
        try:
            await send_message(
                writer,
                {"type": "hello", "proxy": self.proxy.identity.proxy_id, "token": self.boot.token},
            )
            while (message := await read_message(reader)) is not None:
                progress()
                kind = message.get("type")
                version = message.get("version")
                try:
                    if kind == "snapshot":
                        await self._apply(message)
                    elif kind == "settings":
                        if self.app is not None:
                            self.app.configure(message["settings"])
                    elif kind == "app":
                        self.app_down = not message["running"]
                    elif kind == "network":
                        network.set_unreachable(frozenset(message["unreachable"]))
                    elif kind == "shutdown":
                        return True
                    reply = {"type": "ack", "kind": kind, "version": version}
                except (AppSettingsError, ValueError, KeyError, TypeError, OSError) as exc:
                    reply = {"type": "nack", "kind": kind, "version": version, "error": str(exc)}
                if "nonce" in message:
                    reply["nonce"] = message["nonce"]
                await send_message(writer, reply)
            return False
        finally:
            writer.close()

    async def _channel(self) -> None:
        def report(delay: float, error: BaseException | None) -> None:
            reason = f"{type(error).__name__}: {error}" if error else "closed by the control plane"
            sys.stderr.write(f"push channel lost ({reason}); reconnecting in {delay:.2f}s\n")

        # Its own random source: back-off draws must not shift the seeded fault/LB draws.
        backoff = Backoff(random.Random(f"backoff:{self.boot.namespace}/{self.boot.pod}"))
        try:
            await keep_connected(
                self._session, backoff=backoff, sleep=asyncio.sleep, on_retry=report
            )
        finally:
            self._stop.set()

    def _watch_parent(self, loop: asyncio.AbstractEventLoop) -> None:
        """Leave when the control plane dies: our stdin is a pipe only it holds open."""
        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return  # started by hand: the shutdown message (or a signal) stops us

        def readable() -> None:
            try:
                data = os.read(0, 4096)
            except BlockingIOError:
                return
            if not data:  # EOF: the write end is closed, so its holder is gone
                loop.remove_reader(0)
                self._stop.set()

        loop.add_reader(0, readable)

    async def _ticker(self) -> None:
        """Drive the clusters' interval timers; idle while no cluster has one (a mesh of
        200 pods ticking 20 times a second for nothing took a third of a core)."""
        while True:
            if not self.proxy.needs_ticks:
                self._timers_changed.clear()
                await self._timers_changed.wait()
                continue
            await asyncio.sleep(self.boot.tick_interval_s)
            self.proxy.tick()

    async def run(self) -> None:
        boot = self.boot
        if boot.kind in ("sidecar", "ambient"):
            self.app = create_app(
                boot.app,
                AppContext(
                    pod=boot.pod,
                    namespace=boot.namespace,
                    ip=boot.ip,
                    labels=dict(boot.labels),
                    env=boot.env,
                    outbound=self.outbound,
                    seed=boot.seed,
                ),
                boot.app_settings,
            )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        admin = Admin(self.proxy, self.app, self.started, self.boot.stats_matcher)
        self._servers["admin"] = await start_server(admin.handle, boot.ip, boot.admin_port)
        if self.app is not None:
            await self._start_inbound()
        if self.ztunnel is not None:
            await self._start_ztunnel(self.ztunnel)
        self._watch_parent(loop)
        channel = loop.create_task(self._channel())
        ticker = loop.create_task(self._ticker())
        await self._stop.wait()
        for task in (channel, ticker):
            task.cancel()
        await self.proxy.close()
        if self.ambient is not None:
            self.ambient.close()
        for server in self._servers.values():
            await close_server(server)
        self.proxy.access_log.flush()
        self._log_file.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m chaoskit.mesh.pod BOOTSTRAP.json\n")
        return 2
    boot = Bootstrap.read(Path(args[0]))
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    try:
        asyncio.run(Pod(boot).run())
    except OSError as exc:
        # e.g. the pod's address is taken: say which, so the control plane can report it.
        sys.stderr.write(json.dumps({"pod": boot.pod, "error": str(exc)}) + "\n")
        return 3
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
