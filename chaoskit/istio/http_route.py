"""HTTPRoute (gateway.networking.k8s.io/v1): Gateway API routing, as Istio reads it.

The shape is the CRD's (sigs.k8s.io/gateway-api v1.5.1, the version istio/istio 1.30.3 pins
in go.mod; its schema is in ``tests/integration/pilot/testdata/gateway-api-crd.yaml``):
unknown fields are refused, enums and ranges are the schema's, and durations follow GEP-2257
(``^([0-9]{1,5}(h|m|s|ms)){1,4}$``: ``1.5s`` and ``250us`` are refused, unlike Istio's own
Go durations). Defaults the API server fills in (a backendRef's ``weight`` 1, a match's
``PathPrefix /``, a parentRef's ``kind: Gateway``) are applied when the route is read.

Gateway API has no fault injection: a rule carrying ``fault`` gets an error that says what
to use instead (a VirtualService; in ambient mode, bound to the waypoint by its host).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from chaoskit.istio._base import IstioModel
from chaoskit.istio.duration import Duration

GATEWAY_GROUP = "gateway.networking.k8s.io"
_GATEWAY_DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")

NO_FAULT_INJECTION = (
    "Gateway API has no fault injection: an HTTPRoute cannot delay or abort requests; "
    "inject the fault with a VirtualService for the same host (chaos.delay or chaos.abort, "
    "or http[].fault in a VirtualService), which the callers' sidecars apply, or in ambient "
    "mode the service's waypoint"
)


def _gateway_duration(value: object) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str) or not _GATEWAY_DURATION.match(value):
        raise ValueError(
            f"{value!r} is not a Gateway API duration (GEP-2257): write up to four "
            "number+unit pairs with units h, m, s or ms, e.g. '500ms', '10s' or '1m30s'"
        )
    return Duration.parse(value)


GatewayDuration = Annotated[Duration, BeforeValidator(_gateway_duration)]


class ParentReference(IstioModel):
    """Where the route attaches: a Gateway (north-south) or a Service (GAMMA, the mesh)."""

    group: str = GATEWAY_GROUP
    kind: str = "Gateway"
    namespace: str | None = None
    name: str = Field(min_length=1, max_length=253)
    section_name: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)

    @property
    def is_service(self) -> bool:
        return self.group == "" and self.kind == "Service"


class PathMatch(IstioModel):
    type: Literal["Exact", "PathPrefix", "RegularExpression"] = "PathPrefix"
    value: str = Field(default="/", max_length=1024)

    @model_validator(mode="after")
    def _absolute(self) -> PathMatch:
        if self.type != "RegularExpression" and not self.value.startswith("/"):
            raise ValueError(
                "value must be an absolute path and start with '/' when type one of "
                "['Exact', 'PathPrefix']"
            )
        return self


class HeaderMatch(IstioModel):
    type: Literal["Exact", "RegularExpression"] = "Exact"
    name: str = Field(min_length=1, max_length=256)
    value: str = Field(min_length=1, max_length=4096)


Method = Literal["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]


class HTTPRouteMatch(IstioModel):
    path: PathMatch = Field(default_factory=PathMatch)
    headers: list[HeaderMatch] | None = Field(default=None, max_length=16)
    query_params: list[HeaderMatch] | None = Field(default=None, max_length=16)
    method: Method | None = None


class HTTPHeader(IstioModel):
    name: str = Field(min_length=1, max_length=256)
    value: str = Field(max_length=4096)


class HeaderModifier(IstioModel):
    set: list[HTTPHeader] | None = None
    add: list[HTTPHeader] | None = None
    remove: list[str] | None = None


class PathModifier(IstioModel):
    type: Literal["ReplaceFullPath", "ReplacePrefixMatch"]
    replace_full_path: str | None = None
    replace_prefix_match: str | None = None


class URLRewriteFilter(IstioModel):
    hostname: str | None = None
    path: PathModifier | None = None


class RedirectFilter(IstioModel):
    scheme: Literal["http", "https"] | None = None
    hostname: str | None = None
    path: PathModifier | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    status_code: Literal[301, 302, 303, 307, 308] = 302


class BackendObjectReference(IstioModel):
    group: str = ""
    kind: str = "Service"
    name: str = Field(min_length=1, max_length=253)
    namespace: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)

    @property
    def is_service(self) -> bool:
        return self.group == "" and self.kind == "Service"


class Fraction(IstioModel):
    numerator: int = Field(ge=0)
    denominator: int = Field(default=100, ge=1)


class MirrorFilter(IstioModel):
    backend_ref: BackendObjectReference
    percent: int | None = Field(default=None, ge=0, le=100)
    fraction: Fraction | None = None


FilterType = Literal[
    "RequestHeaderModifier",
    "ResponseHeaderModifier",
    "RequestMirror",
    "RequestRedirect",
    "URLRewrite",
    "ExtensionRef",
    "CORS",
    "ExternalAuth",
]


class HTTPRouteFilter(IstioModel):
    type: FilterType
    request_header_modifier: HeaderModifier | None = None
    response_header_modifier: HeaderModifier | None = None
    request_mirror: MirrorFilter | None = None
    request_redirect: RedirectFilter | None = None
    url_rewrite: URLRewriteFilter | None = None
    # Read, never emulated: Istio 1.30 refuses ExtensionRef and ExternalAuth on an HTTPRoute
    # (conversion.go, "unsupported filter type"); CORS is kept for its shape only.
    extension_ref: dict[str, Any] | None = None
    cors: dict[str, Any] | None = None
    external_auth: dict[str, Any] | None = None


class HTTPBackendRef(BackendObjectReference):
    weight: int = Field(default=1, ge=0, le=1_000_000)
    filters: list[HTTPRouteFilter] | None = None

    @model_validator(mode="after")
    def _service_port(self) -> HTTPBackendRef:
        if self.is_service and self.port is None:
            raise ValueError("Must have port for Service reference")
        return self


class HTTPRouteTimeouts(IstioModel):
    request: GatewayDuration | None = None
    backend_request: GatewayDuration | None = None

    @model_validator(mode="after")
    def _backend_within_request(self) -> HTTPRouteTimeouts:
        request, backend = self.request, self.backend_request
        if (
            request is not None
            and backend is not None
            and request.nanos
            and backend.nanos > request.nanos
        ):
            raise ValueError("backendRequest timeout cannot be longer than request timeout")
        return self


class HTTPRouteRetry(IstioModel):
    attempts: int | None = None
    backoff: GatewayDuration | None = None
    codes: list[Annotated[int, Field(ge=400, le=599)]] | None = None


class HTTPRouteRule(IstioModel):
    name: str | None = None
    matches: list[HTTPRouteMatch] = Field(default_factory=lambda: [HTTPRouteMatch()], max_length=64)
    filters: list[HTTPRouteFilter] | None = Field(default=None, max_length=16)
    backend_refs: list[HTTPBackendRef] | None = None
    timeouts: HTTPRouteTimeouts | None = None
    retry: HTTPRouteRetry | None = None
    session_persistence: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_fault(cls, data: object) -> object:
        if isinstance(data, dict) and "fault" in data:
            raise ValueError(NO_FAULT_INJECTION)
        return data

    @model_validator(mode="after")
    def _redirect_without_backends(self) -> HTTPRouteRule:
        redirects = any(f.request_redirect is not None for f in self.filters or ())
        if redirects and self.backend_refs:
            raise ValueError("RequestRedirect filter must not be used together with backendRefs")
        return self


class HTTPRouteSpec(IstioModel):
    parent_refs: list[ParentReference] | None = Field(default=None, max_length=32)
    hostnames: list[str] | None = Field(default=None, max_length=16)
    rules: list[HTTPRouteRule] = Field(default_factory=lambda: [HTTPRouteRule()], max_length=16)
