"""Istio's semantic validation (what istiod's webhook refuses or warns about), as located findings.

The pydantic models enforce shape (types, enums, oneofs, unknown fields: the CRD schema's
job). This module adds the rules of istio/istio ``pkg/config/validation`` (``validation.go``,
``virtualservice.go`` and ``agent/validation.go``): ranges, required fields, exclusive
actions, duration floors. Messages use Istio's wording; ``fix`` is chaoskit's hint. Errors
become IST0106 (SchemaValidationError), warnings IST0133 (SchemaWarning), as istioctl's
schema analyzer reports them. See docs/istio-validation-notes.md.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from chaoskit.istio.common import Destination, HeaderOperations, Headers, Percent, StringMatch
from chaoskit.istio.destination_rule import (
    ClientTLSSettings,
    ConnectionPoolSettings,
    DestinationRuleSpec,
    LoadBalancerSettings,
    OutlierDetection,
    TrafficPolicy,
)
from chaoskit.istio.duration import Duration
from chaoskit.istio.gateway import GatewaySpec, Server, ServerTLSSettings
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
from chaoskit.regex import compile_re2

Level = Literal["Error", "Warning"]

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
# pkg/config/protocol.Parse (case-insensitive); anything else is "unsupported".
PROTOCOLS = frozenset(
    {"tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls"}
    | {"mongo", "redis", "mysql"}
)
_HTTP_PROTOCOLS = frozenset({"http", "http2", "http_proxy", "grpc", "grpc-web"})
_TLS_PROTOCOLS = frozenset({"https", "tls"})
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

# pkg/config/labels: DNS-1123 labels here allow upper case (Istio's own regex).
_DNS1123_LABEL_FMT = r"[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?"
_DNS1123_LABEL = re.compile(rf"^{_DNS1123_LABEL_FMT}$")
_WILDCARD_LABEL = re.compile(rf"^(\*|(\*|\*-)?{_DNS1123_LABEL_FMT})$")
_QUALIFIED_NAME = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY = re.compile(
    rf"^({_DNS1123_LABEL_FMT}(?:\.{_DNS1123_LABEL_FMT})*/)?({_QUALIFIED_NAME})$"
)
_LABEL_VALUE = re.compile(rf"^({_QUALIFIED_NAME})?$")
# Kubernetes object names (the API server's rule, before the webhook).
_K8S_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_K8S_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# RFC 7230 tchar: what validHeaderNameRegex accepts (upper case included: Envoy lower-cases).
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$")
_HEADER_VALUE = re.compile("^[^\x00-\x08\x0a-\x1f\x7f]*$")
_GO_INT = re.compile(r"^[+-]?[0-9]+$")
_MS = 1_000_000
_KB = 1024


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken at ``path``: Istio's ``message``, chaoskit's ``fix``.

    Errors are refused by Istio's webhook (IST0106); Warnings are accepted but reported
    (IST0133).
    """

    path: str
    message: str
    level: Level = "Error"
    fix: str = ""


class _Findings:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def error(self, path: str, message: str, fix: str = "") -> None:
        self.items.append(Finding(path, message, "Error", fix))

    def warn(self, path: str, message: str, fix: str = "") -> None:
        self.items.append(Finding(path, message, "Warning", fix))


# --- Go's formatting, so texts read as istiod prints them ---------------------------------


def _q(text: str) -> str:
    """Go's ``%q``."""
    return json.dumps(text, ensure_ascii=False)


def _go_float(value: float) -> str:
    """Go's ``%v`` for a float64: shortest digits, exponent form below 1e-4 or from 1e6 on."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    decimal_exp = len(digits) + exponent - 1
    if decimal_exp < -4 or decimal_exp >= 6:
        rest = "".join(map(str, digits[1:]))
        mantissa = f"{'-' if sign else ''}{digits[0]}{'.' + rest if rest else ''}"
        return f"{mantissa}e{'-' if decimal_exp < 0 else '+'}{abs(decimal_exp):02d}"
    return format(Decimal(repr(value)).normalize(), "f")


# --- shared checks (agent/validation.go and validation.go helpers) ------------------------


def _duration(out: _Findings, path: str, value: Duration | None) -> None:
    # agent.ValidateDuration: at least 1ms, whole milliseconds.
    if value is None:
        return
    if value.nanos < _MS:
        out.error(
            path,
            "duration must be greater than 1ms",
            f"{value.text!r} is below Istio's 1 ms floor; use e.g. '1ms', '500ms' or '5s'",
        )
    elif value.nanos % _MS:
        out.error(
            path,
            "only durations to ms precision are supported",
            f"round {value.text!r} to whole milliseconds",
        )


def _percentage(out: _Findings, path: str, value: Percent | None) -> None:
    # validatePercentage (fault injection percentages).
    if value is None:
        return
    v = value.value
    if v < 0 or v > 100 or 0 < v < 0.0001:
        out.error(
            f"{path}.value",
            f"percentage {_go_float(v)} is neither 0.0, nor in range [0.0001, 100.0]",
            "give a percentage from 0 to 100, e.g. 'value: 10'",
        )


def _percent(out: _Findings, path: str, value: int | None) -> None:
    # ValidatePercent (integer percentages of outlier detection).
    if value is not None and not 0 <= value <= 100:
        out.error(path, f"percentage {value} is not in range 0..100", "use a value from 0 to 100")


def _port(out: _Findings, path: str, number: int) -> None:
    if not 1 <= number <= 65535:
        out.error(
            path,
            f"port number {number} must be in the range 1..65535",
            "use a port from 1 to 65535",
        )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _dns1123_labels_error(domain: str) -> str | None:
    # agent.ValidateDNS1123Labels
    parts = domain.split(".")
    if parts[-1].isdigit():
        return (
            f"domain name {_q(domain)} invalid (top level domain {_q(parts[-1])} cannot be "
            "all-numeric)"
        )
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            return None  # a trailing dot ("istio.io.") is allowed
        if len(label) > 63 or not _DNS1123_LABEL.match(label):
            return f"domain name {_q(domain)} invalid (label {_q(label)} invalid)"
    return None


def wildcard_domain_error(domain: str) -> str | None:
    """agent.ValidateWildcardDomain: an FQDN or short name, a wildcard only as first label."""
    if len(domain) > 255:
        return f"domain name {_q(domain)} too long (max 255)"
    if not domain:
        return "empty domain name not allowed"
    first, dot, rest = domain.partition(".")
    if len(first) > 63 or not _WILDCARD_LABEL.match(first):
        return f"domain name {_q(domain)} invalid (label {_q(first)} invalid)"
    return _dns1123_labels_error(rest) if dot else None


def _fqdn_error(name: str) -> str | None:
    # agent.ValidateFQDN
    if len(name) > 255:
        return f"domain name {_q(name)} too long (max 255)"
    if not name:
        return "empty domain name not allowed"
    return _dns1123_labels_error(name)


_HOST_FIX = "use a service name ('reviews'), an FQDN, or a wildcard as the first label only"


def _label_map(out: _Findings, path: str, labels: Mapping[str, str] | None) -> None:
    # labels.Instance.Validate: Kubernetes label syntax for keys and values.
    for key, value in (labels or {}).items():
        match = _LABEL_KEY.match(key)
        if match is None or len(match.group(2)) > 63 or len(match.group(1) or "") > 254:
            out.error(
                join_path(path, key) if key else path,
                f"invalid tag key: {_q(key)}",
                "label keys are Kubernetes label names, e.g. 'version' or 'app.kubernetes.io/name'",
            )
        if not _LABEL_VALUE.match(value) or len(value) > 63:
            out.error(
                join_path(path, key) if key else path,
                f"invalid tag value: {_q(value)}",
                "label values are up to 63 letters, digits, '-', '_' or '.', starting and ending "
                "with a letter or digit",
            )


def _destination(out: _Findings, path: str, dest: Destination | None) -> None:
    # validateDestination
    if dest is None:
        return
    if dest.host == "*":
        out.error(
            f"{path}.host",
            f"invalid destination host {dest.host}",
            "name the service to route to, e.g. 'reviews'",
        )
    elif (err := wildcard_domain_error(dest.host)) is not None:
        out.error(f"{path}.host", err, _HOST_FIX)
    if dest.subset:
        _subset_name(out, f"{path}.subset", dest.subset)
    if dest.port is not None:
        _port(out, f"{path}.port.number", dest.port.number)


def _subset_name(out: _Findings, path: str, name: str) -> None:
    if not name:
        out.error(path, "subset name cannot be empty", "name the subset, e.g. 'v1'")
    elif len(name) > 63 or not _DNS1123_LABEL.match(name):
        out.error(
            path,
            f"subset name is invalid: {name}",
            "subset names are DNS-1123 labels: letters, digits and '-', e.g. 'v1' or 'canary'",
        )


def _header_value(out: _Findings, path: str, value: str) -> None:
    # ValidateHTTPHeaderValue: no control characters, and Envoy's %VAR% syntax.
    if not _HEADER_VALUE.match(value):
        out.error(
            path, f"header value configuration {value} is invalid", "remove control characters"
        )
        return
    problem = _header_value_syntax(value)
    if problem:
        out.error(
            path,
            f"header value configuration: {problem}",
            "write a literal '%' as '%%'; variables are '%NAME%' or '%NAME(args)%'",
        )


def _header_value_syntax(value: str) -> str | None:
    # header_value_validator.go: Envoy's custom header formatter, as a small state machine.
    state, pos = "literal", 0
    while pos < len(value):
        ch, has_next = value[pos], pos + 1 < len(value)
        if state == "literal":
            if ch == "%":
                if not has_next:
                    return "invalid header configuration. Un-escaped %"
                if value[pos + 1] == "%":
                    pos += 1
                else:
                    state = "name"
        elif state == "name":
            state = {"%": "literal", "(": "array"}.get(ch, "name")
        elif state == "array":
            state = "string_start" if ch == "[" else ("array" if ch == " " else "string")
        elif state == "delimiter":
            if ch == ",":
                state = "string_start"
            elif ch == "]":
                state = "args_end"
            elif ch != " ":
                return "invalid header configuration. Expecting ',', ']', or whitespace"
        elif state == "string_start":
            if ch == '"':
                state = "string"
            elif ch != " ":
                return "invalid header configuration. Expecting '\"'"
        elif state == "string":
            if ch == "\\":
                if not has_next:
                    return "invalid header configuration. Un-terminated backslash in JSON string"
                pos += 1
            elif ch == ")":
                state = "var_end"
            elif ch == '"':
                state = "delimiter"
        elif state == "args_end":
            if ch == ")":
                state = "var_end"
            elif ch != " ":
                return (
                    "invalid header configuration. Expecting ')' or whitespace after '{}', "
                    "but found '{}'"
                )
        elif state == "var_end":
            if ch == "%":
                state = "literal"
            elif ch != " ":
                return "invalid header configuration. Expecting '%' or whitespace after"
        pos += 1
    if state != "literal":
        return f"invalid header configuration. Un-terminated variable expression '{value}'"
    return None


def _is_internal_header(name: str) -> bool:
    return name.startswith(":") or name.lower() == "host"


def _is_authority_header(name: str) -> bool:
    return name.lower() in (":authority", "host")


def _header_ops(out: _Findings, path: str, ops: HeaderOperations | None, *, request: bool) -> None:
    if ops is None:
        return
    for kind in ("set", "add"):
        for name, value in (getattr(ops, kind) or {}).items():
            where = join_path(f"{path}.{kind}", name)
            if request:
                _header_op_name_with_authority(out, where, name)
            else:
                _header_op_name(out, where, name)
            _header_value(out, where, value)
    for i, name in enumerate(ops.remove or []):
        _header_op_name(out, f"{path}.remove[{i}]", name)


def _header_op_name_with_authority(out: _Findings, path: str, name: str) -> None:
    # ValidateHTTPHeaderWithAuthorityOperationName (request set/add)
    if name == "":
        out.error(path, "header name cannot be empty", "name the header")
    elif _is_internal_header(name) and not _is_authority_header(name):
        out.error(
            path,
            f'invalid header {_q(name)}: header cannot have ":" prefix',
            "pseudo-headers other than :authority cannot be modified",
        )


def _header_op_name(out: _Findings, path: str, name: str) -> None:
    # ValidateHTTPHeaderOperationName (request remove, every response operation)
    if name == "":
        out.error(path, "header name cannot be empty", "name the header")
    elif name.lower() == "host":
        out.error(
            path,
            f"invalid header {_q(name)}: cannot set Host header",
            "rewrite the authority with 'rewrite.authority' instead",
        )
    elif _is_internal_header(name):
        out.error(
            path,
            f'invalid header {_q(name)}: header cannot have ":" prefix',
            "pseudo-headers cannot be modified here",
        )


def _headers(out: _Findings, path: str, headers: Headers | None) -> None:
    if headers is not None:
        _header_ops(out, f"{path}.request", headers.request, request=True)
        _header_ops(out, f"{path}.response", headers.response, request=False)


def _regex(out: _Findings, path: str, regex: str, where: str) -> None:
    # validateStringRegexp: at most 1024 characters, RE2 syntax.
    if len(regex) > 1024:
        out.error(
            path,
            f"{_q(where)}: regex is too large, max length allowed is 1024",
            "shorten the regex",
        )
        return
    try:
        compile_re2(regex)
    except ValueError as exc:
        # chaoskit.regex words it "invalid regex '<p>': <RE2's reason> (Istio and Envoy …)".
        reason = str(exc).removeprefix(f"invalid regex {regex!r}: ").partition(" (Istio and")[0]
        out.error(
            path,
            f"{_q(where)}: error parsing regexp: {reason}; Istio uses RE2 style regex-based "
            "match (https://github.com/google/re2/wiki/Syntax)",
            "correct the pattern (RE2 syntax: no look-around, no back-references)",
        )


def _string_match(
    out: _Findings, path: str, match: StringMatch | None, where: str, *, empty_prefix: bool = False
) -> None:
    # validateStringMatch; the uri match (validateStringMatchRegexp) allows an empty prefix.
    if match is None:
        return
    if match.prefix == "" and not empty_prefix:
        out.error(
            f"{path}.prefix",
            f"{_q(where)}: prefix string match should not be empty",
            "give a prefix, or use 'exact'",
        )
    if match.regex is not None:
        if match.regex == "":
            out.error(
                f"{path}.regex",
                f"{_q(where)}: regex string match should not be empty",
                "give a regex, or drop the match",
            )
        else:
            _regex(out, f"{path}.regex", match.regex, where)


def _gateway_names(out: _Findings, path: str, names: Sequence[str]) -> None:
    # validateGatewayNames. Like Istio, stop at the first name without a namespace.
    for i, name in enumerate(names):
        where = f"{path}[{i}]"
        namespace, slash, short = name.partition("/")
        if not slash:
            if "." in name:
                parts = name.split(".")
                out.warn(
                    where,
                    f"using legacy gatewayName format {_q(name)}; prefer the <namespace>/<name> "
                    f"format: {_q(parts[1] + '/' + parts[0])}",
                    f"write it as '{parts[1]}/{parts[0]}'",
                )
            if (err := _fqdn_error(name)) is not None:
                out.error(where, err, "use 'name' or 'namespace/name' of a Gateway, or 'mesh'")
            return
        if not namespace or not short:
            out.error(
                where,
                "config namespace and gateway name cannot be empty",
                "write 'namespace/name'",
            )
        if not _DNS1123_LABEL.match(namespace) or len(namespace) > 63:
            out.error(
                where, f"invalid value for namespace: {_q(namespace)}", "use a namespace name"
            )
        if not _DNS1123_LABEL.match(short) or len(short) > 63:
            out.error(where, f"invalid value for gateway name: {_q(short)}", "use a Gateway's name")


def _export_to(out: _Findings, namespace: str | None, export_to: Sequence[str] | None) -> None:
    # validateExportTo (for Istio configs other than ServiceEntry).
    seen: set[str] = set()
    for i, entry in enumerate(export_to or []):
        where = f"spec.exportTo[{i}]"
        key = (namespace or "") if entry == "." else entry
        if key in seen:
            if key != entry:
                out.error(
                    where,
                    f"duplicate entries in exportTo: . and current namespace {namespace}",
                    "list each namespace once",
                )
            else:
                out.error(where, f"duplicate entries in exportTo for entry {entry}", "remove it")
            continue
        if key == "~":
            out.error(
                where,
                "exportTo ~ (none) is not allowed for Istio configuration objects",
                "use '.', '*' or namespace names",
            )
        elif key not in (".", "*", "") and not _DNS1123_LABEL.match(key):
            out.error(
                where,
                "only .,*, or a valid DNS 1123 label is allowed as exportTo entry",
                "use '.', '*' or namespace names",
            )
        else:
            seen.add(key)
    if "*" in seen and len(export_to or []) > 1:
        out.error(
            "spec.exportTo",
            "cannot have both public (*) and non-public exportTo values for a resource",
            "'*' already exports everywhere; drop the other entries",
        )


# --- VirtualService (ValidateVirtualService, virtualservice.go) -------------------------


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
    out = _Findings()
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
        _gateway_names(out, "spec.gateways", spec.gateways)
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
            if not _is_ip(host):
                out.error(f"spec.hosts[{i}]", err, _HOST_FIX)
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
    _export_to(out, namespace, spec.export_to)
    return out.items


def _http_route(out: _Findings, path: str, route: HTTPRoute, *, delegate: bool) -> None:
    _http_route_conflicts(out, path, route, delegate=delegate)
    for i, match in enumerate(route.match or []):
        _http_match(out, f"{path}.match[{i}]", match)
    _headers(out, f"{path}.headers", route.headers)
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
                _regex(out, f"{where}.regex", origin.regex, "corsPolicy.allowOrigins")
        for i, method in enumerate(cors.allow_methods or []):
            if method not in CORS_METHODS:
                out.error(
                    f"{path}.corsPolicy.allowMethods[{i}]",
                    f"{_q(method)} is not a supported HTTP method",
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
            _duration(out, f"{path}.corsPolicy.maxAge", cors.max_age)
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
    _destination(out, f"{path}.mirror", route.mirror)
    for i, mirror in enumerate(route.mirrors or []):
        where = f"{path}.mirrors[{i}]"
        if mirror.destination is None:
            out.error(where, "destination is required for mirrors", "add 'destination: {host: …}'")
            continue
        _destination(out, f"{where}.destination", mirror.destination)
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
    _duration(out, f"{path}.timeout", route.timeout)


def _http_route_conflicts(out: _Findings, path: str, route: HTTPRoute, *, delegate: bool) -> None:
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


def _http_match(out: _Findings, path: str, match: HTTPMatchRequest) -> None:
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
            _string_match(out, where, value, field)
    _string_match(out, f"{path}.uri", match.uri, "uri", empty_prefix=True)
    for field in ("scheme", "method", "authority"):
        _string_match(out, f"{path}.{field}", getattr(match, field), field)
    for name, value in (match.query_params or {}).items():
        _string_match(out, join_path(f"{path}.queryParams", name), value, "queryParams")
    if match.port:
        _port(out, f"{path}.port", match.port)
    _label_map(out, f"{path}.sourceLabels", match.source_labels)
    if match.gateways:
        _gateway_names(out, f"{path}.gateways", match.gateways)
    if match.source_namespace and not _DNS1123_LABEL.match(match.source_namespace):
        out.error(
            f"{path}.sourceNamespace",
            f"sourceNamespace match {match.source_namespace} is invalid",
            "use a namespace name",
        )


def _http_route_destinations(out: _Findings, path: str, route: HTTPRoute) -> None:
    # validateHTTPRouteDestinations
    total = 0
    dests = route.route or []
    for i, dest in enumerate(dests):
        where = f"{path}[{i}]"
        if dest.destination is None:
            out.error(where, "destination is required", "add 'destination: {host: <service>}'")
        _headers(out, f"{where}.headers", dest.headers)
        _destination(out, f"{where}.destination", dest.destination)
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


def _route_destinations(out: _Findings, path: str, dests: Sequence[RouteDestination]) -> None:
    # validateRouteDestinations (TLS and TCP routes)
    total = 0
    for i, dest in enumerate(dests):
        if dest.destination is None:
            out.error(f"{path}[{i}]", "destination is required", "add 'destination: {host: …}'")
        _destination(out, f"{path}[{i}].destination", dest.destination)
        weight = dest.weight or 0
        if weight < 0:
            out.error(f"{path}[{i}].weight", f"weight {weight} < 0", "weights are 0 or more")
        total += weight
    if len(dests) > 1 and total == 0:
        out.error(path, "total destination weight = 0", "give a destination a positive weight")


def _tls_route(
    out: _Findings, path: str, tls: TLSRoute, spec: VirtualServiceSpec, to_gateway: bool
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
                if _is_ip(sni):
                    out.warn(
                        f"{where}.sniHosts[{j}]",
                        f"using an IP address ({_q(sni)}) goes against SNI spec and most clients "
                        "do not support this",
                        "use a DNS name",
                    )
                else:
                    out.error(f"{where}.sniHosts[{j}]", err, _HOST_FIX)
            elif err is None and not any(_sni_subset_of(sni, h) for h in spec.hosts):
                out.error(
                    f"{where}.sniHosts[{j}]",
                    f"SNI host {_q(sni)} is not a compatible subset of any of the virtual service "
                    f"hosts: [{', '.join(spec.hosts)}]",
                    "use one of the VirtualService's hosts (or a name under its wildcard)",
                )
        if match.port:
            _port(out, f"{where}.port", match.port)
        _label_map(out, f"{where}.sourceLabels", match.source_labels)
        if match.gateways:
            _gateway_names(out, f"{where}.gateways", match.gateways)
    if not tls.route:
        out.error(f"{path}.route", "TLS route is required", "add 'route'")
    _route_destinations(out, f"{path}.route", tls.route or [])


def _sni_subset_of(sni: str, host: str) -> bool:
    # host.Name.SubsetOf: a wildcard may only cover a name below it.
    if host.startswith("*"):
        return sni.endswith(host[1:]) if not sni.startswith("*") else sni[1:].endswith(host[1:])
    return sni == host


def _tcp_route(out: _Findings, path: str, tcp: TCPRoute) -> None:
    for i, match in enumerate(tcp.match or []):
        if match.port:
            _port(out, f"{path}.match[{i}].port", match.port)
        _label_map(out, f"{path}.match[{i}].sourceLabels", match.source_labels)
        if match.gateways:
            _gateway_names(out, f"{path}.match[{i}].gateways", match.gateways)
    if not tcp.route:
        out.error(f"{path}.route", "TCP route is required", "add 'route'")
    _route_destinations(out, f"{path}.route", tcp.route or [])


def _redirect(
    out: _Findings, path: str, redirect: HTTPRedirect | None, matches: Sequence[HTTPMatchRequest]
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
        _port(out, f"{path}.port", redirect.port)


def _rewrite(
    out: _Findings, path: str, rewrite: HTTPRewrite | None, headers: Headers | None
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
                _regex(
                    out,
                    f"{path}.uriRegexRewrite.match",
                    regex.match,
                    "HTTPRewrite.UriRegexRewrite.Match",
                )
    current = rewrite.authority if rewrite is not None and rewrite.authority else ""
    request = headers.request if headers is not None else None
    for kind in ("set", "add"):
        for name, value in ((getattr(request, kind) if request else None) or {}).items():
            if not _is_authority_header(name):
                continue
            if current:
                out.error(
                    f"{path.rpartition('.')[0]}.headers.request.{kind}.{name}",
                    f"authority header cannot be set multiple times: have {_q(current)}, "
                    f"attempting to set {_q(value)}",
                    "set the authority in one place only",
                )
            current = value


def _retries(out: _Findings, path: str, retries: HTTPRetry | None) -> None:
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
    _duration(out, f"{path}.perTryTimeout", retries.per_try_timeout)
    if retries.retry_on:
        # Istio splits on "," and does not trim: "5xx, reset" has the policy " reset".
        for policy in retries.retry_on.split(","):
            if policy in RETRY_ON_POLICIES:
                continue
            if _GO_INT.match(policy) and int(policy) in GO_HTTP_STATUS_CODES:
                continue
            out.error(
                f"{path}.retryOn",
                f"{_q(policy)} is not a valid retryOn policy",
                "use comma-separated Envoy conditions without spaces (5xx, gateway-error, reset, "
                "connect-failure, retriable-4xx, refused-stream, …) or HTTP status codes",
            )
    _duration(out, f"{path}.backoff", retries.backoff)


def _http_status(out: _Findings, path: str, status: int) -> None:
    # validateHTTPStatus accepts 200..600 although its text says 200-599 (Envoy wants < 600).
    if status < 200 or status > 600:
        out.error(
            path,
            f"HTTP status {status} is not in range 200-599",
            "use an HTTP status from 200 to 599, e.g. 503",
        )


def _fault(out: _Findings, path: str, fault: HTTPFaultInjection | None) -> None:
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
        _percentage(out, f"{path}.abort.percentage", abort.percentage)
        if abort.grpc_status is not None:
            if abort.grpc_status not in GRPC_STATUSES:
                out.error(
                    f"{path}.abort.grpcStatus",
                    f"gRPC status {_q(abort.grpc_status)} is not supported. See "
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
        _percentage(out, f"{path}.delay.percentage", delay.percentage)
        if delay.fixed_delay is not None:
            _duration(out, f"{path}.delay.fixedDelay", delay.fixed_delay)
        elif delay.exponential_delay is not None:
            _duration(out, f"{path}.delay.exponentialDelay", delay.exponential_delay)
            out.error(
                f"{path}.delay.exponentialDelay",
                "exponentialDelay not supported yet",
                "use fixedDelay",
            )


# --- DestinationRule (ValidateDestinationRule) -----------------------------------------


def validate_destination_rule(
    spec: DestinationRuleSpec, namespace: str | None = None
) -> list[Finding]:
    out = _Findings()
    if (err := wildcard_domain_error(spec.host)) is not None:
        out.error("spec.host", err, "name the service the rule applies to, e.g. 'host: reviews'")
    _traffic_policy(out, "spec.trafficPolicy", spec.traffic_policy)
    seen: set[str] = set()
    for i, subset in enumerate(spec.subsets or []):
        where = f"spec.subsets[{i}]"
        if subset.name in seen:
            out.error(
                f"{where}.name",
                f"duplicate subset names: {subset.name}",
                "give each subset its own name",
            )
        seen.add(subset.name)
        _subset_name(out, f"{where}.name", subset.name)
        _label_map(out, f"{where}.labels", subset.labels)
        _traffic_policy(out, f"{where}.trafficPolicy", subset.traffic_policy)
    _export_to(out, namespace, spec.export_to)
    if spec.workload_selector is not None:
        _label_map(out, "spec.workloadSelector.matchLabels", spec.workload_selector.match_labels)
    return out.items


def _traffic_policy(out: _Findings, path: str, policy: TrafficPolicy | None) -> None:
    # validateTrafficPolicy: returns early on an empty policy, as Istio does.
    if policy is None:
        return
    if not any(
        getattr(policy, f) is not None
        for f in (
            "outlier_detection",
            "connection_pool",
            "load_balancer",
            "tls",
            "port_level_settings",
            "retry_budget",
        )
    ):
        out.error(
            path,
            "traffic policy must have at least one field",
            "add loadBalancer, connectionPool, outlierDetection or tls, or remove trafficPolicy",
        )
        return
    _outlier_detection(out, f"{path}.outlierDetection", policy.outlier_detection)
    _connection_pool(out, f"{path}.connectionPool", policy.connection_pool)
    _load_balancer(out, f"{path}.loadBalancer", policy.load_balancer)
    _client_tls(out, f"{path}.tls", policy.tls)
    for i, port_policy in enumerate(policy.port_level_settings or []):
        where = f"{path}.portLevelSettings[{i}]"
        if port_policy.port is None:
            out.error(where, "portTrafficPolicy must have valid port", "add 'port: {number: 9080}'")
        if not any(
            getattr(port_policy, f) is not None
            for f in ("outlier_detection", "connection_pool", "load_balancer", "tls")
        ):
            out.error(
                where,
                "port traffic policy must have at least one field",
                "add loadBalancer, connectionPool, outlierDetection or tls",
            )
            continue
        _outlier_detection(out, f"{where}.outlierDetection", port_policy.outlier_detection)
        _connection_pool(out, f"{where}.connectionPool", port_policy.connection_pool)
        _load_balancer(out, f"{where}.loadBalancer", port_policy.load_balancer)
        _client_tls(out, f"{where}.tls", port_policy.tls)


def _outlier_detection(out: _Findings, path: str, od: OutlierDetection | None) -> None:
    # validateOutlierDetection
    if od is None:
        return
    _duration(out, f"{path}.baseEjectionTime", od.base_ejection_time)
    if od.consecutive_errors:
        out.warn(
            f"{path}.consecutiveErrors",
            "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or "
            "consecutive5xxErrors instead",
            f"write 'consecutive5xxErrors: {od.consecutive_errors}'",
        )
    if not od.split_external_local_origin_errors and (od.consecutive_local_origin_failures or 0):
        out.error(
            f"{path}.consecutiveLocalOriginFailures",
            "outlier detection consecutive local origin failures is specified, but split external "
            "local origin errors is set to false",
            "add 'splitExternalLocalOriginErrors: true'",
        )
    _duration(out, f"{path}.interval", od.interval)
    _percent(out, f"{path}.maxEjectionPercent", od.max_ejection_percent)
    _percent(out, f"{path}.minHealthPercent", od.min_health_percent)


def _non_negative(out: _Findings, path: str, value: int | None, what: str) -> None:
    if value is not None and value < 0:
        out.error(path, f"{what} must be non-negative", f"use 0 or more (got {value})")


def _connection_pool(out: _Findings, path: str, pool: ConnectionPoolSettings | None) -> None:
    # validateConnectionPool: returns early when neither tcp nor http is given.
    if pool is None:
        return
    if pool.tcp is None and pool.http is None:
        out.error(
            path,
            "connection pool must have at least one field",
            "add 'tcp' or 'http' settings, or remove connectionPool",
        )
        return
    http = pool.http
    if http is not None:
        for field, value, what in (
            (
                "http1MaxPendingRequests",
                http.http1_max_pending_requests,
                "http1 max pending requests",
            ),
            ("http2MaxRequests", http.http2_max_requests, "http2 max requests"),
            (
                "maxRequestsPerConnection",
                http.max_requests_per_connection,
                "max requests per connection",
            ),
            ("maxRetries", http.max_retries, "max retries"),
        ):
            _non_negative(out, f"{path}.http.{field}", value, what)
        _duration(out, f"{path}.http.idleTimeout", http.idle_timeout)
        if http.h2_upgrade_policy == "UPGRADE" and http.use_client_protocol:
            out.error(
                f"{path}.http.useClientProtocol",
                "use client protocol must not be true when H2UpgradePolicy is UPGRADE",
                "drop useClientProtocol or h2UpgradePolicy",
            )
        _non_negative(
            out,
            f"{path}.http.maxConcurrentStreams",
            http.max_concurrent_streams,
            "max concurrent streams",
        )
    tcp = pool.tcp
    if tcp is not None:
        _non_negative(out, f"{path}.tcp.maxConnections", tcp.max_connections, "max connections")
        _duration(out, f"{path}.tcp.connectTimeout", tcp.connect_timeout)
        _duration(out, f"{path}.tcp.maxConnectionDuration", tcp.max_connection_duration)
        if tcp.idle_timeout is not None and tcp.idle_timeout.nanos // _MS != 0:
            _duration(out, f"{path}.tcp.idleTimeout", tcp.idle_timeout)  # "0s" disables it
        if tcp.tcp_keepalive is not None:
            _duration(out, f"{path}.tcp.tcpKeepalive.time", tcp.tcp_keepalive.time)
            _duration(out, f"{path}.tcp.tcpKeepalive.interval", tcp.tcp_keepalive.interval)


def _is_prime(x: int) -> bool:
    # Envoy's Primes::isPrime, which Istio copies.
    if x != 0 and x < 4:
        return True
    if x % 2 == 0:
        return False
    return all(x % f for f in range(3, math.isqrt(x) + 1, 2))


def _load_balancer(out: _Findings, path: str, lb: LoadBalancerSettings | None) -> None:
    # validateLoadBalancer. A consistentHash without a key is accepted by Istio.
    if lb is None:
        return
    ch = lb.consistent_hash
    if ch is not None:
        where = f"{path}.consistentHash"
        if ch.http_cookie is not None and not ch.http_cookie.name:
            out.error(f"{where}.httpCookie.name", "name required for HttpCookie", "name the cookie")
        if ch.minimum_ring_size:
            out.warn(
                f"{where}.minimumRingSize",
                "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash "
                "configuration instead",
                f"write 'ringHash: {{minimumRingSize: {ch.minimum_ring_size}}}'",
            )
            if ch.ring_hash is not None or ch.maglev is not None:
                out.error(
                    f"{where}.minimumRingSize",
                    "only one of MinimumRingSize or Maglev/Ringhash can be specified",
                    "remove minimumRingSize",
                )
        if ch.maglev is not None:
            size = ch.maglev.table_size or 0
            if size == 0:
                out.error(
                    f"{where}.maglev.tableSize",
                    "tableSize must be set for maglev",
                    "use a prime such as 65537",
                )
            if size >= 5000011:
                out.error(
                    f"{where}.maglev.tableSize",
                    "tableSize must be less than 5000011 for maglev",
                    "use e.g. 65537",
                )
            if not _is_prime(size):
                out.error(
                    f"{where}.maglev.tableSize",
                    "tableSize must be a prime number for maglev",
                    "use a prime, e.g. 65537",
                )
    warmup = lb.warmup
    if warmup is not None:
        if warmup.duration is None:
            out.error(f"{path}.warmup", "duration is required", "add 'duration: 60s'")
        else:
            _duration(out, f"{path}.warmup.duration", warmup.duration)
        if (warmup.minimum_percent or 0) > 100:
            out.error(
                f"{path}.warmup.minimumPercent",
                "minimumPercent value should be less than or equal to 100",
                "use 0 to 100",
            )
        if warmup.aggression is not None and warmup.aggression <= 0:
            out.error(
                f"{path}.warmup.aggression", "aggression should be greater than 0", "use e.g. 1.0"
            )


def _client_tls(out: _Findings, path: str, tls: ClientTLSSettings | None) -> None:
    # agent.ValidateTLS (the client side, in DestinationRules)
    if tls is None:
        return
    if tls.insecure_skip_verify:
        if tls.mode == "SIMPLE" and (
            tls.ca_certificates or tls.credential_name or tls.subject_alt_names is not None
        ):
            out.error(
                path,
                "cannot specify CaCertificates or CredentialName or SubjectAltNames when "
                "InsecureSkipVerify is set true",
                "drop insecureSkipVerify, or the verification settings",
            )
        if tls.mode == "MUTUAL" and (tls.ca_certificates or tls.subject_alt_names is not None):
            out.error(
                path,
                "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set "
                "true",
                "drop insecureSkipVerify, or the verification settings",
            )
    if tls.mode in ("SIMPLE", "MUTUAL") and tls.credential_name:
        if tls.client_certificate or tls.ca_certificates or tls.private_key or tls.ca_crl:
            out.error(
                path,
                "cannot specify client certificates or CA certificate or CA CRL If credentialName "
                "is set",
                "the Secret named by credentialName holds them; remove the file paths",
            )
        return
    if tls.mode == "MUTUAL":
        if not tls.client_certificate:
            out.error(
                path,
                "client certificate required for mutual tls",
                "add clientCertificate, or use credentialName",
            )
        if not tls.private_key:
            out.error(
                path, "private key required for mutual tls", "add privateKey, or use credentialName"
            )


# --- Gateway (ValidateGateway) -----------------------------------------------------------


def validate_gateway(spec: GatewaySpec, name: str = "") -> list[Finding]:
    out = _Findings()
    if name and (len(name) > 63 or not _DNS1123_LABEL.match(name)):
        out.error(
            "metadata.name",
            f"invalid gateway name: {_q(name)}",
            "Gateway names are DNS labels (no dots), e.g. 'bookinfo-gateway'",
        )
    if not spec.servers:
        out.error("spec.servers", "gateway must have at least one server", "add a server")
    for i, server in enumerate(spec.servers):
        _server(out, f"spec.servers[{i}]", server)
    names: set[str] = set()
    for i, server in enumerate(spec.servers):
        if server.port is None:
            continue
        if server.port.name in names:
            out.error(
                f"spec.servers[{i}].port.name",
                f"port names in servers must be unique: duplicate name {server.port.name}",
                "give each server port its own name",
            )
        names.add(server.port.name)
        if server.port.protocol.lower() not in _HTTP_PROTOCOLS and (
            server.tls is not None and server.tls.https_redirect
        ):
            out.warn(
                f"spec.servers[{i}].tls.httpsRedirect",
                "tls.httpsRedirect should only be used with http servers",
                "move httpsRedirect to the HTTP server",
            )
    return out.items


def _gateway_host(out: _Findings, path: str, host: str) -> None:
    # agent.ValidateNamespaceSlashWildcardHostname(host, isGateway=true)
    namespace, slash, name = host.partition("/")
    if not slash:
        namespace, name = "", host
    else:
        if not namespace or not name:
            out.error(
                path,
                "config namespace and dnsName in host entry cannot be empty",
                "write 'namespace/host' or just 'host'",
            )
        if namespace not in ("*", ".") and not _DNS1123_LABEL.match(namespace):
            out.error(
                path, f"invalid namespace value {_q(namespace)} in gateway", "use a namespace name"
            )
    if name != "*" and "." not in name:
        out.error(
            path,
            "short names (non FQDN) are not allowed",
            f"Gateway hosts are FQDNs or wildcards, e.g. '{name}.example.com' or '*'",
        )
    err = wildcard_domain_error(name)
    if err is not None and not _is_ip(name):
        out.error(path, err, "use an FQDN such as 'shop.example.com', '*.example.com' or '*'")
    if "*" in name and len(name) != 1 and not name.startswith("*."):
        out.error(path, f"partial wildcard {_q(name)} not allowed", "use '*.example.com' or '*'")


def _server(out: _Findings, path: str, server: Server) -> None:
    # validateServer, validateServerPort, validateServerBind, validateTLSOptions
    if not server.hosts:
        out.error(
            f"{path}.hosts",
            "server config must contain at least one host",
            "add 'hosts: [\"*\"]' or the names this server serves",
        )
    for i, host in enumerate(server.hosts):
        _gateway_host(out, f"{path}.hosts[{i}]", host)
    port_ok = server.port is not None
    if server.port is None:
        out.error(
            f"{path}.port",
            "port is required",
            "add 'port: {number: 80, name: http, protocol: HTTP}'",
        )
    else:
        port = server.port
        protocol = port.protocol.lower()
        if protocol not in PROTOCOLS:
            port_ok = False
            out.error(
                f"{path}.port.protocol",
                f"invalid protocol {_q(port.protocol)}, supported protocols are HTTP, HTTP2, "
                "GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP",
                "use HTTP, HTTPS, HTTP2, GRPC, TCP or TLS",
            )
        if port.number > 0 or not (server.bind or "").startswith("unix://"):
            if not 1 <= port.number <= 65535:
                port_ok = False
            _port(out, f"{path}.port.number", port.number)
        if port.target_port:
            port_ok = False
            out.error(
                f"{path}.port.targetPort",
                "targetPort has no impact on Gateways",
                "remove targetPort; the gateway listens on 'number' (its pod port)",
            )
        if not port.name:
            port_ok = False
            out.error(
                f"{path}.port.name",
                f"port name must be set: number:{port.number} protocol:{_q(port.protocol)}",
                "name the port, e.g. 'name: http'",
            )
    if server.bind:
        if server.bind.startswith("unix://"):
            if server.port is not None and server.port.number != 0:
                out.error(
                    f"{path}.port.number",
                    "port number must be 0 for unix domain socket",
                    "use port number 0 with a unix:// bind",
                )
        elif not _is_ip(server.bind):
            out.error(f"{path}.bind", f"{server.bind} is not a valid IP", "use an IP address")
    _server_tls(out, f"{path}.tls", server.tls)
    if port_ok and server.port is not None:
        protocol = server.port.protocol.lower()
        if protocol in _TLS_PROTOCOLS and server.tls is None:
            out.error(
                f"{path}.tls",
                "server must have TLS settings for HTTPS/TLS protocols",
                "add 'tls: {mode: SIMPLE, credentialName: <secret>}'",
            )
        elif protocol not in _TLS_PROTOCOLS and server.tls is not None:
            tls = server.tls
            if protocol in _HTTP_PROTOCOLS:
                passthrough = (tls.mode or "PASSTHROUGH") in ("PASSTHROUGH", "AUTO_PASSTHROUGH")
                if (
                    not passthrough
                    or tls.ca_certificates
                    or tls.private_key
                    or tls.server_certificate
                ):
                    out.error(
                        f"{path}.tls",
                        "server cannot have TLS settings for plain text HTTP ports",
                        "use protocol HTTPS for TLS, or keep only 'httpsRedirect: true'",
                    )
            else:
                out.error(
                    f"{path}.tls",
                    "server cannot have TLS settings for non HTTPS/TLS ports",
                    "use protocol HTTPS or TLS, or remove tls",
                )


def _server_tls(out: _Findings, path: str, tls: ServerTLSSettings | None) -> None:
    # validateTLSOptions. An unset mode is PASSTHROUGH (the enum's zero value).
    if tls is None:
        return
    mode = tls.mode or "PASSTHROUGH"
    if tls.min_protocol_version in ("TLSV1_0", "TLSV1_1") and not tls.cipher_suites:
        out.warn(
            f"{path}.minProtocolVersion",
            "TLS version below TLSV1_2 require setting compatible ciphers as by default they no "
            "longer include compatible ciphers.",
            "add cipherSuites, or use TLSV1_2",
        )
    suites = tls.cipher_suites or []
    duplicates = sorted({s for s in suites if suites.count(s) > 1})
    if duplicates:
        out.warn(
            f"{path}.cipherSuites",
            f"ignoring duplicate cipher suites: [{' '.join(duplicates)}]",
            "list each suite once",
        )
    certs = tls.server_certificate or tls.private_key or tls.ca_certificates
    if mode == "ISTIO_MUTUAL":
        for present, what in (
            (tls.server_certificate, "server certificate"),
            (tls.private_key, "private key"),
            (tls.ca_certificates, "CA bundle"),
            (tls.credential_name, "credentialName"),
            (tls.credential_names, "credentialNames"),
        ):
            if present:
                out.error(
                    path,
                    f"ISTIO_MUTUAL TLS cannot have associated {what}",
                    "ISTIO_MUTUAL uses the mesh's certificates; remove it",
                )
        return
    if mode in ("PASSTHROUGH", "AUTO_PASSTHROUGH") and (
        certs or tls.ca_crl or tls.credential_name or tls.credential_names
    ):
        out.warn(
            path,
            f"{mode} mode does not use certificates, they will be ignored",
            "set 'mode: SIMPLE' to terminate TLS with them, or remove them",
        )
    sources = sum(
        bool(x)
        for x in (
            tls.server_certificate and tls.private_key,
            tls.credential_name,
            tls.credential_names,
        )
    )
    if sources > 1:
        out.error(
            path,
            "only one of credential_name, credential_names, server_certificate/private_key, "
            "tls_certificates should be specified",
            "keep one certificate source",
        )
    terminating = mode in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL")
    if terminating and (tls.credential_name or tls.credential_names):
        return  # the certificates come from the Secret
    if terminating:
        prefix = "SIMPLE TLS" if mode == "SIMPLE" else "MUTUAL TLS"
        if mode != "SIMPLE" and not tls.ca_certificates:
            out.error(path, f"{prefix} requires a client CA bundle", "add caCertificates")
        if not tls.server_certificate:
            out.error(
                path,
                f"{prefix} requires a server certificate",
                "name a TLS Secret with 'credentialName: <secret>' (or give serverCertificate "
                "and privateKey file paths)",
            )
        if not tls.private_key:
            out.error(
                path,
                f"{prefix} requires a private key",
                "name a TLS Secret with 'credentialName: <secret>' (or give privateKey)",
            )
    if tls.ca_crl:
        if tls.credential_name:
            out.error(
                path,
                "CRL is not supported with credentialName. CRL has to be specified in the "
                "credential",
                "put the CRL in the Secret",
            )
        if mode == "SIMPLE":
            out.error(path, "CRL is not supported with SIMPLE TLS", "remove caCrl")


# --- ServiceEntry (ValidateServiceEntry, the parts chaoskit models) ----------------------


def validate_service_entry(spec: ServiceEntrySpec) -> list[Finding]:
    out = _Findings()
    if spec.workload_selector is not None and spec.endpoints is not None:
        out.error(
            "spec.endpoints",
            "only one of WorkloadSelector or Endpoints is allowed in Service Entry",
            "keep endpoints or workloadSelector",
        )
    if not spec.hosts:
        out.error(
            "spec.hosts", "service entry must have at least one host", "add the external host"
        )
    for i, host in enumerate(spec.hosts):
        if host == "*":
            out.error(f"spec.hosts[{i}]", f"invalid host {host}", "name the host")
        elif (err := wildcard_domain_error(host)) is not None:
            out.error(f"spec.hosts[{i}]", err, _HOST_FIX)
    names: set[str] = set()
    numbers: set[int] = set()
    for i, port in enumerate(spec.ports or []):
        where = f"spec.ports[{i}]"
        if port.name in names:
            out.error(
                f"{where}.name",
                f"service entry port name {_q(port.name)} already defined",
                "give each port its own name",
            )
        if port.number in numbers:
            out.error(
                f"{where}.number",
                f"service entry port {port.number} already defined",
                "list each port once",
            )
        names.add(port.name)
        numbers.add(port.number)
        if port.target_port:
            _port(out, f"{where}.targetPort", port.target_port)
        if not _DNS1123_LABEL.match(port.name):
            out.error(f"{where}.name", f"invalid port name: {port.name}", "e.g. 'http' or 'https'")
        if port.protocol and port.protocol.lower() not in PROTOCOLS:
            out.error(
                f"{where}.protocol", f"unsupported protocol: {port.protocol}", "e.g. HTTP or TLS"
            )
        _port(out, f"{where}.number", port.number)
    if spec.resolution == "NONE" and spec.endpoints:
        out.error(
            "spec.endpoints",
            "no endpoints should be provided for resolution type none",
            "remove endpoints or choose resolution STATIC or DNS",
        )
    return out.items


# --- dispatch --------------------------------------------------------------------------


def validate_metadata(resource: IstioResource) -> Iterable[Finding]:
    """The API server's own checks of object names, before Istio's webhook."""
    name = resource.metadata.name
    if not name:
        yield Finding("metadata.name", "metadata.name is required", fix="add 'metadata: {name: …}'")
    elif not _K8S_SUBDOMAIN.match(name) or len(name) > 253:
        yield Finding(
            "metadata.name",
            f"name {name!r} is invalid: a lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character",
            fix="use lower case letters, digits, '-' and '.'",
        )
    namespace = resource.metadata.namespace
    if namespace is not None and not _K8S_LABEL.match(namespace):
        yield Finding(
            "metadata.namespace",
            f"namespace {namespace!r} is not a valid DNS-1123 label",
            fix="use a namespace name (lower case letters, digits, '-')",
        )


def validate_resource(resource: IstioResource) -> list[Finding]:
    """Every rule of Istio's validating webhook that ``resource`` breaks, or warns about."""
    findings = list(validate_metadata(resource))
    namespace = resource.metadata.namespace
    if isinstance(resource, VirtualService):
        findings += validate_virtual_service(resource.spec, namespace)
    elif isinstance(resource, DestinationRule):
        findings += validate_destination_rule(resource.spec, namespace)
    elif isinstance(resource, Gateway):
        findings += validate_gateway(resource.spec, resource.metadata.name)
    elif isinstance(resource, ServiceEntry):
        findings += validate_service_entry(resource.spec)
    return findings
