"""VirtualService rules: ValidateVirtualService (virtualservice.go) and agent.ValidateHTTPRetry."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chaoskit.istio.common import Headers
from chaoskit.istio.validation.fields import (
    DNS1123_LABEL,
    HOST_FIX,
    check_destination,
    check_duration,
    check_export_to,
    check_gateway_names,
    check_headers,
    check_labels,
    check_percentage,
    check_port,
    check_regex,
    check_string_match,
    is_authority_header,
    is_ip,
    wildcard_domain_error,
)
from chaoskit.istio.validation.findings import Finding, Findings, go_quote
from chaoskit.istio.virtual_service import (
    HTTPFaultInjection,
    HTTPMatchRequest,
    HTTPRedirect,
    HTTPRetry,
    HTTPRewrite,
    HTTPRoute,
    RouteDestination,
    TCPRoute,
    TLSRoute,
    VirtualServiceSpec,
)
from chaoskit.istio.yaml_source import join_path

# agent/validation.go supportedRetryOnPolicies: Envoy's x-envoy-retry-on and
# x-envoy-retry-grpc-on conditions. Anything else must be an HTTP status code Go knows.
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
# Go's net/http.StatusText: the codes with a name (306 and e.g. 599 have none).
GO_HTTP_STATUS_CODES = frozenset(
    [100, 101, 102, 103, *range(200, 209), 226, *range(300, 306), 307, 308]
) | frozenset([*range(400, 419), *range(421, 427), 428, 429, 431, 451, *range(500, 509), 510, 511])
# pkg/util/grpc.SupportedGRPCStatus
GRPC_STATUSES = frozenset(
    {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND"}
    | {"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION"}
    | {"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
    | {"UNAUTHENTICATED"}
)
CORS_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"}
)
_PSEUDO_HEADERS = frozenset({":method", ":scheme", ":authority", ":path", ":status"})
# RFC 7230 tchar: what validHeaderNameRegex accepts (upper case included: Envoy lower-cases).
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$")
_GO_INT = re.compile(r"^[+-]?[0-9]+$")
_KB = 1024


def _is_jwt_claim(name: str) -> bool:
    # pkg/jwt.ToRoutingClaim
    prefix = "@request.auth.claims"
    if not name.lower().startswith(prefix):
        return False
    rest = name[len(prefix) :]
    return (rest.startswith(".") and len(rest) > 1) or (rest.startswith("[") and rest.endswith("]"))


def _host_matches(a: str, b: str) -> bool:
    # pkg/config/host.Name.Matches
    if a.startswith("*") and b.startswith("*"):
        short, long_ = sorted((a, b), key=len)
        return long_[1:].endswith(short[1:])
    if a.startswith("*"):
        return b.endswith(a[1:])
    if b.startswith("*"):
        return a.endswith(b[1:])
    return a == b


def validate_virtual_service(
    spec: VirtualServiceSpec, namespace: str | None = None
) -> list[Finding]:
    out = Findings()
    delegate = not spec.hosts
    if delegate:
        # A VirtualService without hosts is a delegate (referenced by another's `delegate`).
        for field, value in (("gateways", spec.gateways), ("tls", spec.tls), ("tcp", spec.tcp)):
            if value:
                what = f"{field} route" if field != "gateways" else field
                out.error(
                    f"spec.{field}",
                    f"delegate virtual service must have no {what} specified",
                    "a VirtualService without hosts is a delegate; add 'hosts' (e.g. "
                    "['reviews'] or ['*'] behind a gateway) or remove this field",
                )
    applies_to_gateway = bool(spec.gateways) and "mesh" not in (spec.gateways or [])
    if spec.gateways:
        check_gateway_names(out, "spec.gateways", spec.gateways)
    if not applies_to_gateway:
        for i, route in enumerate(spec.http or []):
            for j, match in enumerate(route.match or []):
                for field, mapping in (
                    ("headers", match.headers),
                    ("withoutHeaders", match.without_headers),
                ):
                    for key in mapping or {}:
                        if _is_jwt_claim(key):
                            out.error(
                                join_path(f"spec.http[{i}].match[{j}].{field}", key),
                                f"JWT claim based routing (key: {key}) is only supported for "
                                f"gateway, found no gateways: [{' '.join(spec.gateways or [])}]",
                                "bind the VirtualService to an ingress Gateway",
                            )
    sni = any(m.sni_hosts for t in spec.tls or [] for m in t.match)
    all_valid = True
    for i, host in enumerate(spec.hosts):
        if applies_to_gateway and sni and host.startswith("outbound_"):
            continue  # AUTO_PASSTHROUGH's generated SNI names
        err = wildcard_domain_error(host)
        if err is not None:
            if not is_ip(host):
                out.error(f"spec.hosts[{i}]", err, HOST_FIX)
                all_valid = False
        elif not applies_to_gateway and host == "*":
            out.error(
                f"spec.hosts[{i}]",
                "wildcard host * is not allowed for virtual services bound to the mesh gateway",
                "name the service ('reviews'), or bind the VirtualService to a Gateway",
            )
            all_valid = False
    if all_valid:
        for i, a in enumerate(spec.hosts):
            for b in spec.hosts[i + 1 :]:
                if _host_matches(a, b):
                    out.error(
                        f"spec.hosts[{i}]",
                        f"duplicate hosts in virtual service: {a} & {b}",
                        "list each host once",
                    )
    if not (spec.http or spec.tls or spec.tcp):
        out.error(
            "spec",
            "http, tcp or tls must be provided in virtual service",
            "add an 'http' list with at least one route",
        )
    for i, route in enumerate(spec.http or []):
        _http_route(out, f"spec.http[{i}]", route, delegate=delegate)
    for i, tls in enumerate(spec.tls or []):
        _tls_route(out, f"spec.tls[{i}]", tls, spec, applies_to_gateway)
    for i, tcp in enumerate(spec.tcp or []):
        _tcp_route(out, f"spec.tcp[{i}]", tcp)
    check_export_to(out, namespace, spec.export_to)
    return out.items


def _http_route(out: Findings, path: str, route: HTTPRoute, *, delegate: bool) -> None:
    _http_route_conflicts(out, path, route, delegate=delegate)
    for i, match in enumerate(route.match or []):
        _http_match(out, f"{path}.match[{i}]", match)
    check_headers(out, f"{path}.headers", route.headers)
    if route.cors_policy is not None:
        cors = route.cors_policy
        for i, origin in enumerate(cors.allow_origins or []):
            value = origin.exact or origin.prefix or origin.regex or ""
            where = f"{path}.corsPolicy.allowOrigins[{i}]"
            if not value:
                out.error(
                    where,
                    f"'{value}' is not a valid match type for CORS allow origins",
                    "give an exact, prefix or regex origin",
                )
            elif origin.regex is not None:
                check_regex(out, f"{where}.regex", origin.regex, "corsPolicy.allowOrigins")
        for i, method in enumerate(cors.allow_methods or []):
            if method not in CORS_METHODS:
                out.error(
                    f"{path}.corsPolicy.allowMethods[{i}]",
                    f"{go_quote(method)} is not a supported HTTP method",
                    f"use one of {', '.join(sorted(CORS_METHODS))}",
                )
        for field, names in (
            ("allowHeaders", cors.allow_headers),
            ("exposeHeaders", cors.expose_headers),
        ):
            for i, name in enumerate(names or []):
                if name == "":
                    out.error(f"{path}.corsPolicy.{field}[{i}]", "header name cannot be empty")
                elif name != "*" and not _HEADER_NAME.match(name):
                    out.error(
                        f"{path}.corsPolicy.{field}[{i}]",
                        f"header name {name} is not a valid header name",
                        "header names are RFC 7230 tokens (no spaces or separators)",
                    )
        if cors.max_age is not None:
            check_duration(out, f"{path}.corsPolicy.maxAge", cors.max_age)
            if cors.max_age.nanos % 1_000_000_000:
                out.error(
                    f"{path}.corsPolicy.maxAge",
                    "max_age duration is accurate only to seconds precision",
                    "use whole seconds, e.g. '24h' or '600s'",
                )
    _fault(out, f"{path}.fault", route.fault)
    if route.mirror_percent is not None:
        if route.mirror_percent > 100:
            out.error(
                f"{path}.mirrorPercent",
                f"mirror_percent must have a max value of 100 (it has {route.mirror_percent})",
                "use mirrorPercentage with a value from 0 to 100",
            )
        out.warn(
            f"{path}.mirrorPercent",
            'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead',
            f"write 'mirrorPercentage: {{value: {route.mirror_percent}}}'",
        )
    if route.mirror_percentage is not None:
        v = route.mirror_percentage.value
        if v > 100:
            out.error(
                f"{path}.mirrorPercentage.value",
                f"mirror_percentage must have a max value of 100 (it has {v:f})",
                "use a value from 0 to 100",
            )
        if v < 0:
            out.error(
                f"{path}.mirrorPercentage.value",
                f"mirror_percentage must have a min value of 0 (it has {v:f})",
                "use a value from 0 to 100",
            )
    check_destination(out, f"{path}.mirror", route.mirror)
    for i, mirror in enumerate(route.mirrors or []):
        where = f"{path}.mirrors[{i}]"
        if mirror.destination is None:
            out.error(where, "destination is required for mirrors", "add 'destination: {host: …}'")
            continue
        check_destination(out, f"{where}.destination", mirror.destination)
        if mirror.percentage is not None:
            v = mirror.percentage.value
            if v > 100:
                out.error(
                    f"{where}.percentage.value",
                    f"mirror percentage must have a max value of 100 (it has {v:f})",
                    "use a value from 0 to 100",
                )
            if v < 0:
                out.error(
                    f"{where}.percentage.value",
                    f"mirror percentage must have a min value of 0 (it has {v:f})",
                    "use a value from 0 to 100",
                )
    _redirect(out, f"{path}.redirect", route.redirect, route.match or [])
    if route.direct_response is not None:
        dr = route.direct_response
        body = dr.body.string or dr.body.bytes or "" if dr.body is not None else ""
        if len(body) > _KB * _KB:
            out.error(
                f"{path}.directResponse.body",
                "large direct_responses may impact control plane performance, must be less than "
                "1MB",
                "serve large bodies from a service",
            )
        elif len(body) > 100 * _KB:
            out.warn(
                f"{path}.directResponse.body",
                "large direct_responses may impact control plane performance",
                "serve large bodies from a service",
            )
        _http_status(out, f"{path}.directResponse.status", dr.status)
    _retries(out, f"{path}.retries", route.retries)
    _rewrite(out, f"{path}.rewrite", route.rewrite, route.headers)
    _http_route_destinations(out, f"{path}.route", route)
    check_duration(out, f"{path}.timeout", route.timeout)


def _http_route_conflicts(out: Findings, path: str, route: HTTPRoute, *, delegate: bool) -> None:
    # validateHTTPRouteConflict
    name = route.name or ""
    if route.delegate is not None and not delegate:
        for action, given in (("redirect", route.redirect), ("route", route.route)):
            if given is not None:
                out.error(
                    f"{path}.{action}",
                    f"root HTTP route {name} must not specify {action}",
                    "a rule with 'delegate' hands routing to the delegate; remove this field",
                )
        return
    if delegate and route.delegate is not None:
        out.error(
            f"{path}.delegate",
            "delegate HTTP route cannot contain delegate",
            "delegation is one level deep; route here instead",
        )
    conflicts: tuple[tuple[str, object, str], ...] = ()
    if route.redirect is not None:
        conflicts = (
            ("route", route.route, "HTTP route cannot contain both route and redirect"),
            ("fault", route.fault, "HTTP route cannot contain both fault and redirect"),
            ("rewrite", route.rewrite, "HTTP route rule cannot contain both rewrite and redirect"),
            (
                "directResponse",
                route.direct_response,
                "HTTP route rule cannot contain both direct_response and redirect",
            ),
        )
        for field, value, text in conflicts:
            if value:
                out.error(path, text, f"a redirect answers by itself; remove '{field}'")
    elif route.direct_response is not None:
        conflicts = (
            ("route", route.route, "HTTP route cannot contain both route and direct_response"),
            ("fault", route.fault, "HTTP route cannot contain both fault and direct_response"),
            (
                "rewrite",
                route.rewrite,
                "HTTP route rule cannot contain both rewrite and direct_response",
            ),
        )
        for field, value, text in conflicts:
            if value:
                out.error(path, text, f"a direct response answers by itself; remove '{field}'")
    elif not route.route and route.delegate is None:
        out.error(
            path,
            "HTTP route, redirect or direct_response is required",
            "add 'route: [{destination: {host: <service>}}]'",
        )
    if route.mirror is not None and route.mirrors:
        out.error(
            path,
            "HTTP route cannot contain both mirror and mirrors",
            "move 'mirror' into the 'mirrors' list",
        )


def _http_match(out: Findings, path: str, match: HTTPMatchRequest) -> None:
    # validateHTTPRouteMatchRequest
    for field, mapping in (("headers", match.headers), ("withoutHeaders", match.without_headers)):
        for name, value in (mapping or {}).items():
            where = join_path(f"{path}.{field}", name) if name else f"{path}.{field}"
            if name == "":
                out.error(where, "header name cannot be empty", "name the header")
            elif not (_is_jwt_claim(name) or name in _PSEUDO_HEADERS or _HEADER_NAME.match(name)):
                out.error(
                    where,
                    f"header name {name} is not a valid header name",
                    "header names are RFC 7230 tokens: letters, digits and !#$%&'*+-.^_`|~ "
                    "(no spaces or ':')",
                )
            if field == "withoutHeaders" and value.regex == "*":
                continue  # `*` means "present", not a regex
            check_string_match(out, where, value, field)
    check_string_match(out, f"{path}.uri", match.uri, "uri", empty_prefix=True)
    for field in ("scheme", "method", "authority"):
        check_string_match(out, f"{path}.{field}", getattr(match, field), field)
    for name, value in (match.query_params or {}).items():
        check_string_match(out, join_path(f"{path}.queryParams", name), value, "queryParams")
    if match.port:
        check_port(out, f"{path}.port", match.port)
    check_labels(out, f"{path}.sourceLabels", match.source_labels)
    if match.gateways:
        check_gateway_names(out, f"{path}.gateways", match.gateways)
    if match.source_namespace and not DNS1123_LABEL.match(match.source_namespace):
        out.error(
            f"{path}.sourceNamespace",
            f"sourceNamespace match {match.source_namespace} is invalid",
            "use a namespace name",
        )


def _http_route_destinations(out: Findings, path: str, route: HTTPRoute) -> None:
    # validateHTTPRouteDestinations
    total = 0
    dests = route.route or []
    for i, dest in enumerate(dests):
        where = f"{path}[{i}]"
        if dest.destination is None:
            out.error(where, "destination is required", "add 'destination: {host: <service>}'")
        check_headers(out, f"{where}.headers", dest.headers)
        check_destination(out, f"{where}.destination", dest.destination)
        weight = dest.weight or 0
        if weight < 0:
            out.error(f"{where}.weight", f"weight {weight} < 0", "weights are 0 or more")
        total += weight
    if len(dests) > 1 and total == 0:
        out.error(
            path,
            "total destination weight = 0",
            "give at least one destination a positive weight (weights are relative)",
        )


def _route_destinations(out: Findings, path: str, dests: Sequence[RouteDestination]) -> None:
    # validateRouteDestinations (TLS and TCP routes)
    total = 0
    for i, dest in enumerate(dests):
        if dest.destination is None:
            out.error(f"{path}[{i}]", "destination is required", "add 'destination: {host: …}'")
        check_destination(out, f"{path}[{i}].destination", dest.destination)
        weight = dest.weight or 0
        if weight < 0:
            out.error(f"{path}[{i}].weight", f"weight {weight} < 0", "weights are 0 or more")
        total += weight
    if len(dests) > 1 and total == 0:
        out.error(path, "total destination weight = 0", "give a destination a positive weight")


def _tls_route(
    out: Findings, path: str, tls: TLSRoute, spec: VirtualServiceSpec, to_gateway: bool
) -> None:
    if not tls.match:
        out.error(
            f"{path}.match",
            "TLS route must have at least one match condition",
            "add 'match: [{sniHosts: [...]}]'",
        )
    for i, match in enumerate(tls.match):
        where = f"{path}.match[{i}]"
        if not match.sni_hosts:
            out.error(where, "TLS match must have at least one SNI host", "add 'sniHosts'")
        for j, sni in enumerate(match.sni_hosts):
            err = wildcard_domain_error(sni)
            if err is not None and not (to_gateway and sni.startswith("outbound_")):
                if is_ip(sni):
                    out.warn(
                        f"{where}.sniHosts[{j}]",
                        f"using an IP address ({go_quote(sni)}) goes against SNI spec and most "
                        "clients do not support this",
                        "use a DNS name",
                    )
                else:
                    out.error(f"{where}.sniHosts[{j}]", err, HOST_FIX)
            elif err is None and not any(_sni_subset_of(sni, h) for h in spec.hosts):
                out.error(
                    f"{where}.sniHosts[{j}]",
                    f"SNI host {go_quote(sni)} is not a compatible subset of any of the virtual "
                    f"service hosts: [{', '.join(spec.hosts)}]",
                    "use one of the VirtualService's hosts (or a name under its wildcard)",
                )
        if match.port:
            check_port(out, f"{where}.port", match.port)
        check_labels(out, f"{where}.sourceLabels", match.source_labels)
        if match.gateways:
            check_gateway_names(out, f"{where}.gateways", match.gateways)
    if not tls.route:
        out.error(f"{path}.route", "TLS route is required", "add 'route'")
    _route_destinations(out, f"{path}.route", tls.route or [])


def _sni_subset_of(sni: str, host: str) -> bool:
    # host.Name.SubsetOf: a wildcard may only cover a name below it.
    if host.startswith("*"):
        return sni.endswith(host[1:]) if not sni.startswith("*") else sni[1:].endswith(host[1:])
    return sni == host


def _tcp_route(out: Findings, path: str, tcp: TCPRoute) -> None:
    for i, match in enumerate(tcp.match or []):
        if match.port:
            check_port(out, f"{path}.match[{i}].port", match.port)
        check_labels(out, f"{path}.match[{i}].sourceLabels", match.source_labels)
        if match.gateways:
            check_gateway_names(out, f"{path}.match[{i}].gateways", match.gateways)
    if not tcp.route:
        out.error(f"{path}.route", "TCP route is required", "add 'route'")
    _route_destinations(out, f"{path}.route", tcp.route or [])


def _redirect(
    out: Findings, path: str, redirect: HTTPRedirect | None, matches: Sequence[HTTPMatchRequest]
) -> None:
    # validateHTTPRedirect returns at its first error; so does this.
    if redirect is None:
        return
    if not (
        redirect.uri
        or redirect.authority
        or redirect.port is not None
        or redirect.derive_port
        or redirect.scheme
    ):
        out.error(
            path,
            "redirect must specify URI, authority, scheme, or port",
            "add e.g. 'uri: /new-path' or 'scheme: https'",
        )
        return
    if redirect.redirect_code and not 300 <= redirect.redirect_code <= 399:
        out.error(
            f"{path}.redirectCode",
            f"{redirect.redirect_code} is not a valid redirect code, must be 3xx",
            "use 301, 302, 303, 307 or 308",
        )
        return
    if redirect.scheme and redirect.scheme not in ("http", "https"):
        out.error(
            f"{path}.scheme",
            'invalid redirect scheme, must be "http" or "https"',
            "use 'http' or 'https'",
        )
        return
    if redirect.port is not None and redirect.port > 0:
        check_port(out, f"{path}.port", redirect.port)


def _rewrite(
    out: Findings, path: str, rewrite: HTTPRewrite | None, headers: Headers | None
) -> None:
    # validateHTTPRewrite and validateAuthorityRewrite
    if rewrite is not None:
        regex = rewrite.uri_regex_rewrite
        if rewrite.uri and regex is not None:
            out.error(
                path,
                "rewrite may only contain one of URI or UriRegexRewrite",
                "keep 'uri' or 'uriRegexRewrite'",
            )
        elif not rewrite.uri and regex is None and not rewrite.authority:
            out.error(
                path,
                "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only "
                "one of URI or UriRegexRewrite may be specified",
                "add 'uri' or 'authority', or remove the rewrite",
            )
        elif regex is not None:
            if not regex.match or not regex.rewrite:
                out.error(
                    f"{path}.uriRegexRewrite",
                    "UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite and "
                    "Match fields to be specified",
                    "give both 'match' and 'rewrite'",
                )
            else:
                check_regex(
                    out,
                    f"{path}.uriRegexRewrite.match",
                    regex.match,
                    "HTTPRewrite.UriRegexRewrite.Match",
                )
    current = rewrite.authority if rewrite is not None and rewrite.authority else ""
    request = headers.request if headers is not None else None
    for kind in ("set", "add"):
        for name, value in ((getattr(request, kind) if request else None) or {}).items():
            if not is_authority_header(name):
                continue
            if current:
                out.error(
                    f"{path.rpartition('.')[0]}.headers.request.{kind}.{name}",
                    f"authority header cannot be set multiple times: have {go_quote(current)}, "
                    f"attempting to set {go_quote(value)}",
                    "set the authority in one place only",
                )
            current = value


def _retries(out: Findings, path: str, retries: HTTPRetry | None) -> None:
    # agent.ValidateHTTPRetry
    if retries is None:
        return
    if retries.attempts < 0:
        out.error(f"{path}.attempts", "attempts cannot be negative", "use 0 (no retries) or more")
    if retries.attempts == 0 and (
        retries.per_try_timeout is not None
        or retries.retry_on
        or retries.retry_remote_localities is not None
    ):
        out.error(
            f"{path}.attempts",
            "http retry policy configured when attempts are set to 0 (disabled)",
            "set attempts to 1 or more, or remove perTryTimeout, retryOn and retryRemoteLocalities",
        )
    check_duration(out, f"{path}.perTryTimeout", retries.per_try_timeout)
    if retries.retry_on:
        # Istio splits on "," and does not trim: "5xx, reset" has the policy " reset".
        for policy in retries.retry_on.split(","):
            if policy in RETRY_ON_POLICIES:
                continue
            if _GO_INT.match(policy) and int(policy) in GO_HTTP_STATUS_CODES:
                continue
            out.error(
                f"{path}.retryOn",
                f"{go_quote(policy)} is not a valid retryOn policy",
                "use comma-separated Envoy conditions without spaces (5xx, gateway-error, reset, "
                "connect-failure, retriable-4xx, refused-stream, …) or HTTP status codes",
            )
    check_duration(out, f"{path}.backoff", retries.backoff)


def _http_status(out: Findings, path: str, status: int) -> None:
    # validateHTTPStatus accepts 200..600 although its text says 200-599 (Envoy wants < 600).
    if status < 200 or status > 600:
        out.error(
            path,
            f"HTTP status {status} is not in range 200-599",
            "use an HTTP status from 200 to 599, e.g. 503",
        )


def _fault(out: Findings, path: str, fault: HTTPFaultInjection | None) -> None:
    # validateHTTPFaultInjection. The deprecated integer `percent` is not validated by Istio.
    if fault is None:
        return
    if fault.delay is None and fault.abort is None:
        out.error(
            path,
            "HTTP fault injection must have an abort and/or a delay",
            "add 'delay: {fixedDelay: 5s, percentage: {value: 10}}' or an 'abort'",
        )
    abort = fault.abort
    if abort is not None:
        check_percentage(out, f"{path}.abort.percentage", abort.percentage)
        if abort.grpc_status is not None:
            if abort.grpc_status not in GRPC_STATUSES:
                out.error(
                    f"{path}.abort.grpcStatus",
                    f"gRPC status {go_quote(abort.grpc_status)} is not supported. See "
                    "https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of "
                    "supported codes, for example 'NOT_FOUND'",
                    f"use one of {', '.join(sorted(GRPC_STATUSES))}",
                )
        elif abort.http2_error is not None:
            out.error(
                f"{path}.abort.http2Error",
                "HTTP/2 abort fault injection not supported yet",
                "use httpStatus or grpcStatus",
            )
        elif abort.http_status is not None:
            _http_status(out, f"{path}.abort.httpStatus", abort.http_status)
        else:
            out.warn(
                f"{path}.abort",
                "abort configured, but error type not set",
                "add 'httpStatus: 503' (or grpcStatus)",
            )
    delay = fault.delay
    if delay is not None:
        check_percentage(out, f"{path}.delay.percentage", delay.percentage)
        if delay.fixed_delay is not None:
            check_duration(out, f"{path}.delay.fixedDelay", delay.fixed_delay)
        elif delay.exponential_delay is not None:
            check_duration(out, f"{path}.delay.exponentialDelay", delay.exponential_delay)
            out.error(
                f"{path}.delay.exponentialDelay",
                "exponentialDelay not supported yet",
                "use fixedDelay",
            )
