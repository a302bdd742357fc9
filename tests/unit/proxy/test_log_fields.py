"""What the request path puts in an access record and in x-request-id, checked against the
plain definitions (``Headers.get``'s first value, ``uuid.UUID(version=4)``)."""

from __future__ import annotations

import random
import time
import uuid

import pytest

from chaoskit.mesh.accesslog import AccessLog
from chaoskit.mesh.http.message import Headers, Request, Response
from chaoskit.mesh.proxy import Proxy, ProxyIdentity
from chaoskit.mesh.router import RequestInfo, request_id

_DRAWS = random.Random(7)


@pytest.mark.parametrize("bits", [0, 2**128 - 1, *(_DRAWS.getrandbits(128) for _ in range(50))])
def test_request_id_is_the_uuid4_of_the_same_bits(bits: int) -> None:
    assert request_id(bits) == str(uuid.UUID(int=bits, version=4))


@pytest.mark.parametrize(
    "items",
    [
        [],
        [("host", "reviews:9080"), ("user-agent", "a"), ("user-agent", "b"), ("x-request-id", "r1"),
         ("x-forwarded-for", "1.2.3.4"), ("x-envoy-original-path", "/orig"), ("host", "other")],
        [("x-request-id", ""), ("host", ""), ("x-forwarded-for", "9.9.9.9, 1.1.1.1")],
    ],
)  # fmt: skip
def test_the_record_shows_each_headers_first_value_or_a_dash(
    items: list[tuple[str, str]],
) -> None:
    log = AccessLog()
    proxy = Proxy(
        ProxyIdentity("p", "ns", "127.0.0.9", "sidecar"), rng=random.Random(1), access_log=log
    )
    request = Request("GET", "/target?q=1", Headers(items))
    proxy._log(request, Response(200), RequestInfo(), time.time(), "outbound", "127.0.0.2", 200)
    (record,) = log.since(0)
    headers = request.headers
    assert record["path"] == (headers.get("x-envoy-original-path") or request.target)
    assert record["x_forwarded_for"] == (headers.get("x-forwarded-for") or "-")
    assert record["user_agent"] == (headers.get("user-agent") or "-")
    assert record["request_id"] == (headers.get("x-request-id") or "-")
    assert record["authority"] == (request.authority or "-")
