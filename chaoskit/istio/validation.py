"""Istio's semantic validation (what istiod's webhook refuses), as located findings.

The pydantic models enforce shape (types, enums, oneofs). This module adds the rules from
istio/istio ``pkg/config/validation/validation.go``: ranges, required fields, exclusive
actions, duration floors. Each finding carries the dotted path of the offending field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from chaoskit.istio.common import Destination, HeaderOperations, Headers, Percent, StringMatch
from chaoskit.istio.destination_rule import (
    ConnectionPoolSettings,
    DestinationRuleSpec,
    LoadBalancerSettings,
    OutlierDetection,
    TrafficPolicy,
)
from chaoskit.istio.duration import Duration
from chaoskit.istio.gateway import GatewaySpec, Server
from chaoskit.istio.resources import (
    DestinationRule,
    Gateway,
    IstioResource,
    ServiceEntry,
    VirtualService,
)
from chaoskit.istio.service_entry import ServiceEntrySpec
from chaoskit.istio.virtual_service import (
    HTTPFaultInjection,
    HTTPMatchRequest,
    HTTPRetry,
    HTTPRoute,
    L4Route,
    VirtualServiceSpec,
)
from chaoskit.mesh.retry import HTTP_STATUS_CODES
from chaoskit.regex import compile_re2

Level = Literal["Error", "Warning"]

# Envoy retry conditions Istio accepts in `retryOn` (HTTP and gRPC), besides status codes.
RETRY_ON_POLICIES = frozenset(
    {
        "5xx",
        "gateway-error",
        "reset",
        "reset-before-request",
        "connect-failure",
        "retriable-4xx",
        "refused-stream",
        "retriable-status-codes",
        "retriable-headers",
        "envoy-ratelimited",
        "http3-post-connect-failure",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    }
)
GATEWAY_PROTOCOLS = frozenset({"HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "MONGO", "TCP", "TLS"})
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_HEADER_NAME = re.compile(r"^[-_a-z0-9]+$")
_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken at ``path``; Warnings are accepted by Istio but reported."""

    path: str
    message: str
    level: Level = "Error"


class _Findings:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def error(self, path: str, message: str) -> None:
        self.items.append(Finding(path, message, "Error"))

    def warn(self, path: str, message: str) -> None:
        self.items.append(Finding(path, message, "Warning"))


# --- shared checks ---------------------------------------------------------------------------


def _duration(out: _Findings, path: str, value: Duration | None) -> None:
    # Istio's ValidateDuration: at least 1ms, and whole milliseconds only.
    if value is None:
        return
    if value.nanos < _MS:
        out.error(
            path, f"duration {value.text!r} is below the minimum of 1ms; use e.g. '1ms' or more"
        )
    elif value.nanos % _MS:
        out.error(
            path,
            f"duration {value.text!r} has sub-millisecond precision; Istio supports whole ms only",
        )


def _percentage(out: _Findings, path: str, value: Percent | None) -> None:
    if value is None:
        return
    v = value.value
    if v < 0 or v > 100 or 0 < v < 0.0001:
        out.error(
            f"{path}.value",
            f"percentage {v:g} is neither 0.0, nor in range [0.0001, 100.0]",
        )


def _port(out: _Findings, path: str, number: int | None) -> None:
    if number is not None and not 1 <= number <= 65535:
        out.error(path, f"port number {number} must be in the range 1..65535")


def _string_match(out: _Findings, path: str, match: StringMatch | None) -> None:
    if match is None or match.regex is None:
        return
    try:
        compile_re2(match.regex)
    except ValueError as exc:
        out.error(f"{path}.regex", str(exc))


def _host(out: _Findings, path: str, host: str, *, allow_ip: bool = False) -> None:
    if not host:
        out.error(path, "host must not be empty; give a service name such as 'reviews'")
        return
    name = host[2:] if host.startswith("*.") else ("" if host == "*" else host)
    if not name:
        return
    if allow_ip and re.fullmatch(r"[0-9.:/]+", name):
        return
    if "*" in name:
        out.error(
            path,
            f"host {host!r}: a wildcard is allowed only as the whole left-most label "
            "('*.example.com')",
        )
    elif not _DNS1123_SUBDOMAIN.match(name.lower()) or len(name) > 255:
        out.error(path, f"host {host!r} is not a valid DNS name")


def _destination(out: _Findings, path: str, dest: Destination | None) -> None:
    if dest is None:
        out.error(path, "destination is required; add 'destination: {host: <service>}'")
        return
    if not dest.host:
        out.error(f"{path}.host", "destination.host is required; name the service, e.g. 'reviews'")
    else:
        _host(out, f"{path}.host", dest.host)
    if dest.subset is not None and not _DNS1123_LABEL.match(dest.subset):
        out.error(
            f"{path}.subset", f"subset name {dest.subset!r} is invalid: it must be a DNS-1123 label"
        )
    if dest.port is not None:
        _port(out, f"{path}.port.number", dest.port.number)


def _header_ops(out: _Findings, path: str, ops: HeaderOperations | None) -> None:
    if ops is None:
        return
    for kind in ("set", "add"):
        values = getattr(ops, kind) or {}
        for name in values:
            _header_name(out, f"{path}.{kind}.{name}", name)
    for i, name in enumerate(ops.remove or []):
        _header_name(out, f"{path}.remove[{i}]", name)


def _headers(out: _Findings, path: str, headers: Headers | None) -> None:
    if headers is not None:
        _header_ops(out, f"{path}.request", headers.request)
        _header_ops(out, f"{path}.response", headers.response)


def _header_name(out: _Findings, path: str, name: str) -> None:
    if name == "":
        out.error(path, "header name cannot be empty")
    elif not re.fullmatch(r"[-_A-Za-z0-9:]+", name):
        out.error(path, f"header name {name!r} is not a valid header name")


# --- VirtualService --------------------------------------------------------------------------


def validate_virtual_service(spec: VirtualServiceSpec) -> list[Finding]:
    out = _Findings()
    if not spec.hosts:
        out.error("spec.hosts", "virtual service must have at least one host")
    bound_to_mesh = not spec.gateways or "mesh" in spec.gateways
    for i, host in enumerate(spec.hosts):
        if host == "*" and bound_to_mesh:
            out.error(
                f"spec.hosts[{i}]",
                "wildcard host * is not allowed for virtual services bound to the mesh gateway",
            )
        else:
            _host(out, f"spec.hosts[{i}]", host, allow_ip=not bound_to_mesh)
    for i, gateway in enumerate(spec.gateways or []):
        _gateway_name(out, f"spec.gateways[{i}]", gateway)
    if not (spec.http or spec.tls or spec.tcp):
        out.error("spec", "http, tcp or tls must be provided in virtual service")
    for i, route in enumerate(spec.http or []):
        _http_route(out, f"spec.http[{i}]", route)
    l4_routes: tuple[tuple[str, Sequence[L4Route]], ...] = (
        ("tls", spec.tls or []),
        ("tcp", spec.tcp or []),
    )
    for kind, routes in l4_routes:
        for i, l4 in enumerate(routes):
            _weighted_destinations(out, f"spec.{kind}[{i}].route", l4.route or [])
    return out.items


def _gateway_name(out: _Findings, path: str, name: str) -> None:
    if name == "mesh":
        return
    namespace, _, short = name.rpartition("/")
    parts = ([namespace] if namespace else []) + [short]
    if not all(_DNS1123_LABEL.match(p) for p in parts):
        out.error(path, f"invalid gateway name {name!r}: use 'name' or 'namespace/name'")


def _http_route(out: _Findings, path: str, route: HTTPRoute) -> None:
    actions = [
        name
        for name, value in (
            ("route", route.route),
            ("redirect", route.redirect),
            ("directResponse", route.direct_response),
            ("delegate", route.delegate),
        )
        if value
    ]
    if len(actions) > 1:
        out.error(path, f"HTTP route cannot contain both {actions[0]} and {actions[1]}; keep one")
    elif not actions:
        out.error(path, "HTTP route, redirect, directResponse or delegate is required")
    if route.rewrite is not None and route.redirect is not None:
        out.error(f"{path}.rewrite", "HTTP route rule cannot contain both rewrite and redirect")
    for i, match in enumerate(route.match or []):
        _http_match(out, f"{path}.match[{i}]", match)
    _weighted_destinations(out, f"{path}.route", route.route or [])
    for i, dest in enumerate(route.route or []):
        _headers(out, f"{path}.route[{i}].headers", dest.headers)
    if route.redirect is not None:
        _port(out, f"{path}.redirect.port", route.redirect.port)
        code = route.redirect.redirect_code
        if code is not None and code not in (301, 302, 303, 307, 308):
            out.error(
                f"{path}.redirect.redirectCode",
                f"{code} is not a valid redirect code, must be 301, 302, 303, 307, or 308",
            )
    if route.direct_response is not None:
        status = route.direct_response.status
        if not 200 <= status <= 599:
            out.error(
                f"{path}.directResponse.status",
                f"directResponse status {status} must be in range 200-599",
            )
    _duration(out, f"{path}.timeout", route.timeout)
    _retries(out, f"{path}.retries", route.retries)
    _fault(out, f"{path}.fault", route.fault)
    if route.mirror is not None:
        _destination(out, f"{path}.mirror", route.mirror)
    if route.mirror is not None and route.mirrors:
        out.error(
            f"{path}.mirrors", "mirror and mirrors cannot both be set; move mirror into mirrors"
        )
    _percentage(out, f"{path}.mirrorPercentage", route.mirror_percentage)
    if route.mirror_percent is not None and not 0 <= route.mirror_percent <= 100:
        out.error(
            f"{path}.mirrorPercent",
            f"mirrorPercent {route.mirror_percent} must be in range [0, 100]",
        )
    for i, mirror in enumerate(route.mirrors or []):
        _destination(out, f"{path}.mirrors[{i}].destination", mirror.destination)
        _percentage(out, f"{path}.mirrors[{i}].percentage", mirror.percentage)
    _headers(out, f"{path}.headers", route.headers)
    if route.cors_policy is not None:
        _duration(out, f"{path}.corsPolicy.maxAge", route.cors_policy.max_age)
        for i, origin in enumerate(route.cors_policy.allow_origins or []):
            _string_match(out, f"{path}.corsPolicy.allowOrigins[{i}]", origin)


def _http_match(out: _Findings, path: str, match: HTTPMatchRequest) -> None:
    for field in ("uri", "scheme", "method", "authority"):
        _string_match(out, f"{path}.{field}", getattr(match, field))
    if match.uri is not None and match.uri.is_presence_only:
        out.error(f"{path}.uri", "uri match must have exact, prefix or regex")
    for field in ("headers", "withoutHeaders"):
        mapping: dict[str, StringMatch] = (
            match.headers if field == "headers" else match.without_headers
        ) or {}
        for name, value in mapping.items():
            where = f"{path}.{field}.{name}"
            if name.startswith("@request.auth.claims"):
                continue
            if name == "":
                out.error(where, "header name cannot be empty")
            elif not _HEADER_NAME.match(name):
                out.error(
                    where,
                    f"header match name {name!r} is not valid: header names must be lowercase "
                    f"(Envoy lower-cases them), e.g. {name.lower()!r}",
                )
            _string_match(out, where, value)
    for name, value in (match.query_params or {}).items():
        _string_match(out, f"{path}.queryParams.{name}", value)
    _port(out, f"{path}.port", match.port)
    for i, gateway in enumerate(match.gateways or []):
        _gateway_name(out, f"{path}.gateways[{i}]", gateway)


def _weighted_destinations(out: _Findings, path: str, routes: Sequence[object]) -> None:
    total = 0
    for i, dest in enumerate(routes):
        _destination(out, f"{path}[{i}].destination", getattr(dest, "destination", None))
        weight = getattr(dest, "weight", None) or 0
        if weight < 0:
            out.error(f"{path}[{i}].weight", f"weight {weight} < 0; weights must be non-negative")
        total += max(weight, 0)
    if len(routes) > 1 and total == 0:
        out.error(
            path, "total destination weight = 0; give at least one destination a positive weight"
        )


def _retries(out: _Findings, path: str, retries: HTTPRetry | None) -> None:
    if retries is None:
        return
    if retries.attempts < 0:
        out.error(f"{path}.attempts", f"attempts cannot be negative (got {retries.attempts})")
    _duration(out, f"{path}.perTryTimeout", retries.per_try_timeout)
    _duration(out, f"{path}.backoff", retries.backoff)
    for policy in (retries.retry_on or "").split(","):
        policy = policy.strip()
        if not policy or policy in RETRY_ON_POLICIES:
            continue
        # Istio keeps only codes Go's http.StatusText knows (route/retry/retry.go).
        if policy.isdigit() and int(policy) in HTTP_STATUS_CODES:
            continue
        out.error(
            f"{path}.retryOn",
            f"{policy!r} is not a valid retryOn policy; use Envoy conditions such as "
            "5xx, gateway-error, connect-failure, reset, retriable-4xx, or HTTP status codes",
        )
    if retries.attempts == 0 and (retries.per_try_timeout or retries.retry_on):
        out.warn(
            f"{path}.attempts",
            "http retry policy configured when attempts are set to 0 (disabled). "
            "Retry policy will be ignored",
        )


def _fault(out: _Findings, path: str, fault: HTTPFaultInjection | None) -> None:
    if fault is None:
        return
    if fault.delay is None and fault.abort is None:
        out.error(path, "HTTP fault injection must have an abort and/or a delay")
    if fault.delay is not None:
        delay = fault.delay
        _percentage(out, f"{path}.delay.percentage", delay.percentage)
        if delay.percent is not None and not 0 <= delay.percent <= 100:
            out.error(
                f"{path}.delay.percent", f"percentage {delay.percent} must be in range [0, 100]"
            )
        if delay.exponential_delay is not None:
            out.error(
                f"{path}.delay.exponentialDelay",
                "exponentialDelay not supported yet; use fixedDelay",
            )
        elif delay.fixed_delay is None:
            out.error(f"{path}.delay", "delay needs fixedDelay, e.g. 'fixedDelay: 5s'")
        _duration(out, f"{path}.delay.fixedDelay", delay.fixed_delay)
    if fault.abort is not None:
        abort = fault.abort
        _percentage(out, f"{path}.abort.percentage", abort.percentage)
        if abort.http_status is not None and not 200 <= abort.http_status <= 599:
            out.error(
                f"{path}.abort.httpStatus",
                f"HTTP status {abort.http_status} is not in range 200-599",
            )
        if abort.http_status is None and abort.grpc_status is None and abort.http2_error is None:
            out.error(
                f"{path}.abort", "abort needs httpStatus (or grpcStatus), e.g. 'httpStatus: 503'"
            )


# --- DestinationRule -------------------------------------------------------------------------


def validate_destination_rule(spec: DestinationRuleSpec) -> list[Finding]:
    out = _Findings()
    if not spec.host:
        out.error("spec.host", "destination rule must have a host, e.g. 'host: reviews'")
    else:
        _host(out, "spec.host", spec.host)
    _traffic_policy(out, "spec.trafficPolicy", spec.traffic_policy)
    seen: set[str] = set()
    for i, subset in enumerate(spec.subsets or []):
        where = f"spec.subsets[{i}]"
        if not subset.name:
            out.error(f"{where}.name", "subset name is required")
        elif not _DNS1123_LABEL.match(subset.name):
            out.error(
                f"{where}.name",
                f"subset name {subset.name!r} is invalid: it must be a DNS-1123 label",
            )
        elif subset.name in seen:
            out.error(
                f"{where}.name",
                f"duplicate subset name {subset.name!r}; subset names must be unique",
            )
        seen.add(subset.name)
        for key in subset.labels or {}:
            if not key:
                out.error(f"{where}.labels", "label keys cannot be empty")
        _traffic_policy(out, f"{where}.trafficPolicy", subset.traffic_policy)
    return out.items


def _traffic_policy(out: _Findings, path: str, policy: TrafficPolicy | None) -> None:
    if policy is None:
        return
    if not policy.model_fields_set:
        out.error(path, "traffic policy must have at least one field")
    _load_balancer(out, f"{path}.loadBalancer", policy.load_balancer)
    _connection_pool(out, f"{path}.connectionPool", policy.connection_pool)
    _outlier_detection(out, f"{path}.outlierDetection", policy.outlier_detection)
    ports: set[int] = set()
    for i, port_policy in enumerate(policy.port_level_settings or []):
        where = f"{path}.portLevelSettings[{i}]"
        if port_policy.port is None:
            out.error(
                f"{where}.port", "portLevelSettings entry needs a port, e.g. 'port: {number: 9080}'"
            )
        else:
            _port(out, f"{where}.port.number", port_policy.port.number)
            if port_policy.port.number in ports:
                out.error(
                    f"{where}.port",
                    f"duplicate port {port_policy.port.number} in portLevelSettings",
                )
            ports.add(port_policy.port.number)
        _load_balancer(out, f"{where}.loadBalancer", port_policy.load_balancer)
        _connection_pool(out, f"{where}.connectionPool", port_policy.connection_pool)
        _outlier_detection(out, f"{where}.outlierDetection", port_policy.outlier_detection)


def _load_balancer(out: _Findings, path: str, lb: LoadBalancerSettings | None) -> None:
    if lb is None or lb.consistent_hash is None:
        return
    ch = lb.consistent_hash
    if ch.http_cookie is not None:
        if not ch.http_cookie.name:
            out.error(f"{path}.consistentHash.httpCookie.name", "name required for HttpCookie")
        ttl = ch.http_cookie.ttl
        if ttl is not None and ttl.nanos < 0:
            out.error(f"{path}.consistentHash.httpCookie.ttl", "ttl cannot be negative")
    if ch.http_header_name is not None and not ch.http_header_name:
        out.error(f"{path}.consistentHash.httpHeaderName", "httpHeaderName cannot be empty")
    if not ch.hash_keys:
        out.error(
            f"{path}.consistentHash",
            "consistentHash needs a hash key: httpHeaderName, httpCookie, useSourceIp or "
            "httpQueryParameterName",
        )


def _non_negative(out: _Findings, path: str, value: int | None, what: str) -> None:
    if value is not None and value < 0:
        out.error(path, f"{what} must be non-negative (got {value})")


def _connection_pool(out: _Findings, path: str, pool: ConnectionPoolSettings | None) -> None:
    if pool is None:
        return
    if pool.tcp is None and pool.http is None:
        out.error(path, "connection pool must have at least one field")
    if pool.http is not None:
        http = pool.http
        _non_negative(
            out,
            f"{path}.http.http1MaxPendingRequests",
            http.http1_max_pending_requests,
            "http1 max pending requests",
        )
        _non_negative(
            out, f"{path}.http.http2MaxRequests", http.http2_max_requests, "http2 max requests"
        )
        _non_negative(
            out,
            f"{path}.http.maxRequestsPerConnection",
            http.max_requests_per_connection,
            "max requests per connection",
        )
        _non_negative(out, f"{path}.http.maxRetries", http.max_retries, "max retries")
        _non_negative(
            out,
            f"{path}.http.maxConcurrentStreams",
            http.max_concurrent_streams,
            "max concurrent streams",
        )
        _duration(out, f"{path}.http.idleTimeout", http.idle_timeout)
        if http.h2_upgrade_policy == "UPGRADE" and http.use_client_protocol:
            out.error(
                f"{path}.http.useClientProtocol",
                "use client protocol must not be true when h2UpgradePolicy is UPGRADE",
            )
    if pool.tcp is not None:
        tcp = pool.tcp
        _non_negative(out, f"{path}.tcp.maxConnections", tcp.max_connections, "max connections")
        _duration(out, f"{path}.tcp.connectTimeout", tcp.connect_timeout)
        _duration(out, f"{path}.tcp.maxConnectionDuration", tcp.max_connection_duration)
        _duration(out, f"{path}.tcp.idleTimeout", tcp.idle_timeout)


def _outlier_detection(out: _Findings, path: str, od: OutlierDetection | None) -> None:
    if od is None:
        return
    _non_negative(
        out,
        f"{path}.consecutiveErrors",
        od.consecutive_errors,
        "outlier detection consecutive errors",
    )
    _duration(out, f"{path}.interval", od.interval)
    _duration(out, f"{path}.baseEjectionTime", od.base_ejection_time)
    for field, alias, value in (
        ("maxEjectionPercent", "max ejection percent", od.max_ejection_percent),
        ("minHealthPercent", "minimum health percent", od.min_health_percent),
    ):
        if value is not None and not 0 <= value <= 100:
            out.error(f"{path}.{field}", f"{alias} {value} must be in range [0, 100]")


# --- Gateway and ServiceEntry ----------------------------------------------------------------


def validate_gateway(spec: GatewaySpec) -> list[Finding]:
    out = _Findings()
    if not spec.servers:
        out.error("spec.servers", "gateway must have at least one server")
    names: set[str] = set()
    for i, server in enumerate(spec.servers):
        _server(out, f"spec.servers[{i}]", server)
        if server.port is not None and server.port.name:
            if server.port.name in names:
                out.error(
                    f"spec.servers[{i}].port.name",
                    f"port names in servers must be unique: duplicate name {server.port.name}",
                )
            names.add(server.port.name)
    return out.items


def _server(out: _Findings, path: str, server: Server) -> None:
    if not server.hosts:
        out.error(f"{path}.hosts", "server config must contain at least one host")
    for i, host in enumerate(server.hosts):
        namespace, _, name = host.rpartition("/")
        if namespace not in ("", "*", ".") and not _DNS1123_LABEL.match(namespace):
            out.error(
                f"{path}.hosts[{i}]", f"invalid namespace {namespace!r} in gateway host {host!r}"
            )
        _host(out, f"{path}.hosts[{i}]", name, allow_ip=True)
    if server.port is None:
        out.error(f"{path}.port", "port is required")
        return
    _port(out, f"{path}.port.number", server.port.number)
    protocol = server.port.protocol.upper()
    if protocol not in GATEWAY_PROTOCOLS:
        out.error(
            f"{path}.port.protocol",
            f"unrecognized protocol {server.port.protocol!r}; use one of "
            f"{', '.join(sorted(GATEWAY_PROTOCOLS))}",
        )
    tls = server.tls
    if protocol in ("HTTPS", "TLS") and (
        tls is None or (tls.mode is None and not tls.https_redirect)
    ):
        out.error(f"{path}.tls", f"server must have TLS settings for {protocol} protocols")
    if tls is None or tls.mode not in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"):
        return
    if tls.credential_name or tls.credential_names:
        return
    if not tls.server_certificate:
        out.error(f"{path}.tls", f"{tls.mode} TLS requires a server certificate or credentialName")
    elif not tls.private_key:
        out.error(f"{path}.tls", f"{tls.mode} TLS requires a private key")


def validate_service_entry(spec: ServiceEntrySpec) -> list[Finding]:
    out = _Findings()
    if not spec.hosts:
        out.error("spec.hosts", "service entry must have at least one host")
    for i, host in enumerate(spec.hosts):
        _host(out, f"spec.hosts[{i}]", host)
    names: set[str] = set()
    for i, port in enumerate(spec.ports or []):
        _port(out, f"spec.ports[{i}].number", port.number)
        if port.name in names:
            out.error(
                f"spec.ports[{i}].name", f"port names must be unique: duplicate name {port.name}"
            )
        names.add(port.name)
    if spec.resolution == "NONE" and spec.endpoints:
        out.error("spec.endpoints", "no endpoints should be provided for resolution type none")
    if spec.resolution == "STATIC" and not spec.endpoints and spec.workload_selector is None:
        out.error(
            "spec.endpoints",
            "endpoints must be provided if service entry resolution mode is static",
        )
    return out.items


# --- dispatch --------------------------------------------------------------------------------


def validate_metadata(resource: IstioResource) -> Iterable[Finding]:
    name = resource.metadata.name
    if not name:
        yield Finding("metadata.name", "metadata.name is required")
    elif not _DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
        yield Finding(
            "metadata.name",
            f"name {name!r} is invalid: a lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character",
        )
    namespace = resource.metadata.namespace
    if namespace is not None and not _DNS1123_LABEL.match(namespace):
        yield Finding(
            "metadata.namespace", f"namespace {namespace!r} is not a valid DNS-1123 label"
        )


def validate_resource(resource: IstioResource) -> list[Finding]:
    """Every rule of Istio's validating webhook that ``resource`` breaks."""
    findings = list(validate_metadata(resource))
    if isinstance(resource, VirtualService):
        findings += validate_virtual_service(resource.spec)
    elif isinstance(resource, DestinationRule):
        findings += validate_destination_rule(resource.spec)
    elif isinstance(resource, Gateway):
        findings += validate_gateway(resource.spec)
    elif isinstance(resource, ServiceEntry):
        findings += validate_service_entry(resource.spec)
    return findings
