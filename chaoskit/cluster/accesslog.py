"""Sidecar access logs on a real cluster: Envoy's JSON lines, read through ``pods/log``.

``assets/istio-operator.yaml`` sets ``meshConfig.accessLogEncoding: JSON`` and an
``accessLogFormat`` whose keys are the embedded mesh's access-record fields (istio-semantics
§4.2 plus the retry count), so one reader serves both backends. Envoy's ``json_format``
writes typed values: numbers for ``%RESPONSE_CODE%``, ``%BYTES_SENT%``, ``%DURATION%``, and
``null`` for a command without a value (an absent header, no upstream host, no route); a
value mixing text and commands is a string with ``-`` for the absent ones
(``chaoskit/mesh/envoy_format.py``, checked against Envoy's own test expectations in
``tests/data/upstream/envoy/access-log/``). ``normalise`` turns ``null`` into the embedded
mesh's ``-`` and numbers into ints, so the checks read one record shape.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chaoskit.mesh.envoy_format import CHAOSKIT_FORMAT

# The fields chaoskit reads, and Envoy's command for each (docs: access_log/usage).
ACCESS_LOG_FORMAT: dict[str, str] = CHAOSKIT_FORMAT
_INTEGERS = ("response_code", "bytes_received", "bytes_sent", "duration_ms", "attempts")


def parse_time(text: str) -> float:
    """RFC 3339 with up to nanoseconds (the API server's log timestamps) → epoch seconds."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    main, _, rest = text.partition(".")
    if rest:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{main}.{digits[:6].ljust(6, '0')}{zone}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def normalise(entry: dict[str, Any]) -> dict[str, Any]:
    """An Envoy JSON access-log entry in the embedded mesh's record shape."""
    record = {k: ("-" if v is None else v) for k, v in entry.items()}
    for key in _INTEGERS:
        value = record.get(key, "-")
        try:
            record[key] = int(value)
        except (TypeError, ValueError):
            record[key] = 1 if key == "attempts" else 0
    cluster = str(record.get("upstream_cluster", "-"))
    # Istio names clusters direction|port|subset|host; the gateway's are outbound too.
    record["direction"] = "inbound" if cluster.startswith("inbound|") else "outbound"
    start = str(record.get("start_time", ""))
    try:
        record["start_ts"] = parse_time(start)
    except ValueError:
        record["start_ts"] = 0.0
    return record


def access_entry(text: str) -> dict[str, Any] | None:
    """One JSON access entry as Envoy wrote it, or ``None`` for Envoy's other output."""
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and "response_code" in entry else None


def parse_log(text: str, after: float) -> tuple[float, list[dict[str, Any]]]:
    """Access records in ``kubectl logs --timestamps`` output written after ``after`` (epoch
    seconds), and the newest line's timestamp. Envoy's other output is skipped."""
    newest = after
    records: list[dict[str, Any]] = []
    for line in text.splitlines():
        stamp, _, rest = line.partition(" ")
        try:
            when = parse_time(stamp)
        except ValueError:
            continue
        if when <= after:
            continue
        newest = max(newest, when)
        entry = access_entry(rest)
        if entry is not None:
            records.append(normalise(entry))
    return newest, records
