"""Which EnvoyFilter patches the embedded mesh runs: Envoy's fault filter on the inbound side.

The embedded sidecar is not Envoy, so it cannot apply an arbitrary patch. It runs one
shape, the one the cluster backend writes for a failing replica: ``applyTo: HTTP_FILTER``
in ``SIDECAR_INBOUND``, inserted before the router (``INSERT_BEFORE`` with a sub-filter
match on ``envoy.filters.http.router``, or first in the chain), whose ``typed_config`` is
an ``envoy.extensions.filters.http.fault.v3.HTTPFault`` with a fixed delay and/or an HTTP
abort, each with its ``percentage``. :func:`emulated_patch` compiles such a patch, or says
why it cannot, and ``chaoskit analyze`` reports that reason (``CK0301``).

Envoy's semantics kept (``source/extensions/filters/http/fault/fault_filter.cc`` and
``filters/common/fault/fault_config.cc``): a ``FaultDelay``/``FaultAbort`` without a
``percentage`` has the proto default, numerator 0, so it never fires; a numerator above its
denominator is 100%. The filter reads ``x-envoy-fault-*`` request headers only when the
config has ``header_delay``/``header_abort``, which this shape does not, so headers do
nothing here either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chaoskit.istio.envoy_filter import EnvoyConfigObjectPatch
from chaoskit.istio.validation.envoy_filter import (
    FAULT_TYPE,
    HCM,
    INERT_FAULT_FIELDS as _INERT_FAULT_FIELDS,
    snake,
)
from chaoskit.mesh.config import MILLION, FaultSpec, HttpFilter

ROUTER = "envoy.filters.http.router"
_HCM_NAMES = (HCM, "envoy.http_connection_manager")
_ROUTER_NAMES = (ROUTER, "envoy.router")
_SCALE = {"HUNDRED": 10_000, "TEN_THOUSAND": 100, "MILLION": 1, 0: 10_000, 1: 100, 2: 1}
WHAT_TO_DO = (
    "the embedded mesh ignores this patch (a real cluster applies it): test it with --mesh "
    "kind, or express the fault as an HTTPFault inserted before envoy.filters.http.router "
    "on SIDECAR_INBOUND"
)


@dataclass(frozen=True, slots=True)
class PatchVerdict:
    """One config patch: the filter the embedded sidecar runs for it, or why none."""

    index: int
    apply_to: str
    context: str
    operation: str
    http_filter: HttpFilter | None = None
    reason: str = ""

    def describe(self) -> str:
        return (
            f"configPatches[{self.index}] (applyTo {self.apply_to}, context {self.context}, "
            f"operation {self.operation})"
        )


def emulated_patch(index: int, patch: EnvoyConfigObjectPatch | None) -> PatchVerdict:
    if patch is None:
        return PatchVerdict(index, "-", "-", "-", reason="the patch is empty")
    match, body = patch.match, patch.patch
    verdict = PatchVerdict(
        index,
        patch.apply_to or "INVALID",
        (match.context if match is not None else None) or "ANY",
        (body.operation if body is not None else None) or "INVALID",
    )
    http_filter, reason = _compile(patch)
    if http_filter is None:
        return PatchVerdict(
            verdict.index, verdict.apply_to, verdict.context, verdict.operation, reason=reason
        )
    return PatchVerdict(
        verdict.index, verdict.apply_to, verdict.context, verdict.operation, http_filter
    )


def _compile(patch: EnvoyConfigObjectPatch) -> tuple[HttpFilter | None, str]:
    if patch.apply_to != "HTTP_FILTER":
        return None, f"applyTo {patch.apply_to} is not emulated (only HTTP_FILTER)"
    match = patch.match
    if match is None or match.context != "SIDECAR_INBOUND":
        context = (match.context if match else None) or "ANY"
        return None, f"context {context} is not emulated (only SIDECAR_INBOUND)"
    if match.proxy is not None:
        return None, "a match on proxy version or metadata is not emulated"
    if match.route_configuration is not None or match.cluster is not None:
        return None, "an HTTP_FILTER patch matches listeners only"
    ports: tuple[int, ...] = ()
    sub_filter = ""
    listener = match.listener
    if listener is not None:
        if listener.port_name or listener.listener_filter:
            return None, "a listener match on portName or listenerFilter is not emulated"
        if listener.name not in (None, "", "virtualInbound"):
            return None, f"listener {listener.name!r} is not a sidecar's inbound listener"
        if listener.port_number:
            ports = (listener.port_number,)
        chain = listener.filter_chain
        if chain is not None:
            extra = [
                name
                for name, value in (
                    ("name", chain.name),
                    ("sni", chain.sni),
                    ("transportProtocol", chain.transport_protocol),
                    ("applicationProtocols", chain.application_protocols),
                    ("destinationPort", chain.destination_port),
                )
                if value
            ]
            if extra:
                return None, f"a filterChain match on {', '.join(extra)} is not emulated"
            if chain.filter is not None:
                if chain.filter.name not in _HCM_NAMES:
                    return None, f"network filter {chain.filter.name!r} has no HTTP filters"
                sub_filter = (chain.filter.sub_filter.name or "") if chain.filter.sub_filter else ""
    body = patch.patch
    assert body is not None  # validation refuses a patch without one
    if body.filter_class not in (None, "UNSPECIFIED"):
        return None, f"filterClass {body.filter_class} is not emulated"
    operation = body.operation
    if operation == "INSERT_BEFORE":
        if sub_filter and sub_filter not in _ROUTER_NAMES:
            return None, f"inserting before {sub_filter!r} is not emulated (only the router)"
    elif operation != "INSERT_FIRST":
        return None, f"operation {operation} is not emulated (only INSERT_BEFORE the router)"
    fault, reason = _fault(body.value or {})
    if fault is None:
        return None, reason
    name = str((body.value or {}).get("name") or "envoy.filters.http.fault")
    return HttpFilter(name, fault, ports), ""


def _fault(value: dict[str, Any]) -> tuple[FaultSpec | None, str]:
    config = value.get("typed_config", value.get("typedConfig"))
    type_url = str(config.get("@type", "")) if isinstance(config, dict) else ""
    if not isinstance(config, dict) or type_url.rsplit("/", 1)[-1] != FAULT_TYPE:
        return None, f"filter type {type_url or '(none)'} is not emulated (only {FAULT_TYPE})"
    fields = {snake(k): v for k, v in config.items() if k != "@type"}
    unknown = sorted(set(fields) - {"delay", "abort"} - _INERT_FAULT_FIELDS)
    if unknown:
        return None, f"HTTPFault {', '.join(unknown)} is not emulated"
    delay = {snake(k): v for k, v in (fields.get("delay") or {}).items()}
    abort = {snake(k): v for k, v in (fields.get("abort") or {}).items()}
    if "header_delay" in delay or "header_abort" in abort:
        return None, "header-controlled faults (x-envoy-fault-* headers) are not emulated"
    if "grpc_status" in abort:
        return None, "a gRPC abort is not emulated"
    if abort and "http_status" not in abort:
        return None, "an abort without http_status is not emulated"
    delay_s = None
    if "fixed_delay" in delay:
        delay_s = float(str(delay["fixed_delay"]).removesuffix("s"))
    return (
        FaultSpec(
            delay_s=delay_s,
            delay_per_million=_per_million(delay.get("percentage")),
            abort_status=int(abort["http_status"]) if abort else None,
            abort_per_million=_per_million(abort.get("percentage")),
        ),
        "",
    )


def _per_million(percent: Any) -> int:
    """An Envoy ``FractionalPercent`` per million; unset is numerator 0 (never)."""
    if not isinstance(percent, dict):
        return 0
    numerator = int(percent.get("numerator") or 0)
    scale = _SCALE.get(percent.get("denominator", "HUNDRED"), 10_000)
    return min(numerator * scale, MILLION)


__all__ = ["ROUTER", "WHAT_TO_DO", "PatchVerdict", "emulated_patch"]
