"""The control plane's end of the push channel: who is connected, what each has acked.

Every proxy gets its whole snapshot on connect and after every change. A version counts
as delivered to a proxy when it acks that version, or when the proxy's compiled config
did not change (nothing to send), which is what ``istioctl proxy-status`` calls SYNCED.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaoskit.mesh.codec import to_jsonable
from chaoskit.mesh.config import ProxySnapshot
from chaoskit.mesh.xds import encode, read_message


@dataclass(slots=True)
class ProxyConnection:
    proxy: str
    writer: asyncio.StreamWriter
    connected_at: float = field(default_factory=time.time)
    sent_version: int = 0
    acked_version: int = 0
    synced_version: int = 0  # acked, or nothing changed for this proxy
    last_config: Any = None  # the JSON sent last, without its version
    nack: str | None = None
    settings_version: int = 0
    settings_acked: int = 0
    settings_error: str | None = None


class XdsServer:
    def __init__(self, token: str, on_connect: Callable[[str], None]) -> None:
        self.token = token
        self.connections: dict[str, ProxyConnection] = {}
        self._on_connect = on_connect
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()
        self._settings_seq = 0
        self.address: tuple[str, int] = ("127.0.0.1", 0)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=2**26)
        sock = self._server.sockets[0].getsockname()
        self.address = (sock[0], sock[1])

    async def stop(self) -> None:
        for conn in list(self.connections.values()):
            with contextlib.suppress(Exception):
                conn.writer.write(encode({"type": "shutdown"}))
                conn.writer.close()
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = await read_message(reader)
        if (
            hello is None
            or hello.get("type") != "hello"
            or not hmac.compare_digest(str(hello.get("token", "")), self.token)
        ):
            writer.close()
            return
        proxy = str(hello["proxy"])
        conn = ProxyConnection(proxy, writer)
        self.connections[proxy] = conn
        self._on_connect(proxy)
        try:
            while (message := await read_message(reader)) is not None:
                await self._on_message(conn, message)
        finally:
            if self.connections.get(proxy) is conn:
                del self.connections[proxy]
            async with self._changed:
                self._changed.notify_all()

    async def _on_message(self, conn: ProxyConnection, message: dict[str, Any]) -> None:
        kind, version = message.get("kind"), message.get("version")
        if not isinstance(version, int):
            return
        if message.get("type") == "ack":
            if kind == "snapshot":
                conn.acked_version = max(conn.acked_version, version)
                conn.synced_version = max(conn.synced_version, version)
                conn.nack = None
            elif kind == "settings":
                conn.settings_acked = max(conn.settings_acked, version)
                conn.settings_error = None
        elif message.get("type") == "nack":
            if kind == "snapshot":
                conn.nack = str(message.get("error"))
            else:
                conn.settings_acked = max(conn.settings_acked, version)
                conn.settings_error = str(message.get("error"))
        async with self._changed:
            self._changed.notify_all()

    def push(self, proxy: str, snapshot: ProxySnapshot, encoded_clusters: Any = None) -> None:
        """Send ``snapshot`` unless the proxy already has the same config.

        ``encoded_clusters``: the clusters' JSON when the caller shares it between proxies.
        """
        conn = self.connections.get(proxy)
        if conn is None:
            return
        config = {
            "proxy": snapshot.proxy,
            "kind": snapshot.kind,
            "listeners": to_jsonable(snapshot.listeners),
            "clusters": (
                encoded_clusters if encoded_clusters is not None else to_jsonable(snapshot.clusters)
            ),
            "compat": to_jsonable(snapshot.compat),
        }
        version = snapshot.version
        if config == conn.last_config and conn.nack is None:
            conn.synced_version = max(conn.synced_version, version)
            return
        conn.last_config = config
        conn.sent_version = version
        payload = json.dumps(
            {"type": "snapshot", "version": version, "snapshot": {**config, "version": version}},
            separators=(",", ":"),
        ).encode()
        conn.writer.write(payload + b"\n")

    def send_settings(self, proxy: str, settings: dict[str, Any]) -> int | None:
        conn = self.connections.get(proxy)
        if conn is None:
            return None
        self._settings_seq += 1
        conn.settings_version = self._settings_seq
        conn.writer.write(
            encode({"type": "settings", "version": self._settings_seq, "settings": settings})
        )
        return self._settings_seq

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout_s)
            except TimeoutError:
                return False
        return True
