"""One upstream HTTP/1.1 connection: send a request, read its response, say if reusable.

Failures are typed the way Envoy's response flags need them: a refused or timed-out connect
is ``ConnectFailure`` (UF), a connection that dies before the response is complete is
``UpstreamReset`` (UC).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast

import httptools

from chaoskit.mesh.http import network
from chaoskit.mesh.http.message import DECODED_NAMES, Headers, Request, Response, header_name


class UpstreamError(Exception):
    """The upstream could not produce a response."""


class ConnectFailure(UpstreamError):
    """TCP connect refused or timed out (Envoy: UF, connect-failure)."""


class UpstreamReset(UpstreamError):
    """The connection closed or reset before the whole response arrived (Envoy: UC, reset)."""


class _ClientProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self.closed = False
        self.keep_alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its interface.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamReset(f"protocol error from upstream: {exc}"))
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(UpstreamReset("upstream connection closed before the response completed"))

    def on_message_begin(self) -> None:
        self._headers, self._body = [], []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append(
            (DECODED_NAMES.get(name) or header_name(name), value.decode("latin-1"))
        )

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        headers = Headers.lowered(self._headers)
        response = Response(self._parser.get_status_code(), headers, b"".join(self._body))
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def expect_response(self) -> asyncio.Future[Response]:
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter


class HttpConnection:
    """A client connection to one upstream address; one request at a time (HTTP/1.1)."""

    __slots__ = ("_protocol", "address", "requests_sent")

    def __init__(self, address: tuple[str, int], protocol: _ClientProtocol) -> None:
        self.address = address
        self._protocol = protocol
        self.requests_sent = 0

    @classmethod
    async def open(
        cls,
        address: tuple[str, int],
        *,
        connect_timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> HttpConnection:
        loop = asyncio.get_running_loop()
        host, port = address
        if network.is_unreachable(host, port):
            await network.vanish(connect_timeout_s)
            raise ConnectFailure(f"connect to {host}:{port} timed out")
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(
                    _ClientProtocol,
                    host,
                    port,
                    ssl=ssl_context,
                    server_hostname=server_hostname if ssl_context else None,
                ),
                timeout=connect_timeout_s,
            )
        except TimeoutError:
            raise ConnectFailure(f"connect to {host}:{port} timed out") from None
        except OSError as exc:
            raise ConnectFailure(
                f"connect to {host}:{port} failed: {exc.strerror or exc}"
            ) from None
        return cls(address, protocol)

    @property
    def is_reusable(self) -> bool:
        p = self._protocol
        return (
            not p.closed
            and p.keep_alive
            and p.transport is not None
            and not p.transport.is_closing()
        )

    async def send(self, request: Request) -> Response:
        """Write ``request`` and wait for the whole response; cancelling resets the connection."""
        protocol = self._protocol
        transport = protocol.transport
        if transport is None or protocol.closed:
            raise UpstreamReset("connection already closed")
        waiter = protocol.expect_response()
        transport.write(_encode_request(request))
        self.requests_sent += 1
        try:
            return await waiter
        except asyncio.CancelledError:
            # A timed-out or abandoned request leaves the connection mid-response: reset it,
            # as Envoy does on a route or per-try timeout.
            self.close()
            raise

    def close(self) -> None:
        transport = self._protocol.transport
        self._protocol.closed = True
        if transport is not None:
            transport.close()


def _encode_request(request: Request) -> bytes:
    lines = [f"{request.method} {request.target} HTTP/1.1"]
    for name, value in request.headers:
        if name in ("content-length", "transfer-encoding", "connection"):
            continue
        lines.append(f"{name}: {value}")
    if request.body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(request.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body
