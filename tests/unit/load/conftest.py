"""A small loopback HTTP server for the load tests (no mesh)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Server:
    def __init__(self) -> None:
        self.delay_s = 0.0
        self.login_status = 302
        self.fail_every = 0  # every n-th GET gets a 503 (0: none)
        self.received = 0  # GETs
        self.posted = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                with owner.lock:
                    owner.received += 1
                    number = owner.received
                time.sleep(owner.delay_s)
                cookie = self.headers.get("cookie", "")
                body = b"<html>hello " + cookie.encode() + b"</html>"
                failing = owner.fail_every and number % owner.fail_every == 0
                self._reply(
                    503 if failing else 200,
                    body,
                    {"x-chaoskit-version": "v9", "x-chaoskit-pod": "pod-a"},
                )

            def do_POST(self) -> None:
                with owner.lock:
                    owner.posted += 1
                length = int(self.headers.get("content-length", 0))
                self.rfile.read(length)
                self._reply(
                    owner.login_status,
                    b"",
                    {"set-cookie": "session=jason; Path=/", "location": "/"},
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()
