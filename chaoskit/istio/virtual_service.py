"""VirtualService (networking.istio.io): how requests for a host are routed."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from chaoskit.istio._base import IstioModel
from chaoskit.istio.common import Destination, Headers, Percent, PortSelector, StringMatch
from chaoskit.istio.duration import Duration


class HTTPMatchRequest(IstioModel):
    name: str | None = None
    uri: StringMatch | None = None
    scheme: StringMatch | None = None
    method: StringMatch | None = None
    authority: StringMatch | None = None
    headers: dict[str, StringMatch] | None = None
    port: int | None = None
    source_labels: dict[str, str] | None = None
    gateways: list[str] | None = None
    query_params: dict[str, StringMatch] | None = None
    ignore_uri_case: bool | None = None
    without_headers: dict[str, StringMatch] | None = None
    source_namespace: str | None = None
    stat_prefix: str | None = None


class HTTPRouteDestination(IstioModel):
    destination: Destination | None = None
    weight: int | None = None
    headers: Headers | None = None


class HTTPRedirect(IstioModel):
    uri: str | None = None
    authority: str | None = None
    port: int | None = None
    derive_port: Literal["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"] | None = None
    scheme: str | None = None
    redirect_code: int | None = None


class HTTPBody(IstioModel):
    string: str | None = None
    bytes: str | None = None


class HTTPDirectResponse(IstioModel):
    status: int = 0
    body: HTTPBody | None = None


class Delegate(IstioModel):
    name: str | None = None
    namespace: str | None = None


class RegexRewrite(IstioModel):
    match: str = ""
    rewrite: str = ""


class HTTPRewrite(IstioModel):
    uri: str | None = None
    authority: str | None = None
    uri_regex_rewrite: RegexRewrite | None = None


class HTTPRetry(IstioModel):
    attempts: int = 0
    per_try_timeout: Duration | None = None
    retry_on: str | None = None
    retry_remote_localities: bool | None = None
    retry_ignore_previous_hosts: bool | None = None
    backoff: Duration | None = None


class Delay(IstioModel):
    fixed_delay: Duration | None = None
    exponential_delay: Duration | None = None
    percentage: Percent | None = None
    # Deprecated integer percentage, used only when `percentage` is absent.
    percent: int | None = None

    @model_validator(mode="after")
    def _one_delay_kind(self) -> Self:
        if self.fixed_delay is not None and self.exponential_delay is not None:
            raise ValueError("a delay takes fixedDelay or exponentialDelay, not both; keep one")
        return self


class Abort(IstioModel):
    http_status: int | None = None
    grpc_status: str | None = None
    http2_error: str | None = None
    percentage: Percent | None = None

    @model_validator(mode="after")
    def _one_error_type(self) -> Self:
        given = [
            alias
            for alias, value in (
                ("httpStatus", self.http_status),
                ("grpcStatus", self.grpc_status),
                ("http2Error", self.http2_error),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(f"an abort takes one error type, got {' and '.join(given)}; keep one")
        return self


class HTTPFaultInjection(IstioModel):
    delay: Delay | None = None
    abort: Abort | None = None


class HTTPMirrorPolicy(IstioModel):
    destination: Destination | None = None
    percentage: Percent | None = None


class CorsPolicy(IstioModel):
    allow_origins: list[StringMatch] | None = None
    allow_origin: list[str] | None = None
    allow_methods: list[str] | None = None
    allow_headers: list[str] | None = None
    expose_headers: list[str] | None = None
    max_age: Duration | None = None
    allow_credentials: bool | None = None
    unmatched_preflights: Literal["UNSPECIFIED", "FORWARD", "IGNORE"] | None = None


class HTTPRoute(IstioModel):
    name: str | None = None
    match: list[HTTPMatchRequest] | None = None
    route: list[HTTPRouteDestination] | None = None
    redirect: HTTPRedirect | None = None
    direct_response: HTTPDirectResponse | None = None
    delegate: Delegate | None = None
    rewrite: HTTPRewrite | None = None
    timeout: Duration | None = None
    retries: HTTPRetry | None = None
    fault: HTTPFaultInjection | None = None
    mirror: Destination | None = None
    mirrors: list[HTTPMirrorPolicy] | None = None
    mirror_percentage: Percent | None = None
    mirror_percent: int | None = None
    cors_policy: CorsPolicy | None = None
    headers: Headers | None = None


class L4MatchAttributes(IstioModel):
    destination_subnets: list[str] | None = None
    port: int | None = None
    source_labels: dict[str, str] | None = None
    gateways: list[str] | None = None
    source_namespace: str | None = None


class TLSMatchAttributes(L4MatchAttributes):
    sni_hosts: list[str] = Field(default_factory=list)


class RouteDestination(IstioModel):
    destination: Destination | None = None
    weight: int | None = None


class L4Route(IstioModel):
    """What TLS and TCP routes share: weighted destinations."""

    route: list[RouteDestination] | None = None


class TLSRoute(L4Route):
    match: list[TLSMatchAttributes] = Field(default_factory=list)


class TCPRoute(L4Route):
    match: list[L4MatchAttributes] | None = None


class VirtualServiceSpec(IstioModel):
    hosts: list[str] = Field(default_factory=list)
    gateways: list[str] | None = None
    http: list[HTTPRoute] | None = None
    tls: list[TLSRoute] | None = None
    tcp: list[TCPRoute] | None = None
    export_to: list[str] | None = None


__all__ = [
    "Abort",
    "CorsPolicy",
    "Delay",
    "Delegate",
    "HTTPDirectResponse",
    "HTTPFaultInjection",
    "HTTPMatchRequest",
    "HTTPMirrorPolicy",
    "HTTPRedirect",
    "HTTPRetry",
    "HTTPRewrite",
    "HTTPRoute",
    "HTTPRouteDestination",
    "L4Route",
    "PortSelector",
    "RouteDestination",
    "TCPRoute",
    "TLSRoute",
    "VirtualServiceSpec",
]
