"""Field selectors on lists: the ``metadata`` terms every resource supports."""

from __future__ import annotations

from aiohttp import web

from chaoskit.controlplane.store import BadRequest, JsonObject


def field_selector_matches(request: web.Request, obj: JsonObject) -> bool:
    """``metadata.name=X`` / ``metadata.namespace=X`` terms (comma-separated, ``=``/``==``/``!=``);
    the only field selectors every resource supports (``k8s.io/apiserver`` generic registry)."""
    selector = request.query.get("fieldSelector", "")
    metadata = obj.get("metadata") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negate = "!=" in term
        key, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
        if key not in ("metadata.name", "metadata.namespace"):
            raise BadRequest(
                f'field label not supported: "{key}"; the embedded API server filters on '
                "metadata.name and metadata.namespace"
            )
        if (metadata.get(key.removeprefix("metadata.")) == value) == negate:
            return False
    return True
