"""Upstream calls as Bookinfo's services make them: a timeout, propagated headers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.http.client import UpstreamError
from chaoskit.mesh.http.message import Headers, Request

# Headers productpage copies verbatim (productpage.py); b3 headers are re-injected there too.
PRODUCTPAGE_FORWARDED = (
    "x-request-id", "x-ot-span-context", "x-datadog-trace-id", "x-datadog-parent-id",
    "x-datadog-sampling-priority", "traceparent", "tracestate", "x-cloud-trace-context",
    "grpc-trace-bin", "sw8", "user-agent", "cookie", "authorization", "jwt",
    "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "b3",
)  # fmt: skip
# Headers reviews and details copy (LibertyRestEndpoint.java), end-user included.
SERVICE_FORWARDED = (
    "x-request-id", "x-ot-span-context", "x-datadog-trace-id", "x-datadog-parent-id",
    "x-datadog-sampling-priority", "traceparent", "tracestate", "x-cloud-trace-context",
    "grpc-trace-bin", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
    "x-b3-flags", "sw8", "end-user", "user-agent", "cookie", "authorization", "jwt",
)  # fmt: skip


def forwarded(incoming: Headers, names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(name, value) for name in names if (value := incoming.get(name)) is not None]


@dataclass(frozen=True, slots=True)
class CallResult:
    status: int  # upstream status, or 500 when the call raised (as productpage reports it)
    body: Any  # parsed JSON, or None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body is not None


async def get_json(
    context: AppContext,
    service: str,
    path: str,
    headers: list[tuple[str, str]],
    timeout_s: float,
    port: int = 9080,
) -> CallResult:
    """GET ``http://service:port/path`` through the sidecar, bounded by the app's own timeout."""
    request = Request("GET", path, Headers([("host", f"{service}:{port}"), *headers]))
    try:
        response = await asyncio.wait_for(context.outbound(request, port), timeout_s)
    except TimeoutError:
        return CallResult(500, None, f"timeout after {timeout_s}s")
    except UpstreamError as exc:
        return CallResult(500, None, str(exc))
    try:
        body = json.loads(response.body) if response.body else None
    except ValueError:
        body = None
    return CallResult(response.status, body)
