"""The base class of every Istio message model: immutable, Istio's field names on the wire."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class IstioModel(BaseModel):
    """An Istio API message.

    Attributes are snake_case in Python and Istio's exact camelCase in YAML. Unknown keys
    are rejected, as Istio's validating webhook rejects them (strict JSON unmarshalling).
    Irregular names (``consecutive5xxErrors``) carry an explicit ``alias``.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        strict=False,
        hide_input_in_errors=False,
    )

    def to_yaml_dict(self) -> dict[str, Any]:
        """Return the message as Istio YAML would spell it: aliases, only the fields given."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
