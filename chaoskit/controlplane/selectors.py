"""Field selectors on lists: the ``metadata`` terms every resource supports."""

from __future__ import annotations

from aiohttp import web

from chaoskit.controlplane.store import BadRequest, JsonObject

# Field labels a kind supports beyond the generic two: a Secret's ``type`` (kubernetes
# pkg/registry/core/secret/strategy.go, SelectableFields).
SELECTABLE = {"secrets": ("type",)}


def field_selector_matches(
    request: web.Request, obj: JsonObject, extra: tuple[str, ...] = ()
) -> bool:
    """``metadata.name=X`` / ``metadata.namespace=X`` terms (comma-separated, ``=``/``==``/``!=``);
    the only field selectors every resource supports (``k8s.io/apiserver`` generic registry),
    and the kind's ``extra`` top-level fields."""
    selector = request.query.get("fieldSelector", "")
    metadata = obj.get("metadata") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negate = "!=" in term
        key, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
        if key in extra:
            found = obj.get(key)
        elif key in ("metadata.name", "metadata.namespace"):
            found = metadata.get(key.removeprefix("metadata."))
        else:
            raise BadRequest(
                f'field label not supported: "{key}"; the embedded API server filters on '
                f"metadata.name and metadata.namespace{''.join(f' and {e}' for e in extra)}"
            )
        if (found == value) == negate:
            return False
    return True
