"""Istio's semantic validation (what istiod's webhook refuses or warns about), as located findings.

The pydantic models enforce shape (types, enums, oneofs, unknown fields: the CRD schema's
job). This package adds the rules of istio/istio ``pkg/config/validation`` (``validation.go``,
``virtualservice.go`` and ``agent/validation.go``): ranges, required fields, exclusive
actions, duration floors. Messages use Istio's wording; ``fix`` is chaoskit's hint. Errors
become IST0106 (SchemaValidationError), warnings IST0133 (SchemaWarning), as istioctl's
schema analyzer reports them. See docs/istio-validation-notes.md.

One module per kind, as Istio splits its package: ``virtual_service``,
``destination_rule``, ``gateway``, ``service_entry``, ``envoy_filter``; the field checks
they share are in ``fields``, the API server's name checks in ``metadata``.
"""

from __future__ import annotations

from chaoskit.istio.resources import (
    DestinationRule,
    EnvoyFilter,
    Gateway,
    IstioResource,
    ServiceEntry,
    VirtualService,
)
from chaoskit.istio.validation.destination_rule import validate_destination_rule
from chaoskit.istio.validation.envoy_filter import validate_envoy_filter
from chaoskit.istio.validation.fields import wildcard_domain_error
from chaoskit.istio.validation.findings import Finding, Level
from chaoskit.istio.validation.gateway import validate_gateway
from chaoskit.istio.validation.metadata import validate_metadata
from chaoskit.istio.validation.service_entry import validate_service_entry
from chaoskit.istio.validation.virtual_service import validate_virtual_service

__all__ = [
    "Finding",
    "Level",
    "validate_destination_rule",
    "validate_envoy_filter",
    "validate_gateway",
    "validate_metadata",
    "validate_resource",
    "validate_service_entry",
    "validate_virtual_service",
    "wildcard_domain_error",
]


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
    elif isinstance(resource, EnvoyFilter):
        findings += validate_envoy_filter(resource.spec)
    return findings
