"""IST0130/IST0131: VirtualService rules and matches that can never be used.

The webhook's ``analyzeUnreachableHTTPRules``, ``analyzeUnreachableTCPRules`` and
``analyzeUnreachableTLSRules`` (istio/istio 1.28.10 ``pkg/config/validation/validation.go``),
which istioctl's schema analyzer reports under their own codes. A match is a duplicate when
its JSON (the name left out) equals an earlier one's; for HTTP, ``coveredValidation`` also
finds a URI prefix shadowed by an earlier, shorter one with the same other conditions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from chaoskit.analysis.context import Context
from chaoskit.analysis.messages import go_quote
from chaoskit.istio.common import StringMatch
from chaoskit.istio.loading import LoadedResource
from chaoskit.istio.virtual_service import HTTPMatchRequest, L4MatchAttributes


@dataclass(frozen=True, slots=True)
class _Rule:
    """One rule, kind-neutral: how Istio names it, where it is, and its matches."""

    name: str
    path: str
    matches: Sequence[HTTPMatchRequest | L4MatchAttributes]


@dataclass(frozen=True, slots=True)
class _PrefixMatch:
    """genMatchHTTPRoutes: what coveredValidation compares of a match with a URI prefix."""

    rule: str
    match: str
    path: str
    prefix: str
    port: int
    method: str
    authority: str
    headers: dict[str, str]
    query_params: dict[str, str]
    without_headers: dict[str, str]


def unreachable_rules(ctx: Context) -> None:
    """IST0130/IST0131 for the http, tcp and tls rules of every VirtualService."""
    for loaded, vs in ctx.virtual_services():
        http = [
            _Rule(go_quote(r.name) if r.name else f"#{i}", f"spec.http[{i}]", r.match or [])
            for i, r in enumerate(vs.spec.http or [])
        ]
        prefixes = _check_rules(ctx, loaded, http)
        _check_prefix_overlaps(ctx, loaded, prefixes)
        # TCP and TLS rules and matches have no names: Istio prints them as #n.
        tcp = [
            _Rule(f"#{i}", f"spec.tcp[{i}]", r.match or []) for i, r in enumerate(vs.spec.tcp or [])
        ]
        tls = [_Rule(f"#{i}", f"spec.tls[{i}]", r.match) for i, r in enumerate(vs.spec.tls or [])]
        _check_rules(ctx, loaded, tcp)
        _check_rules(ctx, loaded, tls)


def _check_rules(ctx: Context, loaded: LoadedResource, rules: list[_Rule]) -> list[_PrefixMatch]:
    """The per-rule walk all three analyses share; returns HTTP's prefix matches."""
    seen: dict[str, int] = {}
    catch_all: int | None = None
    prefixes: list[_PrefixMatch] = []
    for i, rule in enumerate(rules):
        if not rule.matches:
            if catch_all is not None:
                ctx.report(
                    "IST0130",
                    loaded,
                    rule.path,
                    rule.name,
                    "only the last rule can have no matches",
                    fix=f"rule #{catch_all} already matches every request; remove this rule "
                    "or give it a match and move it above",
                )
            catch_all = i
            continue
        duplicates = 0
        for j, match in enumerate(rule.matches):
            path = f"{rule.path}.match[{j}]"
            if catch_all is not None:
                # Istio reports this once per match of the rule.
                ctx.report(
                    "IST0130",
                    loaded,
                    path,
                    rule.name,
                    "route without matches defined before",
                    fix=f"rule #{catch_all} above has no match and takes every request first; "
                    "move this rule above it",
                )
                continue
            key = _as_json(match)
            if key in seen:
                duplicates += 1
                ctx.report(
                    "IST0131",
                    loaded,
                    path,
                    rule.name,
                    _match_name(match, j),
                    rules[seen[key]].name,
                    fix="delete the duplicate match",
                )
                continue
            seen[key] = i
            if isinstance(match, HTTPMatchRequest):
                prefix = _prefix_match(rule, match, j, path)
                if prefix is not None:
                    prefixes.append(prefix)
        if duplicates == len(rule.matches):
            ctx.report(
                "IST0130",
                loaded,
                rule.path,
                rule.name,
                "all matches used by prior rules",
                fix="remove the rule or change its matches",
            )
    return prefixes


def _as_json(match: HTTPMatchRequest | L4MatchAttributes) -> str:
    # asJSON: the match as JSON without its name; Go's omitempty leaves out unset fields.
    data = match.model_dump(mode="json", exclude_defaults=True, exclude={"name"})
    return json.dumps(data, sort_keys=True)


def _match_name(match: HTTPMatchRequest | L4MatchAttributes, index: int) -> str:
    name = match.name if isinstance(match, HTTPMatchRequest) else None
    return go_quote(name) if name else f"#{index}"


def _exact_or_prefix(match: StringMatch | None) -> str:
    # assignExactOrPrefix: a regex (or nothing) counts as "".
    if match is not None and match.exact:
        return f"exact:{match.exact}"
    if match is not None and match.prefix:
        return f"prefix:{match.prefix}"
    return ""


def _prefix_match(
    rule: _Rule, match: HTTPMatchRequest, index: int, path: str
) -> _PrefixMatch | None:
    # genMatchHTTPRoutes: only matches with a non-empty URI prefix take part.
    if match.uri is None or not match.uri.prefix:
        return None

    def conditions(mapping: dict[str, StringMatch] | None) -> dict[str, str]:
        return {key: _exact_or_prefix(value) for key, value in (mapping or {}).items()}

    return _PrefixMatch(
        rule=rule.name,
        match=_match_name(match, index),
        path=path,
        prefix=match.uri.prefix,
        port=match.port or 0,
        method=_exact_or_prefix(match.method) or "exact:GET",  # no method: taken as GET
        authority=_exact_or_prefix(match.authority),
        headers=conditions(match.headers),
        query_params=conditions(match.query_params),
        without_headers=conditions(match.without_headers),
    )


def _check_prefix_overlaps(
    ctx: Context, loaded: LoadedResource, prefixes: list[_PrefixMatch]
) -> None:
    # analyzeUnreachableHTTPRules' last loop: each earlier prefix match against later ones.
    for i, earlier in enumerate(prefixes):
        for later in prefixes[i + 1 :]:
            if later.prefix == earlier.prefix:
                continue  # equal prefixes were judged as duplicates (or differ elsewhere)
            if _covers(earlier, later):
                ctx.report(
                    "IST0131",
                    loaded,
                    later.path,
                    later.rule,
                    f"{later.match} of prefix {later.prefix}",
                    f"{earlier.match} of prefix {earlier.prefix} on {earlier.rule}",
                    fix=f"the earlier prefix {earlier.prefix!r} takes these requests first; move "
                    "this match above it, or make it more specific",
                )


def _covers(a: _PrefixMatch, b: _PrefixMatch) -> bool:
    """coveredValidation(a, b): does the earlier match ``a`` take every request of ``b``?

    Kept as Istio words it, including its asymmetric ``HasPrefix(a, b)`` on method,
    authority and header values.
    """
    if not b.prefix.startswith(a.prefix) or a.port != b.port:
        return False
    if a.method != b.method and not a.method.startswith(b.method):
        return False
    if a.authority != b.authority and not a.authority.startswith(b.authority):
        return False
    return all(
        _conditions_cover(x, y)
        for x, y in (
            (a.headers, b.headers),
            (a.query_params, b.query_params),
            (a.without_headers, b.without_headers),
        )
    )


def _conditions_cover(a: dict[str, str], b: dict[str, str]) -> bool:
    if len(a) != len(b):
        return False
    return all(key in b and (v == b[key] or v.startswith(b[key])) for key, v in a.items())
