"""A JSON access log with the fields of Istio's default format and Envoy's response flags.

One line per downstream request (retries are not separate lines, as in Envoy). Records are
also kept in a bounded in-memory ring so the admin endpoint can serve them by sequence.
"""

from __future__ import annotations

import datetime
import itertools
import json
from collections import deque
from dataclasses import dataclass, fields
from typing import IO, Any

# Envoy prints flags in this order (envoy/stream_info/stream_info.h) when several are set.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
FLAG_ORDER = ("DC", "LR", "UT", "UF", "UO", "NR", "UH", "UC", "URX", "NC", "DI", "FI", "RL", "DT")


def join_flags(flags: set[str]) -> str:
    if not flags:
        return "-"
    return ",".join(f for f in FLAG_ORDER if f in flags) or ",".join(sorted(flags))


@dataclass(slots=True)
class AccessRecord:
    start_time: str
    start_ts: float
    direction: str  # inbound | outbound | gateway
    method: str
    path: str
    protocol: str
    response_code: int
    response_flags: str
    response_code_details: str
    bytes_received: int
    bytes_sent: int
    duration_ms: int
    upstream_service_time: str
    x_forwarded_for: str
    user_agent: str
    request_id: str
    authority: str
    upstream_host: str
    upstream_cluster: str
    route_name: str
    attempts: int
    downstream_remote_address: str
    seq: int = 0


_FIELDS = tuple(f.name for f in fields(AccessRecord))


def as_dict(record: AccessRecord) -> dict[str, Any]:
    # dataclasses.asdict deep-copies and is several times slower; records are flat.
    return {name: getattr(record, name) for name in _FIELDS}


def iso_time(ts: float) -> str:
    moment = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class AccessLog:
    def __init__(self, stream: IO[str] | None = None, capacity: int = 20_000) -> None:
        self._stream = stream
        self._ring: deque[AccessRecord] = deque(maxlen=capacity)
        self._seq = 0

    def write(self, record: AccessRecord) -> None:
        self._seq += 1
        record.seq = self._seq
        self._ring.append(record)
        if self._stream is not None:
            self._stream.write(_ENCODER.encode(as_dict(record)) + "\n")

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def since(self, seq: int, limit: int = 5000, start_ts: float = 0.0) -> list[dict[str, Any]]:
        """Up to ``limit`` records after ``seq`` that started at or after ``start_ts``."""
        wanted = (r for r in self._ring if r.seq > seq and r.start_ts >= start_ts)
        return [as_dict(r) for r in itertools.islice(wanted, limit)]

    @property
    def last_seq(self) -> int:
        return self._seq
