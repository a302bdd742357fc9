"""Durations as Istio reads them: Go's ``time.ParseDuration`` syntax (``500ms``, ``1m``, ``1.5s``).

Istio's CRDs carry ``google.protobuf.Duration`` fields; istiod unmarshals them with jsonpb,
which parses the string with Go's ``time.ParseDuration``. So ``1h30m`` and ``250us`` parse,
while ``5`` (no unit) and ``5sec`` (unknown unit) are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from chaoskit.durations import parse_go_duration_nanos


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
