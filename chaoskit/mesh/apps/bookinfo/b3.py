"""productpage's B3 handling: extract the incoming context, inject it again as multi-headers.

productpage.py does ``B3MultiFormat().extract`` then ``.inject`` (OpenTelemetry). So it does
not copy the B3 headers verbatim: a single ``b3`` header becomes x-b3-* headers, a 64-bit
trace id is left-padded to 32 hex digits, ``x-b3-parentspanid`` and ``x-b3-flags`` are
dropped (flags=1 turns into sampled=1), and invalid ids yield no B3 headers at all.
"""

from __future__ import annotations

import re

from chaoskit.mesh.http.message import Headers

_TRACE_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}")
_SPAN_ID = re.compile(r"[0-9a-fA-F]{16}")
_SAMPLED = frozenset({"1", "True", "true", "d"})


def _fields(incoming: Headers) -> tuple[str, str, str, str]:
    """(trace id, span id, sampled, flags) from the single or the multi-header form."""
    single = incoming.get("b3")
    if single:
        parts = single.split("-", 4)
        if len(parts) in (2, 3, 4):
            sampled = parts[2] if len(parts) > 2 else "1"  # no state: "deferred" → sampled
            return parts[0], parts[1], sampled, ""
        return "", "", "", ""
    return (
        incoming.get("x-b3-traceid") or "",
        incoming.get("x-b3-spanid") or "",
        incoming.get("x-b3-sampled") or "0",
        incoming.get("x-b3-flags") or "",
    )


def reinjected_b3(incoming: Headers) -> list[tuple[str, str]]:
    """The x-b3-* headers productpage puts on its upstream calls for this request."""
    trace_id, span_id, sampled, flags = _fields(incoming)
    if _TRACE_ID.fullmatch(trace_id) is None or _SPAN_ID.fullmatch(span_id) is None:
        return []
    trace, span = int(trace_id, 16), int(span_id, 16)
    if trace == 0 or span == 0:
        return []  # an invalid span context is not injected
    on = sampled in _SAMPLED or flags == "1"
    return [
        ("x-b3-traceid", format(trace, "032x")),
        ("x-b3-spanid", format(span, "016x")),
        ("x-b3-sampled", "1" if on else "0"),
    ]
