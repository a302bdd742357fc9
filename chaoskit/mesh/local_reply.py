"""Responses the proxy makes itself, with Envoy's bodies, details and response flags."""

from __future__ import annotations

from dataclasses import dataclass

from chaoskit.mesh.http.message import Headers, Response


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
ROUTE_TIMEOUT = LocalReply(504, "upstream request timeout", "UT", "response_timeout")
PER_TRY_TIMEOUT = LocalReply(504, "upstream request timeout", "UT", "upstream_per_try_timeout")


# Http::Utility::resetReasonToString for the resets the data plane produces.
REMOTE_CONNECTION_FAILURE = "remote connection failure"
CONNECTION_TIMEOUT = "connection timeout"
CONNECTION_TERMINATION = "connection termination"


def connect_failure_reasons(message: str) -> tuple[str, str]:
    """A failed connect as Envoy reports it: (reset reason, transport failure reason)."""
    if "timed out" in message:
        return CONNECTION_TIMEOUT, ""
    _, _, error = message.partition("failed: ")
    return REMOTE_CONNECTION_FAILURE, f"delayed connect error: {error or 'Connection refused'}"


def reset_before_headers(
    flag: str, reason: str, transport_failure: str = "", *, retried: bool = False
) -> LocalReply:
    """Envoy's reply to an upstream reset before response headers (router.cc
    ``Filter::onUpstreamReset`` → ``onUpstreamAbort``, commit 001b1c0c): the body names the
    latest reset after a retry, and the transport failure when there is one; the details
    are the same words with spaces as underscores."""
    body = (
        "upstream connect error or disconnect/reset before headers. "
        + ("retried and the latest " if retried else "")
        + f"reset reason: {reason}"
        + (f", transport failure reason: {transport_failure}" if transport_failure else "")
    )
    detail = reason + (f"|{transport_failure}" if transport_failure else "")
    details = f"upstream_reset_before_response_started{{{detail}}}".replace(" ", "_")
    return LocalReply(503, body, flag, details, overloaded=flag == "UO")


def fault_abort(status: int) -> LocalReply:
    return LocalReply(status, "fault filter abort", "FI", "fault_filter_abort")
