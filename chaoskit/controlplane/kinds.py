"""The resource kinds the embedded API server serves."""

from __future__ import annotations

from chaoskit.controlplane.store import Kind
from chaoskit.istio.resources import LOADABLE_TYPES

ISTIO_KINDS: dict[str, Kind] = {
    cls.plural: Kind(cls.group, cls.kind_name, cls.plural) for cls in LOADABLE_TYPES.values()
}
# The versions each Istio kind is served at, as its CRD declares them (EnvoyFilter:
# v1alpha3 only, istio/istio 1.28.10 manifests/charts/base/files/crd-all.gen.yaml).
ISTIO_VERSIONS: dict[str, tuple[str, ...]] = {
    cls.plural: cls.api_versions for cls in LOADABLE_TYPES.values()
}
SECRETS = Kind("", "Secret", "secrets")
PODS = Kind("", "Pod", "pods")
SERVICES = Kind("", "Service", "services")
NAMESPACES = Kind("", "Namespace", "namespaces", namespaced=False)
