"""EnvoyFilter → the inbound HTTP filters of the selected sidecars (the emulated shape), and
the reasons given for every other patch."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from chaoskit.controlplane.compiler import Compiler
from chaoskit.controlplane.model import MeshState, Ordered, PodView
from chaoskit.experiment.cluster_mesh import replica_fault_filter
from chaoskit.istio.envoy_filter import EnvoyFilterSpec
from chaoskit.istio.envoy_filter_fault import emulated_patch
from chaoskit.istio.loading import load_text
from chaoskit.mesh.config import MILLION

A = PodView("web-a", "shop", "web", (("app", "web"), ("pick", "yes")), "127.9.0.1")
B = PodView("web-b", "shop", "web", (("app", "web"),), "127.9.0.2")
OTHER = PodView("api-a", "other", "api", (("app", "api"), ("pick", "yes")), "127.9.0.3")


def _filter(name: str, namespace: str, labels: dict[str, str] | None, **fault: Any) -> Any:
    body = replica_fault_filter(name, namespace, "x", fault or {"errorRate": 1.0})
    if labels is None:
        del body["spec"]["workloadSelector"]
    else:
        body["spec"]["workloadSelector"] = {"labels": labels}
    return body


def _compiler(*bodies: Any) -> Compiler:
    result = load_text(yaml.safe_dump_all(list(bodies)), "<test>")
    assert [p.describe() for p in result.problems if p.level == "Error"] == []
    state = MeshState(pods=[A, B, OTHER])
    state.envoy_filters = [
        Ordered(r.resource, r.namespace, order)  # type: ignore[misc]
        for order, r in enumerate(result.resources)
    ]
    return Compiler(state)


def test_the_filter_reaches_the_selected_pods_of_its_namespace_only() -> None:
    compiler = _compiler(_filter("f", "shop", {"pick": "yes"}, errorRate=0.25))
    (only,) = compiler.inbound_filters(A)
    assert only.fault.abort_status == 503
    assert only.fault.abort_per_million == MILLION // 4
    assert only.source == "shop/f[0]"
    assert compiler.inbound_filters(B) == ()
    assert compiler.inbound_filters(OTHER) == ()  # same labels, other namespace


def test_root_namespace_filters_apply_everywhere_and_come_first() -> None:
    compiler = _compiler(
        _filter("local", "shop", None, latency="0.5s"),
        _filter("root", "istio-system", {"pick": "yes"}),
    )
    assert [f.source for f in compiler.inbound_filters(A)] == [
        "istio-system/root[0]",
        "shop/local[0]",
    ]
    assert [f.source for f in compiler.inbound_filters(B)] == ["shop/local[0]"]
    assert [f.source for f in compiler.inbound_filters(OTHER)] == ["istio-system/root[0]"]
    delay = compiler.inbound_filters(B)[0].fault
    assert (delay.delay_s, delay.delay_per_million) == (0.5, MILLION)


def _patch(body: Any) -> Any:
    return EnvoyFilterSpec.model_validate(body["spec"]).config_patches[0]  # type: ignore[index]


def test_percentages_follow_envoys_fractional_percent() -> None:
    body = _filter("f", "shop", {"pick": "yes"})
    typed = body["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]
    for percentage, expected in (
        ({"numerator": 5}, 50_000),  # HUNDRED is the proto default
        ({"numerator": 5, "denominator": "TEN_THOUSAND"}, 500),
        ({"numerator": 7, "denominator": "MILLION"}, 7),
        ({"numerator": 300, "denominator": "HUNDRED"}, MILLION),  # above the denominator
        (None, 0),  # unset: numerator 0, the abort never fires
    ):
        changed = copy.deepcopy(body)
        abort = changed["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["abort"]
        if percentage is None:
            del abort["percentage"]
        else:
            abort["percentage"] = percentage
        compiled = emulated_patch(0, _patch(changed)).http_filter
        assert compiled is not None
        assert compiled.fault.abort_per_million == expected, percentage
    assert typed["abort"]["percentage"]["denominator"] == "MILLION"


def test_every_other_patch_is_named_with_the_reason() -> None:
    body = _filter("f", "shop", {"pick": "yes"})
    cases = {
        ("match", "context"): ("SIDECAR_OUTBOUND", "context SIDECAR_OUTBOUND is not emulated"),
        ("applyTo",): ("NETWORK_FILTER", "applyTo NETWORK_FILTER is not emulated"),
        ("patch", "operation"): ("INSERT_AFTER", "operation INSERT_AFTER is not emulated"),
    }
    for path, (value, reason) in cases.items():
        changed = copy.deepcopy(body)
        node = changed["spec"]["configPatches"][0]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        verdict = emulated_patch(0, _patch(changed))
        assert verdict.http_filter is None
        assert verdict.reason.startswith(reason), verdict.reason
    lua = copy.deepcopy(body)
    lua["spec"]["configPatches"][0]["patch"]["value"]["typed_config"] = {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
    }
    verdict = emulated_patch(0, _patch(lua))
    assert "envoy.extensions.filters.http.lua.v3.Lua is not emulated" in verdict.reason
    assert verdict.describe() == (
        "configPatches[0] (applyTo HTTP_FILTER, context SIDECAR_INBOUND, operation INSERT_BEFORE)"
    )
