"""Requests and responses as the proxy sees them: lower-case header names, whole bodies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus


class Headers:
    """An ordered multi-map with lower-case names (HTTP/2 and Envoy normalise to lower case)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = [(name.lower(), value) for name, value in items]

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self._items:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self._items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` (Envoy's ``set``/overwrite semantics)."""
        name = name.lower()
        self.remove(name)
        self._items.append((name, value))

    def add(self, name: str, value: str) -> None:
        """Append a value (Envoy's ``append``)."""
        self._items.append((name.lower(), value))

    def setdefault(self, name: str, value: str) -> str:
        current = self.get(name)
        if current is None:
            self.add(name, value)
            return value
        return current

    def remove(self, name: str) -> None:
        name = name.lower()
        # Most removals on the request path find nothing: scan before copying the list.
        for key, _ in self._items:
            if key == name:
                self._items = [(k, v) for k, v in self._items if k != name]
                return

    def remove_all(self, names: frozenset[str]) -> None:
        """Remove every header whose (lower-case) name is in ``names``, in one pass."""
        for key, _ in self._items:
            if key in names:
                self._items = [(k, v) for k, v in self._items if k not in names]
                return

    def copy(self) -> Headers:
        clone = Headers()
        clone._items = list(self._items)
        return clone

    def as_dict(self) -> dict[str, str]:
        """One value per name (the first), for JSON views such as httpbin's /headers."""
        out: dict[str, str] = {}
        for key, value in self._items:
            out.setdefault(key, value)
        return out

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(slots=True)
class Request:
    method: str
    target: str  # path and query, as on the request line
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def path(self) -> str:
        """The path without the query string (what Istio's ``uri`` match sees)."""
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @property
    def authority(self) -> str:
        return self.headers.get("host") or ""


@dataclass(slots=True)
class Response:
    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def text(cls, status: int, body: str, content_type: str = "text/plain") -> Response:
        return cls(status, Headers([("content-type", content_type)]), body.encode())


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
