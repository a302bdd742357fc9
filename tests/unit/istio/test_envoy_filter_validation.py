"""EnvoyFilter validation: the cases of istio/istio 1.28.10
``pkg/config/validation/envoyfilter/envoyfilter_test.go`` (TestValidateEnvoyFilter), with
Istio's messages, plus the fault-filter values chaoskit decodes."""

from __future__ import annotations

from typing import Any

import pytest

from chaoskit.istio.envoy_filter import EnvoyFilterSpec
from chaoskit.istio.validation.envoy_filter import WARNING, validate_envoy_filter

HCM = "envoy.filters.network.http_connection_manager"
FAULT = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"


def _findings(spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    found = validate_envoy_filter(EnvoyFilterSpec.model_validate(spec))
    errors = [f.message for f in found if f.level == "Error"]
    warnings = [f.message for f in found if f.level == "Warning" and f.message != WARNING]
    return errors, warnings


def _patch(apply_to: str, match: dict[str, Any] | None, patch: dict[str, Any] | None) -> Any:
    item: dict[str, Any] = {"applyTo": apply_to}
    if match is not None:
        item["match"] = match
    if patch is not None:
        item["patch"] = patch
    return {"configPatches": [item]}


def _hcm_filter(sub: str | None = "envoy.filters.http.router", name: str = HCM) -> Any:
    chain: dict[str, Any] = {"filter": {"name": name}}
    if sub is not None:
        chain["filter"]["subFilter"] = {"name": sub}
    return {"listener": {"filterChain": chain}}


ADD = {"operation": "ADD", "value": {"name": "x"}}
CASES = [
    ("empty", {}, ""),
    ("missing applyTo", {"configPatches": [{"patch": ADD}]}, "Envoy filter: missing applyTo"),
    ("nil patch", _patch("LISTENER", None, None), "Envoy filter: missing patch"),
    (
        "no operation",
        _patch("LISTENER", None, {"value": {}}),
        "Envoy filter: missing patch operation",
    ),
    (
        "no value",
        _patch("LISTENER", None, {"operation": "ADD"}),
        "Envoy filter: missing patch value for non-remove operation",
    ),
    (
        "bad proxy regex",
        _patch("LISTENER", {"proxy": {"proxyVersion": "%#@~++==`24c234`"}}, ADD),
        "Envoy filter: invalid regex for proxy version, [",
    ),
    (
        "listener class with a cluster match",
        _patch("LISTENER", {"cluster": {"service": "x"}}, ADD),
        "Envoy filter: applyTo for listener class objects cannot have non listener match",
    ),
    (
        "filter match without a name",
        _patch("NETWORK_FILTER", {"listener": {"filterChain": {"filter": {}}}}, ADD),
        "Envoy filter: filter match has no name to match on",
    ),
    (
        "sub filter with NETWORK_FILTER",
        _patch("NETWORK_FILTER", _hcm_filter(), ADD),
        "Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only",
    ),
    (
        "sub filter under another network filter",
        _patch("HTTP_FILTER", _hcm_filter(name="envoy.filters.network.tcp_proxy"), ADD),
        f"Envoy filter: subfilter match requires filter match with {HCM}",
    ),
    (
        "sub filter without a name",
        _patch("HTTP_FILTER", _hcm_filter(sub=""), ADD),
        "Envoy filter: subfilter match has no name to match on",
    ),
    (
        "route class with a listener match",
        _patch("HTTP_ROUTE", {"listener": {"name": "x"}}, ADD),
        "Envoy filter: applyTo for http route class objects cannot have non route "
        "configuration match",
    ),
    (
        "cluster with a listener match",
        _patch("CLUSTER", {"listener": {"name": "x"}}, ADD),
        "Envoy filter: applyTo for cluster class objects cannot have non cluster match",
    ),
    (
        "a v2 type",
        _patch(
            "HTTP_FILTER",
            _hcm_filter(),
            {
                "operation": "INSERT_BEFORE",
                "value": {
                    "name": "f",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.config.filter.http.fault.v2.HTTPFault"
                    },
                },
            },
        ),
        "referenced type unknown (hint: try using the v3 XDS API)",
    ),
    (
        "a name that is not a string",
        _patch("HTTP_FILTER", _hcm_filter(), {"operation": "INSERT_BEFORE", "value": {"name": 1}}),
        "Envoy filter: json: cannot unmarshal number into Go value of type string",
    ),
    (
        "a duration in ms",
        _patch(
            "HTTP_FILTER",
            _hcm_filter(),
            {
                "operation": "INSERT_BEFORE",
                "value": {
                    "name": "f",
                    "typed_config": {"@type": FAULT, "delay": {"fixed_delay": "250ms"}},
                },
            },
        ),
        "Envoy filter: invalid google.protobuf.Duration value '250ms'",
    ),
]


@pytest.mark.parametrize(("spec", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_istio_envoy_filter_cases(spec: dict[str, Any], error: str) -> None:
    errors, _ = _findings(spec)
    if not error:
        assert errors == []
    else:
        assert len(errors) == 1, errors
        assert errors[0].startswith(error), errors


def test_every_envoy_filter_carries_istios_warning_and_selectors_are_checked() -> None:
    found = validate_envoy_filter(EnvoyFilterSpec())
    assert [f.message for f in found] == [WARNING]
    errors, warnings = _findings({"workloadSelector": {}})
    assert errors == []
    assert warnings == [
        "Envoy filter: workload selector specified without labels, will be applied to all "
        "services in namespace"
    ]
    errors, _ = _findings({"workloadSelector": {"labels": {"app": "web*"}}})
    assert errors == ['wildcard is not supported in selector: "app=web*"']


def test_the_cluster_backends_replica_fault_is_valid_and_deprecated_names_warn() -> None:
    from chaoskit.experiment.cluster_mesh import replica_fault_filter

    body = replica_fault_filter("f", "ns", "sel", {"errorRate": 0.5, "latency": "250ms"})
    assert _findings(body["spec"]) == ([], [])
    old = _patch("HTTP_FILTER", _hcm_filter(sub="envoy.router"), {"operation": "REMOVE"})
    _, warnings = _findings(old)
    assert warnings == [
        'using deprecated filter name "envoy.router"; use "envoy.filters.http.router" instead'
    ]
