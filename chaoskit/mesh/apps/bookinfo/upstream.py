"""One GET from a Bookinfo service to another, through the pod's sidecar, under a deadline.

The real clients (python-requests in productpage, the JAX-RS client in reviews) have a
connect and a read timeout; behind a local sidecar that is one deadline for the answer. A
timeout, a refused connection or an unresolvable name are all "no response" (status None),
which each caller then treats as its real counterpart treats a failed call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.http.client import UpstreamError
from chaoskit.mesh.http.message import Headers, Request


@dataclass(frozen=True, slots=True)
class Reply:
    status: int | None  # None: no response (timeout, connect failure, unknown host)
    body: bytes = b""
    error: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a service calls another: host name (as the app resolves it) and port."""

    host: str
    port: int = 9080

    @classmethod
    def from_env(cls, context: AppContext, service: str) -> Target:
        """``<SERVICE>_HOSTNAME``, ``SERVICES_DOMAIN`` and ``<SERVICE>_SERVICE_PORT`` as in
        productpage.py and LibertyRestEndpoint.java (defaults: the service name, 9080)."""
        env = context.env
        host = env.get(f"{service.upper()}_HOSTNAME") or service
        domain = env.get("SERVICES_DOMAIN")
        if domain is not None:
            host = f"{host}.{domain}"
        raw_port = env.get(f"{service.upper()}_SERVICE_PORT", "9080")
        return cls(host, int(raw_port) if raw_port.isdigit() else 9080)


async def get(
    context: AppContext,
    target: Target,
    path: str,
    headers: list[tuple[str, str]],
    deadline_s: float,
) -> Reply:
    """GET ``http://host:port/path``; the app's own timeout cancels the call."""
    # Names are lower-case already (propagation.py and the literal below).
    request = Request(
        "GET", path, Headers.lowered([("host", f"{target.host}:{target.port}"), *headers])
    )
    if deadline_s <= 0:  # as wait_for with no time left: the call is never started
        return Reply(None, error=f"timed out after {deadline_s:g}s")
    try:
        # asyncio.timeout cancels this task at the deadline, as wait_for cancels the call's
        # own task, without creating that task per call.
        async with asyncio.timeout(deadline_s):
            response = await context.outbound(request, target.port)
    except TimeoutError:
        return Reply(None, error=f"timed out after {deadline_s:g}s")
    except (UpstreamError, OSError) as exc:
        return Reply(None, error=str(exc) or type(exc).__name__)
    return Reply(response.status, response.body)
