"""RE2 regular expressions, as Istio validates them and Envoy matches them.

Python's ``re`` accepts syntax RE2 refuses (look-arounds, back-references), so a regex
that "works" in a Python test could be rejected by Istio; everything goes through RE2.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would otherwise print every rejected pattern to stderr


@lru_cache(maxsize=1024)
def compile_re2(pattern: str) -> Any:
    """Compile ``pattern`` with RE2.

    Raises:
        ValueError: saying why RE2 refuses it.
    """
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"invalid regex {pattern!r}: {reason} (Istio and Envoy use RE2 syntax, which has no "
            "look-around or back-references)"
        ) from None


def full_match(pattern: str, text: str) -> bool:
    """Envoy's ``safe_regex`` semantics: the whole string must match."""
    return compile_re2(pattern).fullmatch(text) is not None
