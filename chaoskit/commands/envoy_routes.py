"""The embedded sidecar's route tables as Envoy's ``RouteConfiguration`` JSON.

``istioctl proxy-config routes -o json`` prints the ``routeConfig`` of each entry of the
config dump's ``dynamicRouteConfigs``, as protobuf JSON (lowerCamelCase names, durations
as ``"7s"``, 64-bit integers as strings, enums by name): see
``istioctl/pkg/writer/envoy/configdump/route.go`` (``PrintRouteDump``) in istio/istio.
The fields follow what istiod writes for a sidecar (``pilot/pkg/networking/core/route/
route.go``): ``timeout: 0s`` and a zero ``maxStreamDuration`` when the VirtualService sets
no timeout, the VirtualService named in ``metadata.filterMetadata.istio.config``, faults
in ``typedPerFilterConfig`` under ``envoy.filters.http.fault`` with MILLION-denominated
percentages, and ``includeRequestAttemptCount`` on each virtual host. So jq scripts
written against istioctl's output read this one the same.
"""

from __future__ import annotations

from typing import Any

FAULT_FILTER = "envoy.filters.http.fault"
FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
PREVIOUS_HOSTS = "envoy.retry_host_predicates.previous_hosts"
PREVIOUS_HOSTS_TYPE = (
    "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
)
REDIRECT_CODES = {
    301: "MOVED_PERMANENTLY",
    302: "FOUND",
    303: "SEE_OTHER",
    307: "TEMPORARY_REDIRECT",
    308: "PERMANENT_REDIRECT",
}


def route_configurations(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Envoy v3 ``RouteConfiguration`` JSON for each of the sidecar's route tables."""
    return [
        {
            "name": config["name"],
            "virtualHosts": [_virtual_host(v) for v in config["virtual_hosts"]],
            "validateClusters": False,
        }
        for config in configs
    ]


def duration(seconds: float) -> str:
    """protobuf JSON's Duration: ``"7s"``, ``"0.500s"`` (0, 3, 6 or 9 decimals)."""
    nanos = round(seconds * 1e9)
    whole, fraction = divmod(nanos, 10**9)
    if fraction == 0:
        return f"{whole}s"
    digits = f"{fraction:09d}"
    for width in (3, 6):
        if digits[width:] == "0" * (9 - width):
            return f"{whole}.{digits[:width]}s"
    return f"{whole}.{digits}s"


def _percent(per_million: int) -> dict[str, Any]:
    return {"numerator": per_million, "denominator": "MILLION"}


def _virtual_host(vhost: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": vhost["name"],
        "domains": list(vhost["domains"]),
        "routes": [_route(r) for r in vhost["routes"]],
        "includeRequestAttemptCount": True,
    }


def _string_match(matcher: dict[str, Any]) -> dict[str, Any]:
    kind, value = matcher["kind"], matcher.get("value", "")
    found: dict[str, Any] = {"safeRegex": {"regex": value}} if kind == "regex" else {kind: value}
    if matcher.get("ignore_case"):
        found["ignoreCase"] = True
    return found


def _header(name: str, matcher: dict[str, Any], invert: bool = False) -> dict[str, Any]:
    header: dict[str, Any] = {"name": name}
    if matcher["kind"] == "present":
        header["presentMatch"] = True
    else:
        header["stringMatch"] = _string_match(matcher)
    if invert:
        header["invertMatch"] = True
    return header


def _match(match: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    path = match.get("path") or {"kind": "prefix", "value": "/"}
    kind, value = path["kind"], path.get("value", "")
    if kind == "regex":
        found["safeRegex"] = {"regex": value}
    else:
        found["path" if kind == "exact" else "prefix"] = value
    if path.get("ignore_case"):
        found["caseSensitive"] = False
    headers = [
        _header(pseudo, match[field])
        for field, pseudo in (("method", ":method"), ("scheme", ":scheme"))
        if match.get(field)
    ]
    if match.get("authority"):
        headers.append(_header(":authority", match["authority"]))
    headers += [_header(h["name"], h["matcher"], h.get("invert", False)) for h in match["headers"]]
    if headers:
        found["headers"] = headers
    queries = [
        {"name": q["name"], "presentMatch": True}
        if q["matcher"]["kind"] == "present"
        else {"name": q["name"], "stringMatch": _string_match(q["matcher"])}
        for q in match.get("query_params", [])
    ]
    if queries:
        found["queryParameters"] = queries
    return found


def _header_options(mutation: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    if not mutation:
        return {}
    found: dict[str, Any] = {}
    added = [
        {"header": {"key": k, "value": v}, "appendAction": "OVERWRITE_IF_EXISTS_OR_ADD"}
        for k, v in mutation.get("set", [])
    ] + [
        {"header": {"key": k, "value": v}, "appendAction": "APPEND_IF_EXISTS_OR_ADD"}
        for k, v in mutation.get("add", [])
    ]
    if added:
        found[f"{prefix}HeadersToAdd"] = added
    if mutation.get("remove"):
        found[f"{prefix}HeadersToRemove"] = list(mutation["remove"])
    return found


def _retry(retry: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "retryOn": ",".join(retry["retry_on"]),
        "numRetries": retry["num_retries"],
    }
    if retry.get("per_try_timeout_s") is not None:
        policy["perTryTimeout"] = duration(retry["per_try_timeout_s"])
    if retry.get("retry_previous_hosts"):
        policy["retryHostPredicate"] = [
            {"name": PREVIOUS_HOSTS, "typedConfig": {"@type": PREVIOUS_HOSTS_TYPE}}
        ]
    policy["hostSelectionRetryMaxAttempts"] = str(retry["host_selection_max_attempts"])
    if retry.get("retriable_status_codes"):
        policy["retriableStatusCodes"] = list(retry["retriable_status_codes"])
    if retry.get("retriable_header_names"):
        policy["retriableHeaders"] = [{"name": n} for n in retry["retriable_header_names"]]
    if retry.get("backoff_max_s") is not None:
        policy["retryBackOff"] = {
            "baseInterval": duration(retry["backoff_base_s"]),
            "maxInterval": duration(retry["backoff_max_s"]),
        }
    return policy


def _action(route: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = {}
    clusters = route["clusters"]
    if len(clusters) == 1:
        action["cluster"] = clusters[0]["cluster"]
    else:
        action["weightedClusters"] = {
            "clusters": [
                {
                    "name": c["cluster"],
                    "weight": c["weight"],
                    **_header_options(c.get("request_headers"), "request"),
                    **_header_options(c.get("response_headers"), "response"),
                }
                for c in clusters
            ]
        }
    timeout = duration(route["timeout_s"]) if route.get("timeout_s") is not None else "0s"
    action["timeout"] = timeout
    if route.get("retry"):
        action["retryPolicy"] = _retry(route["retry"])
    if route.get("mirrors"):
        action["requestMirrorPolicies"] = [
            {
                "cluster": m["cluster"],
                "runtimeFraction": {"defaultValue": _percent(m["per_million"])},
                "traceSampled": False,
            }
            for m in route["mirrors"]
        ]
    rewrite = route.get("rewrite") or {}
    if rewrite.get("prefix") is not None:
        action["prefixRewrite"] = rewrite["prefix"]
    if rewrite.get("regex") is not None:
        action["regexRewrite"] = {
            "pattern": {"regex": rewrite["regex"]},
            "substitution": rewrite.get("substitution") or "",
        }
    if rewrite.get("authority"):
        action["hostRewriteLiteral"] = rewrite["authority"]
    action["maxStreamDuration"] = {"maxStreamDuration": timeout, "grpcTimeoutHeaderMax": timeout}
    return action


def _fault(fault: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"@type": FAULT_TYPE}
    if fault.get("delay_s") is not None:
        found["delay"] = {
            "fixedDelay": duration(fault["delay_s"]),
            "percentage": _percent(fault["delay_per_million"]),
        }
    if fault.get("abort_status") is not None or fault.get("abort_grpc_status") is not None:
        abort: dict[str, Any] = {"percentage": _percent(fault["abort_per_million"])}
        if fault.get("abort_status") is not None:
            abort["httpStatus"] = fault["abort_status"]
        else:
            abort["grpcStatus"] = fault["abort_grpc_status"]
        found["abort"] = abort
    return found


def _route(route: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"name": route["name"], "match": _match(route["match"])}
    if route.get("redirect"):
        redirect = route["redirect"]
        found["redirect"] = {
            k: v
            for k, v in (
                ("pathRedirect", redirect.get("uri")),
                ("hostRedirect", redirect.get("authority")),
                ("portRedirect", redirect.get("port")),
                ("schemeRedirect", redirect.get("scheme")),
                ("responseCode", REDIRECT_CODES.get(redirect.get("code", 301))),
            )
            if v is not None
        }
    elif route.get("direct_response"):
        direct = route["direct_response"]
        found["directResponse"] = {"status": direct["status"]}
        if direct.get("body"):
            found["directResponse"]["body"] = {"inlineString": direct["body"]}
    else:
        found["route"] = _action(route)
    if route.get("virtual_service"):
        name, _, namespace = route["virtual_service"].rpartition(".")
        config = f"/apis/networking.istio.io/v1/namespaces/{namespace}/virtual-service/{name}"
        found["metadata"] = {"filterMetadata": {"istio": {"config": config}}}
    if route.get("fault"):
        found["typedPerFilterConfig"] = {FAULT_FILTER: _fault(route["fault"])}
    found.update(_header_options(route.get("request_headers"), "request"))
    found.update(_header_options(route.get("response_headers"), "response"))
    return found
