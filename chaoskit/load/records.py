"""Per-request records as the worker writes them (one JSON array per line) and reads back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from chaoskit.errors import BackendError

# Status 0 means no HTTP reply: a transport error, or still in flight when the load stopped.
IN_FLIGHT_AT_STOP = "in flight when the load stopped"
# Open model: a slot of a user whose on_start raised (the error follows this prefix).
USER_NEVER_STARTED = "not sent: its user's on_start raised"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request. Times are epoch seconds; ``latency_s`` is measured from ``intended``.

    In the closed model ``intended == sent``. In the open model ``intended`` is the slot the
    schedule gave the request, so a request that left late carries that lateness in its
    latency (coordinated omission corrected, as wrk2 does).
    """

    intended: float
    sent: float
    latency_s: float
    status: int
    bytes: int
    error: str
    version: str | None
    markers: int  # bit i set: profile.markers[i] was in the body
    request_id: str
    upstream_ms: float | None  # x-envoy-upstream-service-time of the reply
    login: str | None
    user: int = 0  # the virtual user that sent it
    pod: str | None = None  # x-chaoskit-pod of the reply (embedded mesh demo apps)
    # Locust's request name and method (a user class's requests; a path-only load leaves
    # them empty), and whether the user's code marked the reply a failure
    # (``catch_response=True`` then ``response.failure(...)``).
    name: str = ""
    method: str = ""
    marked_failure: bool = False
    # The Locust user class that sent it (a locustfile load with several classes).
    user_class: str = ""

    @property
    def ok(self) -> bool:
        """A reply below 500 (the request got an answer the client can use) that the user's
        code did not mark as a failure."""
        return 0 < self.status < 500 and not self.marked_failure

    @property
    def late_s(self) -> float:
        return self.sent - self.intended

    def has_marker(self, index: int) -> bool:
        return bool(self.markers >> index & 1)

    def to_row(self) -> list[Any]:
        return row(
            self.intended,
            self.sent,
            self.latency_s,
            self.status,
            self.bytes,
            self.error,
            self.version,
            self.markers,
            self.request_id,
            self.upstream_ms,
            self.login,
            self.user,
            self.pod,
            self.name,
            self.method,
            self.marked_failure,
            self.user_class,
        )

    @classmethod
    def from_row(cls, row: list[Any]) -> RequestRecord:
        return cls(*row)


def row(
    intended: float,
    sent: float,
    latency_s: float,
    status: int,
    size: int,
    error: str,
    version: str | None,
    markers: int,
    request_id: str,
    upstream_ms: float | None,
    login: str | None,
    user: int = 0,
    pod: str | None = None,
    name: str = "",
    method: str = "",
    marked_failure: bool = False,
    user_class: str = "",
) -> list[Any]:
    """A record as the line the worker writes, in :class:`RequestRecord`'s field order.

    The worker builds its rows with this directly: a frozen dataclass per request is a
    measurable part of a CPU-bound worker's time, and ``from_row`` restores the record.
    """
    # Full float precision: rounding to the microsecond cost more than orjson's encoding.
    return [
        intended,
        sent,
        latency_s,
        status,
        size,
        error,
        version,
        markers,
        request_id,
        upstream_ms,
        login,
        user,
        pod,
        name,
        method,
        marked_failure,
        user_class,
    ]


def encode_row(line: list[Any]) -> bytes:
    """One record's JSON line, newline included. orjson, not the standard library: the
    worker encodes a line per request, and ``json`` took 3.5 µs of a CPU-bound worker's
    per-request budget where orjson takes 0.4 µs (docs/decisions.md)."""
    return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


def write_rows(path: Path, records: Iterable[RequestRecord]) -> None:
    with path.open("ab") as stream:
        for record in records:
            stream.write(encode_row(record.to_row()))


def read_output(path: Path) -> tuple[list[RequestRecord], dict[str, Any]]:
    """The records and the worker's closing summary (``{}`` if it never wrote one)."""
    records: list[RequestRecord] = []
    summary: dict[str, Any] = {}
    for number, line in enumerate(_lines(path), start=1):
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise BackendError(f"load worker output {path}:{number} is not JSON: {exc}") from exc
        if isinstance(value, dict):
            summary = value
        else:
            records.append(RequestRecord.from_row(value))
    return records, summary


def _lines(path: Path) -> Iterator[str]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                yield line
