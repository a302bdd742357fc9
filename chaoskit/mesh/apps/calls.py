"""The generic app's call graph: the downstream calls it makes for every request it serves.

Settings (camelCase, next to the latency and error keys of behaviour.py)::

    calls:
      - {host: payments.shop.svc.cluster.local, port: 8080, path: /charge, timeout: 1s}
      - {host: inventory, port: 8080}          # path /, timeout 10s
    callMode: parallel                         # or sequence

Each call is a GET through the pod's sidecar (its outbound listener), as Bookinfo's
productpage calls details: the app names the service, the sidecar routes it. The headers
Istio's tracing overview asks every app to forward (istio.io "Distributed Tracing /
Overview", trace context propagation) are copied from the incoming request, so a twin's
access logs and traces join up like the real services'.

A call fails when it gets no answer (connection refused, unknown name), when it outlasts its
``timeout`` (the app's own client deadline, like ``requests.get(timeout=...)``), or when it
answers 400 or above. In ``sequence`` mode the first failure stops the rest; in ``parallel``
mode every call runs to its end. The caller then answers as a real service in front of a
failing dependency does: 504 when the failed call timed out, 502 otherwise, with a JSON body
naming the call and what happened.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaoskit.durations import parse_seconds
from chaoskit.mesh.apps.base import AppContext, AppSettingsError
from chaoskit.mesh.http.client import UpstreamError
from chaoskit.mesh.http.message import Headers, Request

CALL_KEYS = frozenset({"calls", "callMode"})
CALL_MODES = ("parallel", "sequence")
DEFAULT_TIMEOUT_S = 10.0  # a client deadline is always set: no request waits forever

# istio.io Distributed Tracing overview: x-request-id for every app, the B3 multi-header
# set, W3C trace context, and the other backends' headers it lists.
FORWARDED_HEADERS = (
    "x-request-id",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "b3",
    "traceparent",
    "tracestate",
    "x-ot-span-context",
    "x-cloud-trace-context",
    "grpc-trace-bin",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "sw8",
)

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_CALL_FIELDS = {"host", "port", "path", "timeout"}


@dataclass(frozen=True, slots=True)
class Call:
    host: str
    port: int
    path: str = "/"
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"


@dataclass(frozen=True, slots=True)
class CallResult:
    call: Call
    status: int | None  # None: no answer
    elapsed_s: float
    error: str = ""  # why it failed; "" when it succeeded
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.error)

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "url": self.call.url,
            "status": self.status,
            "ms": round(self.elapsed_s * 1000, 1),
        }
        if self.error:
            entry["error"] = self.error
        return entry


def _call(index: int, raw: Any) -> Call:
    field = f"calls[{index}]"
    if not isinstance(raw, Mapping):
        raise AppSettingsError(
            f"{field}: expected a mapping such as {{host: payments, port: 8080}}, got {raw!r}"
        )
    unknown = sorted(set(raw) - _CALL_FIELDS)
    if unknown:
        raise AppSettingsError(
            f"{field}: unknown field(s) {', '.join(unknown)}; a call takes "
            f"{', '.join(sorted(_CALL_FIELDS))}"
        )
    host = raw.get("host")
    if not isinstance(host, str) or not _HOST.match(host):
        raise AppSettingsError(
            f"{field}.host: expected a service name such as payments or "
            f"payments.shop.svc.cluster.local, got {host!r}"
        )
    port = raw.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise AppSettingsError(f"{field}.port: expected a port from 1 to 65535, got {port!r}")
    path = raw.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise AppSettingsError(f"{field}.path: expected a path starting with /, got {path!r}")
    timeout_s = DEFAULT_TIMEOUT_S
    if "timeout" in raw:
        try:
            timeout_s = parse_seconds(str(raw["timeout"]))
        except ValueError as exc:
            raise AppSettingsError(f"{field}.timeout: {exc}") from None
        if timeout_s <= 0:
            raise AppSettingsError(f"{field}.timeout: must be above 0, got {raw['timeout']!r}")
    return Call(host, port, path, timeout_s)


@dataclass(frozen=True, slots=True)
class CallGraph:
    calls: tuple[Call, ...] = ()
    mode: str = "parallel"

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> CallGraph:
        raw = settings.get("calls", [])
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise AppSettingsError(
                f"calls: expected a list of {{host, port, path, timeout}}, got {raw!r}"
            )
        mode = settings.get("callMode", "parallel")
        if mode not in CALL_MODES:
            raise AppSettingsError(f"callMode: expected parallel or sequence, got {mode!r}")
        return cls(tuple(_call(i, c) for i, c in enumerate(raw)), str(mode))

    async def run(self, context: AppContext, incoming: Headers) -> list[CallResult]:
        """Make the calls; in sequence mode stop at the first that fails."""
        forwarded = [(name, value) for name in FORWARDED_HEADERS if (value := incoming.get(name))]
        if self.mode == "parallel":
            return list(await asyncio.gather(*(_get(context, c, forwarded) for c in self.calls)))
        results: list[CallResult] = []
        for call in self.calls:
            result = await _get(context, call, forwarded)
            results.append(result)
            if result.failed:
                break
        return results


async def _get(context: AppContext, call: Call, forwarded: Sequence[tuple[str, str]]) -> CallResult:
    request = Request("GET", call.path, Headers([("host", f"{call.host}:{call.port}"), *forwarded]))
    started = time.monotonic()
    try:
        response = await asyncio.wait_for(context.outbound(request, call.port), call.timeout_s)
    except TimeoutError:
        elapsed = time.monotonic() - started
        return CallResult(
            call, None, elapsed, f"timed out after {call.timeout_s:g}s", timed_out=True
        )
    except (UpstreamError, OSError) as exc:  # refused, reset, unknown name: no answer
        elapsed = time.monotonic() - started
        return CallResult(call, None, elapsed, f"no answer: {str(exc) or type(exc).__name__}")
    elapsed = time.monotonic() - started
    if response.status >= 400:
        return CallResult(call, response.status, elapsed, f"answered {response.status}")
    return CallResult(call, response.status, elapsed)


def failure_status(results: Sequence[CallResult]) -> int | None:
    """The caller's status when a call failed: 504 if the first failed call timed out, 502
    otherwise (a gateway's answer for a bad or missing upstream reply); None if none failed."""
    failed = next((r for r in results if r.failed), None)
    if failed is None:
        return None
    return 504 if failed.timed_out else 502
