"""Durations as Istio reads them: Go's ``time.ParseDuration`` syntax (``500ms``, ``1m``, ``1.5s``).

Istio's CRDs carry ``google.protobuf.Duration`` fields; istiod unmarshals them with jsonpb,
which parses the string with Go's ``time.ParseDuration``. So ``1h30m`` and ``250us`` parse,
while ``5`` (no unit) and ``5sec`` (unknown unit) are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

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


@dataclass(frozen=True, slots=True)
class Duration:
    """A parsed duration that remembers how it was written, so dumps round-trip exactly."""

    text: str
    nanos: int

    @property
    def seconds(self) -> float:
        return self.nanos / 1e9

    @classmethod
    def parse(cls, value: object) -> Duration:
        if isinstance(value, Duration):
            return value
        if not isinstance(value, str):
            raise ValueError(f"a duration must be a string such as '5s' or '500ms', got {value!r}")
        return cls(text=value, nanos=parse_go_duration_nanos(value))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda d: d.text),
        )

    def __str__(self) -> str:
        return self.text
