"""Messages shared by several Istio resources: string matches, percentages, destinations."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from chaoskit.istio._base import IstioModel


class Percent(IstioModel):
    """``percentage: {value: 12.5}``: a double from 0 to 100 (Istio's ``Percent`` message)."""

    value: float = 0.0


class StringMatch(IstioModel):
    """One of ``exact``, ``prefix`` or ``regex`` (RE2, full match); ``{}`` means "present"."""

    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        # protobuf oneof: jsonpb refuses a second member of the same oneof.
        given = [k for k in ("exact", "prefix", "regex") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(
                f"a string match takes one of exact, prefix or regex, got {' and '.join(given)}; "
                "keep one"
            )
        return self

    @property
    def is_presence_only(self) -> bool:
        return self.exact is None and self.prefix is None and self.regex is None


class PortSelector(IstioModel):
    number: int = 0


class Destination(IstioModel):
    """``host`` (a service name, short or FQDN), optional ``subset`` and ``port``."""

    host: str = ""
    subset: str | None = None
    port: PortSelector | None = None


class HeaderOperations(IstioModel):
    set: dict[str, str] | None = None
    add: dict[str, str] | None = None
    remove: list[str] | None = None


class Headers(IstioModel):
    request: HeaderOperations | None = None
    response: HeaderOperations | None = None


class WorkloadSelector(IstioModel):
    match_labels: dict[str, str] = Field(default_factory=dict)
