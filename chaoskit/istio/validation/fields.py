"""Checks shared by several kinds: validation.go's and agent/validation.go's field helpers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence

from chaoskit.istio.common import Destination, HeaderOperations, Headers, Percent, StringMatch
from chaoskit.istio.duration import Duration
from chaoskit.istio.validation.findings import Findings, go_float, go_quote
from chaoskit.istio.yaml_source import join_path
from chaoskit.regex import compile_re2

# pkg/config/protocol.Parse (case-insensitive); anything else is "unsupported".
PROTOCOLS = frozenset(
    {"tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls"}
    | {"mongo", "redis", "mysql"}
)
# pkg/config/labels: DNS-1123 labels here allow upper case (Istio's own regex).
_DNS1123_LABEL_FMT = r"[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?"
DNS1123_LABEL = re.compile(rf"^{_DNS1123_LABEL_FMT}$")
_WILDCARD_LABEL = re.compile(rf"^(\*|(\*|\*-)?{_DNS1123_LABEL_FMT})$")
_QUALIFIED_NAME = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY = re.compile(
    rf"^({_DNS1123_LABEL_FMT}(?:\.{_DNS1123_LABEL_FMT})*/)?({_QUALIFIED_NAME})$"
)
_LABEL_VALUE = re.compile(rf"^({_QUALIFIED_NAME})?$")
_HEADER_VALUE = re.compile("^[^\x00-\x08\x0a-\x1f\x7f]*$")
MS = 1_000_000


def check_duration(out: Findings, path: str, value: Duration | None) -> None:
    # agent.ValidateDuration: at least 1ms, whole milliseconds.
    if value is None:
        return
    if value.nanos < MS:
        out.error(
            path,
            "duration must be greater than 1ms",
            f"{value.text!r} is below Istio's 1 ms floor; use e.g. '1ms', '500ms' or '5s'",
        )
    elif value.nanos % MS:
        out.error(
            path,
            "only durations to ms precision are supported",
            f"round {value.text!r} to whole milliseconds",
        )


def check_percentage(out: Findings, path: str, value: Percent | None) -> None:
    # validatePercentage (fault injection percentages).
    if value is None:
        return
    v = value.value
    if v < 0 or v > 100 or 0 < v < 0.0001:
        out.error(
            f"{path}.value",
            f"percentage {go_float(v)} is neither 0.0, nor in range [0.0001, 100.0]",
            "give a percentage from 0 to 100, e.g. 'value: 10'",
        )


def check_percent(out: Findings, path: str, value: int | None) -> None:
    # ValidatePercent (integer percentages of outlier detection).
    if value is not None and not 0 <= value <= 100:
        out.error(path, f"percentage {value} is not in range 0..100", "use a value from 0 to 100")


def check_port(out: Findings, path: str, number: int) -> None:
    if not 1 <= number <= 65535:
        out.error(
            path,
            f"port number {number} must be in the range 1..65535",
            "use a port from 1 to 65535",
        )


def is_ip(text: str) -> bool:
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
            f"domain name {go_quote(domain)} invalid (top level domain {go_quote(parts[-1])} "
            "cannot be all-numeric)"
        )
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            return None  # a trailing dot ("istio.io.") is allowed
        if len(label) > 63 or not DNS1123_LABEL.match(label):
            return f"domain name {go_quote(domain)} invalid (label {go_quote(label)} invalid)"
    return None


def wildcard_domain_error(domain: str) -> str | None:
    """agent.ValidateWildcardDomain: an FQDN or short name, a wildcard only as first label."""
    if len(domain) > 255:
        return f"domain name {go_quote(domain)} too long (max 255)"
    if not domain:
        return "empty domain name not allowed"
    first, dot, rest = domain.partition(".")
    if len(first) > 63 or not _WILDCARD_LABEL.match(first):
        return f"domain name {go_quote(domain)} invalid (label {go_quote(first)} invalid)"
    return _dns1123_labels_error(rest) if dot else None


def _fqdn_error(name: str) -> str | None:
    # agent.ValidateFQDN
    if len(name) > 255:
        return f"domain name {go_quote(name)} too long (max 255)"
    if not name:
        return "empty domain name not allowed"
    return _dns1123_labels_error(name)


HOST_FIX = "use a service name ('reviews'), an FQDN, or a wildcard as the first label only"


def check_labels(out: Findings, path: str, labels: Mapping[str, str] | None) -> None:
    # labels.Instance.Validate: Kubernetes label syntax for keys and values.
    for key, value in (labels or {}).items():
        match = _LABEL_KEY.match(key)
        if match is None or len(match.group(2)) > 63 or len(match.group(1) or "") > 254:
            out.error(
                join_path(path, key) if key else path,
                f"invalid tag key: {go_quote(key)}",
                "label keys are Kubernetes label names, e.g. 'version' or 'app.kubernetes.io/name'",
            )
        if not _LABEL_VALUE.match(value) or len(value) > 63:
            out.error(
                join_path(path, key) if key else path,
                f"invalid tag value: {go_quote(value)}",
                "label values are up to 63 letters, digits, '-', '_' or '.', starting and ending "
                "with a letter or digit",
            )


def check_destination(out: Findings, path: str, dest: Destination | None) -> None:
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
        out.error(f"{path}.host", err, HOST_FIX)
    if dest.subset:
        check_subset_name(out, f"{path}.subset", dest.subset)
    if dest.port is not None:
        check_port(out, f"{path}.port.number", dest.port.number)


def check_subset_name(out: Findings, path: str, name: str) -> None:
    if not name:
        out.error(path, "subset name cannot be empty", "name the subset, e.g. 'v1'")
    elif len(name) > 63 or not DNS1123_LABEL.match(name):
        out.error(
            path,
            f"subset name is invalid: {name}",
            "subset names are DNS-1123 labels: letters, digits and '-', e.g. 'v1' or 'canary'",
        )


def check_header_value(out: Findings, path: str, value: str) -> None:
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


def is_authority_header(name: str) -> bool:
    return name.lower() in (":authority", "host")


def check_header_operations(
    out: Findings, path: str, ops: HeaderOperations | None, *, request: bool
) -> None:
    if ops is None:
        return
    for kind in ("set", "add"):
        for name, value in (getattr(ops, kind) or {}).items():
            where = join_path(f"{path}.{kind}", name)
            if request:
                _header_op_name_with_authority(out, where, name)
            else:
                _header_op_name(out, where, name)
            check_header_value(out, where, value)
    for i, name in enumerate(ops.remove or []):
        _header_op_name(out, f"{path}.remove[{i}]", name)


def _header_op_name_with_authority(out: Findings, path: str, name: str) -> None:
    # ValidateHTTPHeaderWithAuthorityOperationName (request set/add)
    if name == "":
        out.error(path, "header name cannot be empty", "name the header")
    elif _is_internal_header(name) and not is_authority_header(name):
        out.error(
            path,
            f'invalid header {go_quote(name)}: header cannot have ":" prefix',
            "pseudo-headers other than :authority cannot be modified",
        )


def _header_op_name(out: Findings, path: str, name: str) -> None:
    # ValidateHTTPHeaderOperationName (request remove, every response operation)
    if name == "":
        out.error(path, "header name cannot be empty", "name the header")
    elif name.lower() == "host":
        out.error(
            path,
            f"invalid header {go_quote(name)}: cannot set Host header",
            "rewrite the authority with 'rewrite.authority' instead",
        )
    elif _is_internal_header(name):
        out.error(
            path,
            f'invalid header {go_quote(name)}: header cannot have ":" prefix',
            "pseudo-headers cannot be modified here",
        )


def check_headers(out: Findings, path: str, headers: Headers | None) -> None:
    if headers is not None:
        check_header_operations(out, f"{path}.request", headers.request, request=True)
        check_header_operations(out, f"{path}.response", headers.response, request=False)


def check_regex(out: Findings, path: str, regex: str, where: str) -> None:
    # validateStringRegexp: at most 1024 characters, RE2 syntax.
    if len(regex) > 1024:
        out.error(
            path,
            f"{go_quote(where)}: regex is too large, max length allowed is 1024",
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
            f"{go_quote(where)}: error parsing regexp: {reason}; Istio uses RE2 style regex-based "
            "match (https://github.com/google/re2/wiki/Syntax)",
            "correct the pattern (RE2 syntax: no look-around, no back-references)",
        )


def check_string_match(
    out: Findings, path: str, match: StringMatch | None, where: str, *, empty_prefix: bool = False
) -> None:
    # validateStringMatch; the uri match (validateStringMatchRegexp) allows an empty prefix.
    if match is None:
        return
    if match.prefix == "" and not empty_prefix:
        out.error(
            f"{path}.prefix",
            f"{go_quote(where)}: prefix string match should not be empty",
            "give a prefix, or use 'exact'",
        )
    if match.regex is not None:
        if match.regex == "":
            out.error(
                f"{path}.regex",
                f"{go_quote(where)}: regex string match should not be empty",
                "give a regex, or drop the match",
            )
        else:
            check_regex(out, f"{path}.regex", match.regex, where)


def check_gateway_names(out: Findings, path: str, names: Sequence[str]) -> None:
    # validateGatewayNames. Like Istio, stop at the first name without a namespace.
    for i, name in enumerate(names):
        where = f"{path}[{i}]"
        namespace, slash, short = name.partition("/")
        if not slash:
            if "." in name:
                parts = name.split(".")
                out.warn(
                    where,
                    f"using legacy gatewayName format {go_quote(name)}; prefer the "
                    f"<namespace>/<name> format: {go_quote(parts[1] + '/' + parts[0])}",
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
        if not DNS1123_LABEL.match(namespace) or len(namespace) > 63:
            out.error(
                where, f"invalid value for namespace: {go_quote(namespace)}", "use a namespace name"
            )
        if not DNS1123_LABEL.match(short) or len(short) > 63:
            out.error(
                where, f"invalid value for gateway name: {go_quote(short)}", "use a Gateway's name"
            )


def check_export_to(out: Findings, namespace: str | None, export_to: Sequence[str] | None) -> None:
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
        elif key not in (".", "*", "") and not DNS1123_LABEL.match(key):
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


def check_workload_selector(
    out: Findings, path: str, labels: Mapping[str, str], *, without_labels: str
) -> None:
    # validateWorkloadSelector (DestinationRule) and ValidateAlphaWorkloadSelector
    # (ServiceEntry): no empty key, no wildcard; no labels at all is only a warning.
    for key, value in labels.items():
        pair = go_quote(f"{key}={value}")
        if key == "":
            out.error(path, f"empty key is not supported in selector: {pair}", "name the label")
        if "*" in key or "*" in value:
            out.error(
                path,
                f"wildcard is not supported in selector: {pair}",
                "selectors match exact label values; list the labels to select",
            )
    if not labels:
        out.warn(
            path,
            without_labels,
            "add the labels of the workloads to select, or remove workloadSelector",
        )
