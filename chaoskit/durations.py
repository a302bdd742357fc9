"""Go's ``time.ParseDuration``: the duration syntax of Istio resources and chaoskit settings.

Kept at the bottom layer so the data plane (no pydantic) and the resource models share one
parser: ``500ms``, ``1m30s`` and ``1.5s`` parse; ``5`` (no unit) and ``5sec`` do not.
"""

from __future__ import annotations

import re

# Units in the order Go accepts them; "µs" and "μs" are Go's aliases for "us".
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_COMPONENT = re.compile(r"(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)")
_NANOS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9}


def _component_nanos(number: str, unit: str) -> int:
    whole, _, frac = number.partition(".")
    scale = _NANOS.get(unit) or int(_UNIT_SECONDS[unit]) * 10**9
    nanos = int(whole or "0") * scale
    if frac:
        # Exact decimal arithmetic: Go keeps integer nanoseconds, so do we.
        nanos += int(frac) * scale // 10 ** len(frac)
    return nanos


def parse_go_duration_nanos(text: str) -> int:
    """Parse ``text`` with Go's ``time.ParseDuration`` rules and return integer nanoseconds.

    Raises:
        ValueError: naming the text and the accepted form.
    """
    original = text
    if not isinstance(text, str):
        raise ValueError(f"a duration must be a string such as '5s' or '500ms', got {text!r}")
    sign = 1
    if text and text[0] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise ValueError(f"invalid duration {original!r}: it is empty; write e.g. '5s' or '500ms'")
    pos, total = 0, 0
    while pos < len(text):
        match = _COMPONENT.match(text, pos)
        if match is None or match.group(1) in ("", "."):
            raise ValueError(_bad_duration(original))
        total += _component_nanos(match.group(1), match.group(2))
        pos = match.end()
    return sign * total


def _bad_duration(text: str) -> str:
    if re.fullmatch(r"[+-]?\d+(\.\d*)?", text):
        return (
            f"invalid duration {text!r}: missing unit; Istio durations need one, "
            f"e.g. '{text}s' or '{text}ms'"
        )
    return (
        f"invalid duration {text!r}: expected a number followed by a unit "
        "(ns, us, ms, s, m, h), e.g. '5s', '500ms', '1m30s'"
    )


def parse_seconds(text: str) -> float:
    """A Go duration as float seconds (``"250ms"`` → 0.25)."""
    return parse_go_duration_nanos(text) / 1e9
