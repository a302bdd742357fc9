"""Requests and responses as the proxy sees them: lower-case header names, whole bodies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus

DECODED_NAMES: dict[bytes, str] = {}
_NAMES_KEPT = 512  # bounded: header names come from clients


def header_name(raw: bytes) -> str:
    """A header name off the wire, lower-cased; the few names a mesh sees are decoded once."""
    name = DECODED_NAMES.get(raw)
    if name is None:
        name = raw.decode("latin-1").lower()
        if len(DECODED_NAMES) < _NAMES_KEPT:
            DECODED_NAMES[raw] = name
    return name


class Headers:
    """An ordered multi-map with lower-case names (HTTP/2 and Envoy normalise to lower case)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = [(name.lower(), value) for name, value in items]

    @classmethod
    def lowered(cls, items: list[tuple[str, str]]) -> Headers:
        """Adopt ``items`` (names already lower-case, as parsers and the mesh's own code
        produce them) without copying: the list becomes the headers' own."""
        headers = cls.__new__(cls)
        headers._items = items
        return headers

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self._items:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]

    def __contains__(self, name: object) -> bool:
        # A plain loop: any() over a generator costs twice as much on every request.
        for key, _ in self._items:  # noqa: SIM110
            if key == name:
                return True
        return False

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` (Envoy's ``set``/overwrite semantics)."""
        name = name.lower()
        items = self._items
        for key, _ in items:
            if key == name:
                self._items = [(k, v) for k, v in items if k != name]
                self._items.append((name, value))
                return
        items.append((name, value))

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
        return Headers.lowered(list(self._items))

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
