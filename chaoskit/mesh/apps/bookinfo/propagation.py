"""Which incoming headers each Bookinfo service copies onto its upstream calls.

productpage (productpage.py getForwardHeaders) copies the list below verbatim, re-injects
B3 itself (b3.py) and sets ``end-user`` from its login session: an incoming ``end-user`` is
never copied. reviews and details (LibertyRestEndpoint.java headers_to_propagate, details.rb
get_forward_headers) copy their list verbatim, B3 and ``end-user`` included.
"""

from __future__ import annotations

from chaoskit.mesh.apps.bookinfo.b3 import reinjected_b3
from chaoskit.mesh.http.message import Headers

_TRACING = (
    "x-request-id",
    "x-ot-span-context",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "traceparent",
    "tracestate",
    "x-cloud-trace-context",
    "grpc-trace-bin",
)
_B3 = ("x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags")
_SESSION = ("cookie", "authorization", "jwt")

PRODUCTPAGE_COPIED = (*_TRACING, "sw8", "user-agent", *_SESSION)
SERVICE_COPIED = (*_TRACING, *_B3, "sw8", "end-user", "user-agent", *_SESSION)

# python-requests' own defaults, sent when the incoming request did not carry them.
_REQUESTS_DEFAULTS = (
    ("user-agent", "python-requests/2.32.3"),
    ("accept-encoding", "gzip, deflate"),
    ("accept", "*/*"),
)


_WANTED: dict[tuple[str, ...], frozenset[str]] = {
    names: frozenset(names) for names in (PRODUCTPAGE_COPIED, SERVICE_COPIED)
}


def copied(incoming: Headers, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """The first value of each of ``names`` the request has, in the order of ``names``."""
    wanted = _WANTED.get(names) or frozenset(names)
    # One pass over the request's headers (a lookup per name scanned them all each time).
    first: dict[str, str] = {}
    for name, value in incoming:
        if name in wanted and name not in first:
            first[name] = value
    if not first:
        return []
    return [(name, first[name]) for name in names if name in first]


def productpage_headers(incoming: Headers, user: str | None) -> list[tuple[str, str]]:
    """Headers on productpage's calls: re-injected B3, end-user from the session, copies."""
    headers = reinjected_b3(incoming)
    if user is not None:
        headers.append(("end-user", user))
    headers.extend(copied(incoming, PRODUCTPAGE_COPIED))
    present = {name for name, _ in headers}
    headers.extend((name, value) for name, value in _REQUESTS_DEFAULTS if name not in present)
    return headers


def service_headers(incoming: Headers) -> list[tuple[str, str]]:
    """Headers reviews (and details) put on their own upstream calls."""
    return copied(incoming, SERVICE_COPIED)
