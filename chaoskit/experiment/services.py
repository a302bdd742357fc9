"""Is the service a fault names one the mesh has? Checked before any load is sent.

Istio accepts a VirtualService for a host nothing serves (``istioctl analyze`` says
nothing either: the host may be created later), so a fault on ``detail`` instead of
``details`` would apply cleanly, run its whole window and end INCONCLUSIVE. An experiment
names a service it means to hurt now, so a name the mesh does not know is an ERROR before
the load, with the closest known name.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from typing import Any

from chaoskit.errors import ConfigError
from chaoskit.experiment.backend import MeshBackend

_SUFFIX = ".svc.cluster.local"


def known_services(backend: MeshBackend) -> dict[str, set[str]]:
    """Namespace -> the short service names the mesh has: the ``app`` label of its pods
    (Bookinfo's and Istio's samples name the Service after it), and every host a
    ServiceEntry, VirtualService or DestinationRule in that namespace names."""
    found: dict[str, set[str]] = defaultdict(set)
    for pod in backend.pods(None):
        if pod.labels.get("app"):
            found[pod.namespace].add(pod.labels["app"])
    for obj in backend.list_objects():
        namespace = obj.get("metadata", {}).get("namespace", "default")
        spec: dict[str, Any] = obj.get("spec") or {}
        hosts = spec.get("hosts") or ([spec["host"]] if spec.get("host") else [])
        for host in hosts:
            name = _short(str(host), namespace)
            if name:
                found[namespace].add(name)
    return found


def _short(host: str, namespace: str) -> str:
    """``details``, ``details.bookinfo`` and its FQDN all name ``details`` in bookinfo."""
    if host.endswith(_SUFFIX):
        host = host.removesuffix(_SUFFIX)
    name, _, rest = host.partition(".")
    if not rest or rest == namespace:
        return name
    return host  # an external host (a ServiceEntry's api.example.com): kept whole


def check_service(backend: MeshBackend, service: str, namespace: str, fault: str) -> None:
    """Raise :class:`ConfigError` unless ``service`` is known in ``namespace``, saying
    where it does run, or which known name is closest."""
    known = known_services(backend)
    name = _short(service, namespace)
    if name in known.get(namespace, set()) or service in known.get(namespace, set()):
        return
    elsewhere = sorted(ns for ns, names in known.items() if name in names)
    if elsewhere:
        raise ConfigError(
            f"{fault} on {service!r}: no such service in namespace {namespace!r}; it runs in "
            f"{', '.join(elsewhere)}: pass namespace={elsewhere[0]!r} (or set the ini key "
            "chaos_namespace)"
        )
    here = sorted(known.get(namespace, set()))
    close = difflib.get_close_matches(name, here, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(here) if here else "none"
    raise ConfigError(
        f"{fault} on {service!r}: the mesh has no service {name!r} in namespace "
        f"{namespace!r}{hint} (services there: {listed})"
    )
