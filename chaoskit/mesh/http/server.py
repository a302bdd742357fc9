"""An HTTP/1.1 server protocol: parse with llhttp, run one handler at a time per connection."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import httptools

from chaoskit.mesh.http.message import (
    DECODED_NAMES,
    Headers,
    Request,
    Response,
    header_name,
    reason_phrase,
)


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    local: tuple[str, int]
    peer: tuple[str, int]
    tls: bool


Handler = Callable[[Request, ConnectionInfo], Awaitable[Response]]
_STATUS_LINES: dict[int, str] = {}  # status → "HTTP/1.1 200 OK"


class _ServerProtocol(asyncio.Protocol):
    """One client connection. Requests are handled in order; reading pauses while busy."""

    def __init__(self, handler: Handler, server_header: str | None) -> None:
        self._handler = handler
        self._server_header = server_header
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._info: ConnectionInfo | None = None
        self._queue: deque[tuple[Request, bool]] = deque()
        self._task: asyncio.Task[None] | None = None
        # One serving task per connection, parked on this future between requests (a task
        # per request cost more than the rest of a small request's parsing).
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._closing = False

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its interface.
        self._transport = cast(asyncio.Transport, transport)
        transport = self._transport
        local = transport.get_extra_info("sockname") or ("", 0)
        peer = transport.get_extra_info("peername") or ("", 0)
        tls = transport.get_extra_info("sslcontext") is not None
        self._info = ConnectionInfo((local[0], local[1]), (peer[0], peer[1]), tls)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply_and_close(Response.text(501, "upgrade not supported\n"))
        except httptools.HttpParserError:
            self._reply_and_close(Response.text(400, "bad request\n"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._queue.clear()
        # The client went away: cancel its in-flight request (Envoy's downstream reset, DC).
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # --- llhttp callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", [], []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append(
            (DECODED_NAMES.get(name) or header_name(name), value.decode("latin-1"))
        )

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        method = self._parser.get_method().decode("ascii")
        headers = Headers.lowered(self._headers)
        request = Request(method, self._url.decode("latin-1"), headers, b"".join(self._body))
        self._queue.append((request, self._parser.should_keep_alive()))
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        elif self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._serve())

    # --- serving --------------------------------------------------------------------------

    async def _serve(self) -> None:
        transport, info = self._transport, self._info
        assert transport is not None
        assert info is not None
        queue = self._queue
        while not self._closing:
            if not queue:
                self._waiter = waiter = asyncio.get_running_loop().create_future()
                try:
                    await waiter
                except asyncio.CancelledError:
                    return
                continue
            request, keep_alive = queue.popleft()
            if queue:
                transport.pause_reading()  # pipelined requests wait their turn
                self._paused = True
            try:
                response = await self._handler(request, info)
            except asyncio.CancelledError:
                return
            except Exception as exc:  # a handler bug must not kill the connection silently
                response = Response.text(500, f"internal error: {type(exc).__name__}: {exc}\n")
            if transport.is_closing():  # the client left while we were handling
                return
            transport.write(self._encode(response, keep_alive))
            if not keep_alive:
                transport.close()
                return
            if self._paused and not queue:
                transport.resume_reading()
                self._paused = False

    def _encode(self, response: Response, keep_alive: bool) -> bytes:
        status = response.status
        status_line = _STATUS_LINES.get(status)
        if status_line is None:
            status_line = f"HTTP/1.1 {status} {reason_phrase(status)}"
            if len(_STATUS_LINES) < 1000:
                _STATUS_LINES[status] = status_line
        lines = [status_line]
        has_server = False
        for name, value in response.headers:
            if name in ("content-length", "transfer-encoding", "connection"):
                continue
            has_server = has_server or name == "server"
            lines.append(f"{name}: {value}")
        if not has_server and self._server_header:
            lines.append(f"server: {self._server_header}")
        lines.append(f"content-length: {len(response.body)}")
        if not keep_alive:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + response.body

    def _reply_and_close(self, response: Response) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(self._encode(response, keep_alive=False))
            self._transport.close()


async def start_server(
    handler: Handler,
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None = None,
    server_header: str | None = None,
    backlog: int = 1024,
) -> asyncio.Server:
    """Listen on ``host:port`` (port 0 picks one) and serve ``handler``."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: _ServerProtocol(handler, server_header),
        host,
        port,
        ssl=ssl_context,
        backlog=backlog,
        reuse_address=True,
    )


async def close_server(server: asyncio.Server) -> None:
    server.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(server.wait_closed(), timeout=1.0)
