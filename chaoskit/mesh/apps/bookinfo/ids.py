"""Product ids parsed the way each Bookinfo runtime parses them (None: not a number).

details uses Ruby's ``Integer()``, reviews a JAX-RS ``int`` path parameter (Java
``Integer.parseInt``), ratings JavaScript's ``parseInt``. They disagree on inputs such as
``010`` (Ruby: octal 8) or ``5abc`` (JavaScript: 5).
"""

from __future__ import annotations

import re

_RUBY = re.compile(
    r"(?P<sign>[+-]?)(?:"
    r"0[xX](?P<hex>[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)"
    r"|0[bB](?P<bin>[01]+(?:_[01]+)*)"
    r"|0[oO]?(?P<oct>[0-7]+(?:_[0-7]+)*)"
    r"|0[dD](?P<dec0>\d+(?:_\d+)*)"
    r"|(?P<dec>[1-9]\d*(?:_\d+)*|0))"
)
_JAVA = re.compile(r"[+-]?[0-9]+")
_JS = re.compile(
    r"\s*(?P<sign>[+-]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|(?P<dec>0(?![xX])[0-9]*|[1-9][0-9]*))"
)
_INT32 = (-(2**31), 2**31 - 1)


def ruby_integer(text: str) -> int | None:
    """``Integer(text)``: prefixes 0x/0b/0o/0d, a leading 0 means octal, underscores allowed."""
    if text.isascii() and text.isdigit() and (len(text) == 1 or text[0] != "0"):
        return int(text)  # plain decimal, the usual id
    match = _RUBY.fullmatch(text.strip())
    if match is None:
        return None
    for group, base in (("hex", 16), ("bin", 2), ("oct", 8), ("dec0", 10), ("dec", 10)):
        digits = match.group(group)
        if digits is not None:
            value = int(digits.replace("_", ""), base)
            return -value if match.group("sign") == "-" else value
    return None  # pragma: no cover - the pattern always sets one group


def java_int(text: str) -> int | None:
    """``Integer.parseInt(text)``: optional sign, decimal digits, 32-bit range."""
    if _JAVA.fullmatch(text) is None:
        return None
    value = int(text)
    return value if _INT32[0] <= value <= _INT32[1] else None


def js_parse_int(text: str) -> int | None:
    """``parseInt(text)``: the leading number of the string (hex after 0x), else NaN."""
    match = _JS.match(text)
    if match is None:
        return None
    hex_digits = match.group("hex")
    value = int(hex_digits, 16) if hex_digits is not None else int(match.group("dec"))
    return -value if match.group("sign") == "-" else value
