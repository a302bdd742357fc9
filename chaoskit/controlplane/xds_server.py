"""The control plane's end of the push channel: who is connected, what each has acked.

Every proxy gets its whole configuration on connect (and after a NACK), then only the
resources that changed (chaoskit.mesh.delta). Each push carries a nonce, as xDS responses
do; a proxy is SYNCED at a version once it acked the latest nonce sent to it, or when its
config did not change at that version (nothing to send) and nothing is outstanding, which
is what ``istioctl proxy-status`` calls SYNCED.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaoskit.mesh.delta import META, delta_frame, upsert_body
from chaoskit.mesh.xds import encode, read_message

# Messages to a pod that are not Istio config: app settings, the app container's state
# (a crash), and the node network (addresses on lost nodes).
CONTROL_KINDS = ("settings", "app", "network")


@dataclass(slots=True)
class ProxyConnection:
    proxy: str
    writer: asyncio.StreamWriter
    connected_at: float = field(default_factory=time.time)
    sent_version: int = 0
    acked_version: int = 0
    synced_version: int = 0  # acked, or nothing changed for this proxy
    target_version: int = 0  # the newest version computed for this proxy
    resources: dict[str, str] = field(default_factory=dict)  # name → JSON it was sent
    sent_nonce: int = 0
    acked_nonce: int = 0  # the newest nonce it answered (ack or nack)
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
        # (held, new) resource dicts → (held, new, upsert body, removed names), this push
        self._deltas: dict[
            tuple[int, int], tuple[dict[str, str], dict[str, str], bytes, list[str]]
        ] = {}
        # resource dict → its full upsert body, encoded once per push for all its proxies
        self._full: dict[int, tuple[dict[str, str], bytes]] = {}
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
        stale = self.connections.get(proxy)
        if stale is not None:  # a reconnect before we saw the old stream close
            stale.writer.close()
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
                conn.acked_nonce = max(conn.acked_nonce, int(message.get("nonce") or 0))
                if conn.acked_nonce >= conn.sent_nonce:  # it holds what we sent last
                    conn.synced_version = max(conn.synced_version, conn.target_version)
                conn.nack = None
            elif kind in CONTROL_KINDS:
                conn.settings_acked = max(conn.settings_acked, version)
                conn.settings_error = None
        elif message.get("type") == "nack":
            if kind == "snapshot":
                conn.acked_nonce = max(conn.acked_nonce, int(message.get("nonce") or 0))
                conn.nack = str(message.get("error"))
                conn.resources = {}  # unknown what it kept: the next push is a full one
            else:
                conn.settings_acked = max(conn.settings_acked, version)
                conn.settings_error = str(message.get("error"))
        async with self._changed:
            self._changed.notify_all()

    def begin_push(self) -> None:
        """Forget the previous push's deltas (they are shared only within one push)."""
        self._deltas.clear()
        self._full.clear()

    def push(
        self, proxy: str, version: int, resources: dict[str, str], meta: Callable[[], str]
    ) -> None:
        """Send ``proxy`` what changed in ``resources`` (name → JSON text) since last time;
        ``meta()`` is its meta resource's text, needed only for a full push.

        Proxies of one view get the same ``resources`` dict and hold the same previous one,
        so their delta is computed once per push and view, not once per proxy. Texts should
        be the same string objects from push to push (ControlPlane._push_loop), so the diff
        compares identities.
        """
        conn = self.connections.get(proxy)
        if conn is None:
            return
        conn.target_version = version
        held = conn.resources
        if not held or conn.nack is not None:
            shared = self._full.get(id(resources))
            if shared is None or shared[0] is not resources:
                shared = self._full[id(resources)] = (resources, upsert_body(resources).encode())
            frame = delta_frame(
                version,
                conn.sent_nonce + 1,
                True,
                (upsert_body({META: meta()}).encode(), shared[1]),
                [],
            )
        else:
            key = (id(held), id(resources))
            cached = self._deltas.get(key)
            if cached is None or cached[0] is not held or cached[1] is not resources:
                upsert = {n: t for n, t in resources.items() if held.get(n) != t}
                gone = [n for n in held if n not in resources]
                body = upsert_body(upsert).encode()
                cached = self._deltas[key] = (held, resources, body, gone)
            body, remove = cached[2], cached[3]
            if not body and not remove:
                if conn.acked_nonce >= conn.sent_nonce:
                    conn.synced_version = max(conn.synced_version, version)
                return
            frame = delta_frame(version, conn.sent_nonce + 1, False, (body,), remove)
        conn.resources = resources
        conn.sent_nonce += 1
        conn.sent_version = version
        conn.writer.write(frame)

    def send_settings(self, proxy: str, settings: dict[str, Any]) -> int | None:
        return self.send_control(proxy, "settings", {"settings": settings})

    def send_control(self, proxy: str, kind: str, body: dict[str, Any]) -> int | None:
        """Send a pod a message outside xDS (app settings, its app's state, the network);
        its ack or nack is counted like a settings one (``wait_settings`` waits for it)."""
        conn = self.connections.get(proxy)
        if conn is None:
            return None
        self._settings_seq += 1
        conn.settings_version = self._settings_seq
        conn.writer.write(encode({"type": kind, "version": self._settings_seq, **body}))
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
