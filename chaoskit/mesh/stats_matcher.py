"""Envoy's ``stats_config.stats_matcher``: which stats a proxy keeps.

Istio writes an inclusion list into every proxy's bootstrap (pilot-agent, from the mesh
config's ``proxyStatsMatcher``; istio/istio 1.28.10 ``pkg/bootstrap/config.go``). Envoy does
not create a stat the matcher rejects (source/common/stats/stats_matcher_impl.cc), so it is
absent from ``/stats``.
"""

from __future__ import annotations

import re
from typing import Any


def _matches(pattern: dict[str, Any], name: str) -> bool:
    """One ``envoy.type.matcher.v3.StringMatcher``; a ``safe_regex`` must match the whole
    name (Envoy's RE2 matcher uses full matching)."""
    if "exact" in pattern:
        return bool(name == pattern["exact"])
    if "prefix" in pattern:
        return name.startswith(str(pattern["prefix"]))
    if "suffix" in pattern:
        return name.endswith(str(pattern["suffix"]))
    if "contains" in pattern:
        return str(pattern["contains"]) in name
    if "safe_regex" in pattern:
        return re.fullmatch(str(pattern["safe_regex"].get("regex", "")), name) is not None
    return False


def keeps(matcher: dict[str, Any], name: str) -> bool:
    """Whether a proxy with this ``stats_matcher`` keeps the stat ``name``."""
    if not matcher:
        return True
    if "reject_all" in matcher:
        return not matcher["reject_all"]
    if "inclusion_list" in matcher:
        patterns = matcher["inclusion_list"].get("patterns") or []
        return any(_matches(p, name) for p in patterns)
    if "exclusion_list" in matcher:
        patterns = matcher["exclusion_list"].get("patterns") or []
        return not any(_matches(p, name) for p in patterns)
    return True


class StatsMatcher:
    """``keeps`` for one matcher, remembering each name's answer (names repeat on every
    ``/stats`` read)."""

    __slots__ = ("_known", "matcher")

    def __init__(self, matcher: dict[str, Any]) -> None:
        self.matcher = matcher
        self._known: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        kept = self._known.get(name)
        if kept is None:
            kept = self._known[name] = keeps(self.matcher, name)
        return kept
