"""The API server's own checks of object names, before Istio's webhook sees the object."""

from __future__ import annotations

import re
from collections.abc import Iterable

from chaoskit.istio.resources import IstioResource
from chaoskit.istio.validation.findings import Finding

# Kubernetes object names (the API server's rule, before the webhook).
_K8S_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_K8S_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


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
