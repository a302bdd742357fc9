"""Responses the proxy makes itself, with Envoy's bodies, details and response flags."""

from __future__ import annotations

from dataclasses import dataclass

from chaoskit.mesh.http.message import Headers, Response

RESET_BEFORE_HEADERS = "upstream connect error or disconnect/reset before headers. reset reason: "


@dataclass(frozen=True, slots=True)
class LocalReply:
    status: int
    body: str
    flag: str
    details: str
    overloaded: bool = False

    def response(self) -> Response:
        headers = Headers([("content-type", "text/plain")])
        if self.overloaded:
            headers.add("x-envoy-overloaded", "true")
        return Response(self.status, headers, self.body.encode())


NO_ROUTE = LocalReply(404, "", "NR", "route_not_found")
NO_CLUSTER = LocalReply(503, "", "NC", "cluster_not_found")
NO_HEALTHY_UPSTREAM = LocalReply(503, "no healthy upstream", "UH", "no_healthy_upstream")
OVERFLOW = LocalReply(503, RESET_BEFORE_HEADERS + "overflow", "UO", "overflow", overloaded=True)
CONNECT_FAILURE = LocalReply(
    503,
    RESET_BEFORE_HEADERS + "connection failure",
    "UF",
    "upstream_reset_before_response_started{connection_failure}",
)
UPSTREAM_RESET = LocalReply(
    503,
    RESET_BEFORE_HEADERS + "connection termination",
    "UC",
    "upstream_reset_before_response_started{connection_termination}",
)
ROUTE_TIMEOUT = LocalReply(504, "upstream request timeout", "UT", "response_timeout")
PER_TRY_TIMEOUT = LocalReply(504, "upstream request timeout", "UT", "upstream_per_try_timeout")


def fault_abort(status: int) -> LocalReply:
    return LocalReply(status, "fault filter abort", "FI", "fault_filter_abort")
