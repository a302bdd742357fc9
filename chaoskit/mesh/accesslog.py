"""A JSON access log with the fields of Istio's default format and Envoy's response flags.

One line per downstream request (retries are not separate lines, as in Envoy). Records are
also kept in a bounded in-memory ring so the admin endpoint can serve them by sequence.

The file is written in batches off the request path, as Envoy's file access log writes
through a buffer that a timer flushes (Istio starts Envoy with ``--file-flush-interval-msec
1000``, istio/istio ``pkg/envoy/proxy.go`` at 1.28.10): a request only appends its record,
and a timer at most ``FLUSH_DELAY_S`` later encodes the batch, writes and flushes it. A
clean exit (the pod's stop, SIGTERM or SIGINT) flushes what is pending; a SIGKILL loses at
most that delay's records (a 64 KiB file buffer, before, lost up to a few hundred).
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import math
from collections import deque
from dataclasses import dataclass, fields
from json.encoder import encode_basestring_ascii
from typing import IO, Any

# Envoy prints flags in this order (envoy/stream_info/stream_info.h) when several are set.
FLUSH_DELAY_S = 0.05
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


_last_second: tuple[float, str] = (-1.0, "")


def iso_time(ts: float) -> str:
    """``ts`` as Envoy's %START_TIME% (UTC, milliseconds), what ``datetime.fromtimestamp``
    and strftime give. A busy proxy logs many requests per second: the text up to the second
    is kept for the last second seen, and the fraction is rounded as fromtimestamp rounds it
    (half-even to the microsecond, carrying into the second)."""
    global _last_second
    fraction, whole = math.modf(ts)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros -= 1_000_000
        whole += 1.0
    if micros < 0:  # before 1970: the datetime way
        moment = datetime.datetime.fromtimestamp(ts, datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    second, prefix = _last_second
    if second != whole:
        moment = datetime.datetime.fromtimestamp(whole, datetime.UTC)
        prefix = moment.strftime("%Y-%m-%dT%H:%M:%S.")
        _last_second = (whole, prefix)
    return f"{prefix}{micros // 1000:03d}Z"


_esc = encode_basestring_ascii
_float = float.__repr__


def encode_line(r: AccessRecord) -> str:
    """The record as one JSON line, what ``json.JSONEncoder(separators=(",", ":"))`` writes
    for ``as_dict(r)`` (ASCII-escaped strings), built without the intermediate dict."""
    return (
        f'{{"start_time":{_esc(r.start_time)},"start_ts":{_float(r.start_ts)},'
        f'"direction":{_esc(r.direction)},"method":{_esc(r.method)},"path":{_esc(r.path)},'
        f'"protocol":{_esc(r.protocol)},"response_code":{r.response_code:d},'
        f'"response_flags":{_esc(r.response_flags)},'
        f'"response_code_details":{_esc(r.response_code_details)},'
        f'"bytes_received":{r.bytes_received:d},"bytes_sent":{r.bytes_sent:d},'
        f'"duration_ms":{r.duration_ms:d},'
        f'"upstream_service_time":{_esc(r.upstream_service_time)},'
        f'"x_forwarded_for":{_esc(r.x_forwarded_for)},"user_agent":{_esc(r.user_agent)},'
        f'"request_id":{_esc(r.request_id)},"authority":{_esc(r.authority)},'
        f'"upstream_host":{_esc(r.upstream_host)},'
        f'"upstream_cluster":{_esc(r.upstream_cluster)},'
        f'"route_name":{_esc(r.route_name)},"attempts":{r.attempts:d},'
        f'"downstream_remote_address":{_esc(r.downstream_remote_address)},"seq":{r.seq:d}}}\n'
    )


class AccessLog:
    def __init__(
        self,
        stream: IO[str] | None = None,
        capacity: int = 20_000,
        flush_delay_s: float = FLUSH_DELAY_S,
    ) -> None:
        self._stream = stream
        self._ring: deque[AccessRecord] = deque(maxlen=capacity)
        self._seq = 0
        self._flush_delay_s = flush_delay_s
        self._pending: list[AccessRecord] = []  # in the ring, not yet in the file
        self._timer: asyncio.TimerHandle | None = None

    def write(self, record: AccessRecord) -> None:
        self._seq += 1
        record.seq = self._seq
        self._ring.append(record)
        if self._stream is None:
            return
        self._pending.append(record)
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a script, a test): write at once
                self.flush()
                return
            self._timer = loop.call_later(self._flush_delay_s, self.flush)

    def flush(self) -> None:
        """Encode and write the pending records, and flush the stream."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._stream is None:
            return
        if self._pending:
            self._stream.write("".join(map(encode_line, self._pending)))
            self._pending.clear()
        self._stream.flush()

    def since(
        self, seq: int, limit: int = 5000, from_ts: float | None = None
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` records after sequence number ``seq``, oldest first; with
        ``from_ts`` only those of requests that started then or later (a window's reader, or
        pods/log's sinceTime, needs no earlier ones, and encoding a full ring for each read
        was most of its cost)."""
        floor = float("-inf") if from_ts is None else from_ts
        wanted = (r for r in self._ring if r.seq > seq and r.start_ts >= floor)
        return [as_dict(r) for r in itertools.islice(wanted, limit)]

    @property
    def last_seq(self) -> int:
        return self._seq
