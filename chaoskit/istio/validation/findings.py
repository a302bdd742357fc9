"""A located finding and Go's formatting, so texts read as istiod prints them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Level = Literal["Error", "Warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken at ``path``: Istio's ``message``, chaoskit's ``fix``.

    Errors are refused by Istio's webhook (IST0106); Warnings are accepted but reported
    (IST0133).
    """

    path: str
    message: str
    level: Level = "Error"
    fix: str = ""


class Findings:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def error(self, path: str, message: str, fix: str = "") -> None:
        self.items.append(Finding(path, message, "Error", fix))

    def warn(self, path: str, message: str, fix: str = "") -> None:
        self.items.append(Finding(path, message, "Warning", fix))


def go_quote(text: str) -> str:
    """Go's ``%q``."""
    return json.dumps(text, ensure_ascii=False)


def go_float(value: float) -> str:
    """Go's ``%v`` for a float64: shortest digits, exponent form below 1e-4 or from 1e6 on."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    decimal_exp = len(digits) + exponent - 1
    if decimal_exp < -4 or decimal_exp >= 6:
        rest = "".join(map(str, digits[1:]))
        mantissa = f"{'-' if sign else ''}{digits[0]}{'.' + rest if rest else ''}"
        return f"{mantissa}e{'-' if decimal_exp < 0 else '+'}{abs(decimal_exp):02d}"
    return format(Decimal(repr(value)).normalize(), "f")
