"""PATCH on a pod, as the Kubernetes API server applies it to ``metadata.annotations``.

``kubectl annotate`` sends a JSON merge patch (RFC 7386); ``kubectl patch`` sends a
strategic merge patch unless told ``--type merge``. On a map such as ``annotations`` both
mean the same (apimachinery's ``strategicpatch`` merges maps key by key, and a ``null``
value deletes the key: ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``,
``mergeMap``), so one RFC 7386 merge serves both here: the pod's mutable fields are maps.
A JSON patch (RFC 6902) is refused with what to send instead.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from chaoskit.controlplane.store import BadRequest

POD_PATCH_TYPES = (
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json",  # what older clients send for a merge patch
)


def unsupported_pod_patch(request: web.Request) -> str:
    return (
        f"patch type {request.content_type} is not supported on pods of the embedded mesh; "
        "send a merge patch (kubectl patch --type merge, or kubectl annotate) or a strategic "
        "merge patch (kubectl patch's default)"
    )


def pod_annotations(patched: dict[str, Any]) -> dict[str, str]:
    """The annotations of a patched pod, checked as the API server checks them: a map of
    strings (``ValidateAnnotations`` in ``apimachinery/pkg/api/validation/objectmeta.go``)."""
    annotations = (patched.get("metadata") or {}).get("annotations") or {}
    if not isinstance(annotations, dict):
        raise BadRequest("metadata.annotations must be a map of strings")
    wrong = sorted(k for k, v in annotations.items() if not isinstance(v, str))
    if wrong:
        raise BadRequest(
            f"metadata.annotations[{wrong[0]}]: annotation values must be strings "
            '(quote it, e.g. "3"), or null to delete the annotation'
        )
    return dict(annotations)
