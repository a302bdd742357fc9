"""The object store behind the Kubernetes REST API: resourceVersions, conflicts, merge patch.

Objects are kept as the JSON the API returns (``metadata`` filled in by the server, like
the API server does: uid, resourceVersion, generation, creationTimestamp). One counter
gives every write a new resourceVersion, as etcd's revision does.
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]


class StoreError(Exception):
    """A Kubernetes Status error: HTTP code, reason and message."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: JsonObject | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(StoreError):
    code = 404
    reason = "NotFound"


class AlreadyExists(StoreError):
    code = 409
    reason = "AlreadyExists"


class Conflict(StoreError):
    code = 409
    reason = "Conflict"


class Invalid(StoreError):
    code = 422
    reason = "Invalid"


class BadRequest(StoreError):
    code = 400
    reason = "BadRequest"


class AdmissionDenied(StoreError):
    """A validating webhook's denial: 400 with no reason, as the API server relays it."""

    code = 400
    reason = ""


@dataclass(frozen=True, slots=True)
class Kind:
    """A resource type the store serves."""

    group: str  # "" for the core API
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def key(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


Validator = Callable[[Kind, JsonObject], None]  # raises Invalid
Listener = Callable[[Kind, str, str, str], None]  # kind, namespace, name, event type


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what ``kubectl patch --type merge`` sends)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def selector_matches(selector: str | None, labels: dict[str, str] | None) -> bool:
    """Equality-based label selectors: ``a=b,c!=d,e`` (set-based forms are not needed here)."""
    if not selector:
        return True
    labels = labels or {}
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ObjectStore:
    """Namespaced objects by kind; every write notifies the listeners after it is stored."""

    validators: dict[str, Validator] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    _objects: dict[str, dict[tuple[str, str], JsonObject]] = field(default_factory=dict)
    _revision: int = 1

    @property
    def revision(self) -> int:
        return self._revision

    def _bucket(self, kind: Kind) -> dict[tuple[str, str], JsonObject]:
        return self._objects.setdefault(kind.key, {})

    def _bump(self) -> str:
        self._revision += 1
        return str(self._revision)

    def advance(self) -> int:
        """A new revision for a change kept outside the store (a pod relabelled), so the
        push that carries it has a version a client can wait for."""
        return int(self._bump())

    def _notify(self, kind: Kind, namespace: str, name: str, event: str) -> None:
        for listener in self.listeners:
            listener(kind, namespace, name, event)

    def _validate(self, kind: Kind, body: JsonObject) -> None:
        validator = self.validators.get(kind.key)
        if validator is not None:
            validator(kind, body)

    # --- reads ------------------------------------------------------------------------

    def get(self, kind: Kind, namespace: str, name: str) -> JsonObject:
        try:
            return self._bucket(kind)[(namespace, name)]
        except KeyError:
            raise NotFound(
                f'{kind.key} "{name}" not found',
                details={"name": name, "group": kind.group, "kind": kind.plural},
            ) from None

    def select(
        self, kind: Kind, namespace: str | None = None, label_selector: str | None = None
    ) -> list[JsonObject]:
        items = [
            obj
            for (ns, _), obj in sorted(self._bucket(kind).items())
            if (namespace is None or ns == namespace)
            and selector_matches(label_selector, obj["metadata"].get("labels"))
        ]
        return items

    def all(self, kind: Kind) -> Iterable[JsonObject]:
        return self._bucket(kind).values()

    # --- writes -----------------------------------------------------------------------

    def create(self, kind: Kind, namespace: str, body: JsonObject) -> JsonObject:
        body = copy.deepcopy(body)
        metadata = body.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise BadRequest("metadata must be an object")
        name = metadata.get("name")
        if not name and metadata.get("generateName"):
            name = f"{metadata['generateName']}{uuid.uuid4().hex[:5]}"
        if not isinstance(name, str) or not name:
            raise Invalid(f"{kind.kind}.{kind.group} is invalid: metadata.name: Required value")
        if metadata.get("namespace", namespace) != namespace:
            raise BadRequest(
                f"the namespace of the provided object ({metadata['namespace']}) does not match "
                f"the namespace sent on the request ({namespace})"
            )
        bucket = self._bucket(kind)
        if (namespace, name) in bucket:
            raise AlreadyExists(
                f'{kind.key} "{name}" already exists',
                details={"name": name, "group": kind.group, "kind": kind.plural},
            )
        metadata.update(
            name=name,
            namespace=namespace,
            uid=str(uuid.uuid4()),
            generation=1,
            creationTimestamp=_now(),
        )
        metadata.pop("resourceVersion", None)
        self._validate(kind, body)
        metadata["resourceVersion"] = self._bump()
        bucket[(namespace, name)] = body
        self._notify(kind, namespace, name, "ADDED")
        return body

    def replace(self, kind: Kind, namespace: str, name: str, body: JsonObject) -> JsonObject:
        current = self.get(kind, namespace, name)
        body = copy.deepcopy(body)
        metadata = body.setdefault("metadata", {})
        if metadata.get("name", name) != name:
            raise BadRequest(
                f"the name of the object ({metadata['name']}) does not match the name on the "
                f"URL ({name})"
            )
        sent_version = metadata.get("resourceVersion")
        if sent_version and sent_version != current["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {kind.key} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
                details={"name": name, "group": kind.group, "kind": kind.plural},
            )
        return self._store_update(kind, namespace, name, current, body)

    def patch(self, kind: Kind, namespace: str, name: str, patch: JsonObject) -> JsonObject:
        current = self.get(kind, namespace, name)
        sent_version = (patch.get("metadata") or {}).get("resourceVersion")
        if sent_version and sent_version != current["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {kind.key} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again"
            )
        return self._store_update(kind, namespace, name, current, merge_patch(current, patch))

    def _store_update(
        self, kind: Kind, namespace: str, name: str, current: JsonObject, body: JsonObject
    ) -> JsonObject:
        metadata = body.setdefault("metadata", {})
        old_meta = current["metadata"]
        for key in ("uid", "creationTimestamp", "generation"):
            metadata[key] = old_meta[key]
        metadata.update(name=name, namespace=namespace)
        if body.get("spec") != current.get("spec"):
            metadata["generation"] = old_meta["generation"] + 1
        self._validate(kind, body)
        metadata["resourceVersion"] = self._bump()
        self._bucket(kind)[(namespace, name)] = body
        self._notify(kind, namespace, name, "MODIFIED")
        return body

    def delete(
        self, kind: Kind, namespace: str, name: str, preconditions: JsonObject | None = None
    ) -> JsonObject:
        """Delete; ``preconditions`` (DeleteOptions') uid and resourceVersion must match, or
        it is a 409 Conflict, as the API server answers."""
        current = self.get(kind, namespace, name)
        meta = current["metadata"]
        for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = (preconditions or {}).get(key)
            if wanted and wanted != meta.get(key):
                raise Conflict(
                    f"Precondition failed: {label} in precondition: {wanted}, {label} in "
                    f"object meta: {meta.get(key)}",
                    details={"name": name, "group": kind.group, "kind": kind.plural},
                )
        del self._bucket(kind)[(namespace, name)]
        self._bump()
        self._notify(kind, namespace, name, "DELETED")
        return current

    def delete_collection(
        self, kind: Kind, namespace: str, label_selector: str | None = None
    ) -> list[JsonObject]:
        doomed = self.select(kind, namespace, label_selector)
        for obj in doomed:
            self.delete(kind, namespace, obj["metadata"]["name"])
        return doomed

    def put_system(self, kind: Kind, namespace: str, name: str, body: JsonObject) -> JsonObject:
        """Create or overwrite an object the mesh itself owns (pods, services), unvalidated."""
        body = copy.deepcopy(body)
        metadata = body.setdefault("metadata", {})
        existing = self._bucket(kind).get((namespace, name))
        metadata.update(name=name, namespace=namespace)
        if existing is None:
            metadata.setdefault("uid", str(uuid.uuid4()))
            metadata.setdefault("creationTimestamp", _now())
        else:
            metadata["uid"] = existing["metadata"]["uid"]
            metadata["creationTimestamp"] = existing["metadata"]["creationTimestamp"]
        metadata["resourceVersion"] = self._bump()
        self._bucket(kind)[(namespace, name)] = body
        self._notify(kind, namespace, name, "ADDED" if existing is None else "MODIFIED")
        return body
