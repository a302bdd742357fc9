"""EnvoyFilter rules: ``ValidateEnvoyFilter`` (istio/istio 1.28.10
``pkg/config/validation/envoyfilter/envoyfilter.go``), in its order and wording.

Istio checks a patch's ``value`` by decoding it into the Envoy proto its ``applyTo`` names
(``pkg/config/xds/xds.go`` ``BuildXDSObjectFromStruct``): a decoding error rejects the
object, and a second, strict decoding turns unknown fields into warnings. chaoskit has no
Envoy descriptors, so it decodes what it can read: ``HTTP_FILTER`` values (an
``HttpFilter``) and, inside them, the fault filter's ``HTTPFault``. Other values and other
``@type``s are accepted unread, as a newer Istio would accept them. The decoding messages
paraphrase protojson's; the rest are Istio's own texts.
"""

from __future__ import annotations

import re
from typing import Any

from chaoskit.istio.envoy_filter import EnvoyConfigObjectPatch, EnvoyFilterSpec
from chaoskit.istio.validation.fields import check_workload_selector
from chaoskit.istio.validation.findings import Finding, Findings, go_quote
from chaoskit.regex import compile_re2

HCM = "envoy.filters.network.http_connection_manager"
HTTP_FILTER_TYPE = "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter"
FAULT_TYPE = "envoy.extensions.filters.http.fault.v3.HTTPFault"
TYPE_PREFIX = "type.googleapis.com/"
FRACTION_DENOMINATORS = ("HUNDRED", "TEN_THOUSAND", "MILLION")
LISTENER_CLASS = ("LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER")
ROUTE_CLASS = ("ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE")
WARNING = (
    "EnvoyFilter exposes internal implementation details that may change at any time. Prefer "
    "other APIs if possible, and exercise extreme caution, especially around upgrades."
)
# pkg/config/xds/deprecated.go: the pre-1.14 names, reversed (deprecated → canonical).
DEPRECATED_NAMES = {
    "envoy.buffer": "envoy.filters.http.buffer",
    "envoy.cors": "envoy.filters.http.cors",
    "envoy.csrf": "envoy.filters.http.csrf",
    "envoy.http_dynamo_filter": "envoy.filters.http.dynamo",
    "envoy.ext_authz": "envoy.filters.http.ext_authz",
    "envoy.fault": "envoy.filters.http.fault",
    "envoy.grpc_http1_bridge": "envoy.filters.http.grpc_http1_bridge",
    "envoy.grpc_json_transcoder": "envoy.filters.http.grpc_json_transcoder",
    "envoy.grpc_web": "envoy.filters.http.grpc_web",
    "envoy.gzip": "envoy.filters.http.gzip",
    "envoy.health_check": "envoy.filters.http.health_check",
    "envoy.ip_tagging": "envoy.filters.http.ip_tagging",
    "envoy.lua": "envoy.filters.http.lua",
    "envoy.rate_limit": "envoy.filters.http.ratelimit",
    "envoy.router": "envoy.filters.http.router",
    "envoy.squash": "envoy.filters.http.squash",
    "envoy.listener.http_inspector": "envoy.filters.listener.http_inspector",
    "envoy.listener.original_dst": "envoy.filters.listener.original_dst",
    "envoy.listener.original_src": "envoy.filters.listener.original_src",
    "envoy.listener.proxy_protocol": "envoy.filters.listener.proxy_protocol",
    "envoy.listener.tls_inspector": "envoy.filters.listener.tls_inspector",
    "envoy.client_ssl_auth": "envoy.filters.network.client_ssl_auth",
    "envoy.http_connection_manager": HCM,
    "envoy.mongo_proxy": "envoy.filters.network.mongo_proxy",
    "envoy.ratelimit": "envoy.filters.network.ratelimit",
    "envoy.redis_proxy": "envoy.filters.network.redis_proxy",
    "envoy.tcp_proxy": "envoy.filters.network.tcp_proxy",
}
# google.protobuf.Duration in JSON: seconds with up to nine fractional digits and an "s".
_PROTO_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
_HTTP_FILTER_FIELDS = {
    "name": "name",
    "typed_config": "typed_config",
    "typedConfig": "typed_config",
    "config_discovery": "config_discovery",
    "configDiscovery": "config_discovery",
    "is_optional": "is_optional",
    "isOptional": "is_optional",
    "disabled": "disabled",
}
# HTTPFault fields that change nothing in a sidecar: runtime keys (no runtime overrides, so
# the configured values hold), stats and metadata. The fault compiler ignores them too.
INERT_FAULT_FIELDS = frozenset(
    {
        "delay_percent_runtime",
        "abort_percent_runtime",
        "delay_duration_runtime",
        "abort_http_status_runtime",
        "max_active_faults_runtime",
        "response_rate_limit_percent_runtime",
        "abort_grpc_status_runtime",
        "disable_downstream_cluster_stats",
        "filter_metadata",
    }
)
_FAULT_FIELDS = INERT_FAULT_FIELDS | {
    "delay",
    "abort",
    "upstream_cluster",
    "headers",
    "downstream_nodes",
    "max_active_faults",
    "response_rate_limit",
}
_DELAY_FIELDS = frozenset({"fixed_delay", "header_delay", "percentage"})
_ABORT_FIELDS = frozenset({"http_status", "grpc_status", "header_abort", "percentage"})
_FIX_VALUE = "write the value as Envoy's proto JSON (see the Envoy API reference for the type)"


def snake(name: str) -> str:
    """A proto JSON name (``fixedDelay``) as its field name (``fixed_delay``)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def validate_envoy_filter(spec: EnvoyFilterSpec) -> list[Finding]:
    out = Findings()
    out.warn("spec", WARNING, "prefer VirtualService/DestinationRule where they can say it")
    selector = spec.workload_selector
    if selector is not None:
        check_workload_selector(
            out,
            "spec.workloadSelector",
            selector.labels or {},
            without_labels="Envoy filter: workload selector specified without labels, will be "
            "applied to all services in namespace",
        )
        if any(f.level == "Error" for f in out.items):
            return out.items  # validateEnvoyFilter returns at a bad selector
    for index, patch in enumerate(spec.config_patches or ()):
        _patch(out, f"spec.configPatches[{index}]", patch)
    return out.items


def _patch(out: Findings, where: str, cp: EnvoyConfigObjectPatch | None) -> None:
    if cp is None:
        out.error(where, "Envoy filter: null config patch", "remove the empty list item")
        return
    if cp.apply_to in (None, "INVALID"):
        out.error(f"{where}.applyTo", "Envoy filter: missing applyTo", "say what to patch")
        return
    if cp.patch is None:
        out.error(f"{where}.patch", "Envoy filter: missing patch", "add patch.operation")
        return
    if cp.patch.operation in (None, "INVALID"):
        out.error(
            f"{where}.patch.operation",
            "Envoy filter: missing patch operation",
            "add e.g. operation: INSERT_BEFORE",
        )
        return
    if cp.patch.operation != "REMOVE" and cp.patch.value is None:
        out.error(
            f"{where}.patch.value",
            "Envoy filter: missing patch value for non-remove operation",
            "add the Envoy config to insert or merge",
        )
        return
    match = cp.match
    if match is not None and match.proxy is not None and match.proxy.proxy_version:
        try:
            compile_re2(match.proxy.proxy_version)
        except ValueError as exc:
            out.error(
                f"{where}.match.proxy.proxyVersion",
                f"Envoy filter: invalid regex for proxy version, [{exc}]",
                "write an RE2 regular expression",
            )
            return
    if match is not None and match.object_types and not _match_lines_up(out, where, cp):
        return
    _value(out, f"{where}.patch.value", cp.apply_to, cp.patch.value)


def _match_lines_up(out: Findings, where: str, cp: EnvoyConfigObjectPatch) -> bool:
    """applyTo, match and patch line up; False where Istio skips the rest of the patch."""
    match = cp.match
    assert match is not None
    if cp.apply_to in LISTENER_CLASS:
        listener = match.listener
        if listener is None:
            out.error(
                f"{where}.match",
                "Envoy filter: applyTo for listener class objects cannot have non listener match",
                "match on listener",
            )
            return False
        chain = listener.filter_chain
        if chain is None or chain.filter is None:
            return True
        at = f"{where}.match.listener.filterChain.filter"
        if cp.apply_to in ("LISTENER", "FILTER_CHAIN"):
            out.warn(at, f"Envoy filter: filter match has no effect when used with {cp.apply_to}")
        if not chain.filter.name:
            out.error(f"{at}.name", "Envoy filter: filter match has no name to match on", "name it")
            return False
        if chain.filter.sub_filter is not None:
            if cp.apply_to != "HTTP_FILTER":
                out.error(
                    f"{at}.subFilter",
                    "Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only",
                    "use applyTo: HTTP_FILTER, or drop subFilter",
                )
                return False
            if chain.filter.name not in (HCM, "envoy.http_connection_manager"):
                out.error(
                    f"{at}.name",
                    f"Envoy filter: subfilter match requires filter match with {HCM}",
                    f"match filter name {HCM}",
                )
                return False
            if not chain.filter.sub_filter.name:
                out.error(
                    f"{at}.subFilter.name",
                    "Envoy filter: subfilter match has no name to match on",
                    "name the HTTP filter, e.g. envoy.filters.http.router",
                )
                return False
        names = [chain.filter.name, chain.filter.sub_filter.name if chain.filter.sub_filter else ""]
        for name in names:
            if name and name in DEPRECATED_NAMES:
                out.warn(
                    at,
                    f"using deprecated filter name {go_quote(name)}; use "
                    f"{go_quote(DEPRECATED_NAMES[name])} instead",
                )
    elif cp.apply_to in ROUTE_CLASS and match.route_configuration is None:
        out.error(
            f"{where}.match",
            "Envoy filter: applyTo for http route class objects cannot have non route "
            "configuration match",
            "match on routeConfiguration",
        )
    elif cp.apply_to == "CLUSTER" and match.cluster is None:
        out.error(
            f"{where}.match",
            "Envoy filter: applyTo for cluster class objects cannot have non cluster match",
            "match on cluster",
        )
    return True


# --- the patch value, decoded as Envoy's proto would be ------------------------------------


def _value(out: Findings, where: str, apply_to: str | None, value: dict[str, Any] | None) -> None:
    if value is None or apply_to != "HTTP_FILTER":
        return  # REMOVE, or an Envoy message chaoskit does not decode
    for key, item in value.items():
        field = _HTTP_FILTER_FIELDS.get(key)
        if field is None:
            out.warn(
                f"{where}.{key}",
                f"Envoy filter: unknown field {go_quote(key)} in {HTTP_FILTER_TYPE}",
                "remove it or check its spelling",
            )
        elif field == "name" and not isinstance(item, str):
            out.error(f"{where}.{key}", _type_error(item, "string"), _FIX_VALUE)
        elif field in ("is_optional", "disabled") and not isinstance(item, bool):
            out.error(f"{where}.{key}", _type_error(item, "bool"), _FIX_VALUE)
        elif field == "typed_config":
            _typed_config(out, f"{where}.{key}", item)


def _type_error(value: Any, go_type: str) -> str:
    kind = {bool: "bool", str: "string", int: "number", float: "number", list: "array"}.get(
        type(value), "object"
    )
    return f"Envoy filter: json: cannot unmarshal {kind} into Go value of type {go_type}"


def _typed_config(out: Findings, where: str, config: Any) -> None:
    if not isinstance(config, dict):
        out.error(where, _type_error(config, "anypb.Any"), _FIX_VALUE)
        return
    type_url = config.get("@type")
    if not isinstance(type_url, str) or not type_url:
        out.error(
            where,
            "Envoy filter: Any JSON doesn't have '@type'",
            f"add '@type: {TYPE_PREFIX}<the filter's config message>'",
        )
        return
    message = type_url.rsplit("/", 1)[-1]
    if ".v2." in message or message.startswith("envoy.config.filter."):
        # Istio no longer links Envoy's v2 protos: such a type cannot be resolved.
        out.error(
            f"{where}.@type",
            "referenced type unknown (hint: try using the v3 XDS API): could not resolve Any "
            f"message type: {type_url}",
            "use the v3 type, e.g. " + TYPE_PREFIX + FAULT_TYPE,
        )
        return
    if message == FAULT_TYPE:
        fields = {snake(k): (k, v) for k, v in config.items() if k != "@type"}
        _fields(out, where, fields, _FAULT_FIELDS, FAULT_TYPE)
        if "delay" in fields:
            _fault_part(out, f"{where}.{fields['delay'][0]}", fields["delay"][1], delay=True)
        if "abort" in fields:
            _fault_part(out, f"{where}.{fields['abort'][0]}", fields["abort"][1], delay=False)
        if "max_active_faults" in fields:
            key, count = fields["max_active_faults"]
            _unsigned(out, f"{where}.{key}", count)


def _fields(
    out: Findings,
    where: str,
    fields: dict[str, tuple[str, Any]],
    known: frozenset[str],
    message: str,
) -> None:
    for name, (key, _) in fields.items():
        if name not in known:
            out.warn(
                f"{where}.{key}",
                f"Envoy filter: unknown field {go_quote(key)} in {message}",
                "remove it or check its spelling",
            )


def _fault_part(out: Findings, where: str, part: Any, *, delay: bool) -> None:
    message = (
        "envoy.extensions.filters.common.fault.v3.FaultDelay"
        if delay
        else ("envoy.extensions.filters.http.fault.v3.FaultAbort")
    )
    if not isinstance(part, dict):
        out.error(where, _type_error(part, message), _FIX_VALUE)
        return
    fields = {snake(k): (k, v) for k, v in part.items()}
    _fields(out, where, fields, _DELAY_FIELDS if delay else _ABORT_FIELDS, message)
    if "fixed_delay" in fields:
        key, text = fields["fixed_delay"]
        if not isinstance(text, str) or not _PROTO_DURATION.match(text):
            out.error(
                f"{where}.{key}",
                f"Envoy filter: invalid google.protobuf.Duration value {text!r}",
                "write seconds with an 's', e.g. '0.250s' (proto JSON has no 'ms' unit)",
            )
    for name in ("http_status", "grpc_status"):
        if name in fields:
            key, status = fields[name]
            _unsigned(out, f"{where}.{key}", status)
    if "percentage" in fields:
        key, percent = fields["percentage"]
        _fraction(out, f"{where}.{key}", percent)


def _unsigned(out: Findings, where: str, value: Any) -> None:
    number = value
    if isinstance(value, str) and value.isdigit():
        number = int(value)  # proto JSON also accepts a 32-bit integer as a string
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < 2**32:
        out.error(where, f"Envoy filter: invalid value for uint32 field: {value!r}", _FIX_VALUE)


def _fraction(out: Findings, where: str, percent: Any) -> None:
    if not isinstance(percent, dict):
        out.error(where, _type_error(percent, "FractionalPercent"), _FIX_VALUE)
        return
    for key, item in percent.items():
        if key == "numerator":
            _unsigned(out, f"{where}.numerator", item)
        elif key == "denominator":
            if item not in FRACTION_DENOMINATORS and item not in (0, 1, 2):
                out.error(
                    f"{where}.denominator",
                    "Envoy filter: invalid value for enum type "
                    f"envoy.type.v3.FractionalPercent.DenominatorType: {item!r}",
                    f"use one of {', '.join(FRACTION_DENOMINATORS)}",
                )
        else:
            out.warn(
                f"{where}.{key}",
                f"Envoy filter: unknown field {go_quote(key)} in envoy.type.v3.FractionalPercent",
                "a FractionalPercent has numerator and denominator",
            )


__all__ = ["DEPRECATED_NAMES", "FAULT_TYPE", "HCM", "snake", "validate_envoy_filter"]
