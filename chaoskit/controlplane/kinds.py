"""The resource kinds the embedded API server serves."""

from __future__ import annotations

from chaoskit.controlplane.store import Kind
from chaoskit.istio.resources import GROUP, RESOURCE_TYPES

ISTIO_KINDS: dict[str, Kind] = {
    cls.plural: Kind(GROUP, cls.kind_name, cls.plural) for cls in RESOURCE_TYPES.values()
}
SECRETS = Kind("", "Secret", "secrets")
PODS = Kind("", "Pod", "pods")
SERVICES = Kind("", "Service", "services")
NAMESPACES = Kind("", "Namespace", "namespaces", namespaced=False)
