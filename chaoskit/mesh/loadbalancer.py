"""Envoy's load balancers over a cluster's eligible hosts, and consistent-hash keys.

Emulates, for equal host weights (Istio gives every endpoint of a cluster the same weight):

* ROUND_ROBIN: a rotating index that starts at a random seed (``EdfLoadBalancerBase::seed_``,
  ``RoundRobinLoadBalancer::unweightedHostPick``) and survives host-set changes.
* LEAST_REQUEST: power of two choices, ``choice_count`` 2, drawn *with* replacement; the
  first draw wins ties (``LeastRequestLoadBalancer::unweightedHostPickNChoices``).
  Istio's LEAST_CONN is an alias, and LEAST_REQUEST is Istio's default.
* RANDOM (and PASSTHROUGH, see docs/decisions.md): a uniform pick.
* RING_HASH: Envoy's ketama ring (``ring_hash_lb.cc``): each host hashes ``"<ip:port>_<i>"``
  for its share of ``max(min_ring_size, …)`` points; a key maps to the first point at or
  after it, wrapping. MAGLEV uses the same ring (docs/decisions.md).
* Host selection retries (``LoadBalancerBase::chooseHost``): while the pick is in
  ``exclude`` (the previous_hosts predicate) pick again, at most ``selection_retries`` more
  times, then keep the last pick. Hash balancers walk the ring by the attempt number.

Envoy hashes with xxHash64; ``xxhash`` is not a dependency here, so BLAKE2b (8 bytes) stands
in. Both are well mixed 64-bit hashes, so stickiness and spread behave the same; only the
exact key → host mapping differs from a real cluster (whose pod IPs differ anyway).
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol, TypeVar
from urllib.parse import parse_qsl

from chaoskit.mesh.config import HashPolicy, LbSpec
from chaoskit.mesh.http.message import Headers, Request

# RingHashLbConfig defaults; LeastRequestLbConfig.choice_count default.
MAX_RING_SIZE = 8 * 1024 * 1024
CHOICE_COUNT = 2
_RING_CACHE = 16


class HostView(Protocol):
    @property
    def address(self) -> str: ...

    @property
    def active_requests(self) -> int: ...


class HeaderLookup(Protocol):
    def get(self, name: str, /) -> str | None: ...


H = TypeVar("H", bound=HostView)


def hash64(text: str) -> int:
    """A 64-bit hash of ``text`` (stands in for Envoy's ``HashUtil::xxHash64``)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def new_cookie_value(remote_address: str, local_address: str) -> str:
    """The value Envoy's router sets for a missing hash cookie with a TTL.

    ``Filter::addDownstreamSetCookie``: hex of the hash of the downstream connection's remote
    and local addresses, so every request on one connection gets the same cookie.
    """
    return f"{hash64(remote_address + local_address):016x}"


def _cookie(headers: HeaderLookup, name: str) -> str | None:
    # Http::Utility::parseCookieValue: every Cookie header, "k=v" pairs split on ';',
    # the first match wins, surrounding double quotes are dropped.
    values = headers.get_all("cookie") if isinstance(headers, Headers) else []
    if not values:
        single = headers.get("cookie")
        values = [single] if single is not None else []
    for header in values:
        for part in header.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                return value
    return None


def _header(headers: HeaderLookup, name: str) -> str | None:
    if isinstance(headers, Headers):
        values = headers.get_all(name.lower())
        # HeaderHashMethod sorts multiple values so their order does not matter.
        return "\x00".join(sorted(values)) if values else None
    value = headers.get(name.lower())
    if value is None and isinstance(headers, Mapping):
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def hash_key(
    policy: HashPolicy,
    headers: HeaderLookup | Request,
    source_ip: str = "",
    query: Mapping[str, str] | str | None = None,
    *,
    new_cookie: str | None = None,
) -> int | None:
    """The request's hash from Istio's ``consistentHash`` source, or None.

    None means "no key": Envoy's ring then hashes a random number, i.e. a random pick.
    A present header or query parameter hashes even when empty; an empty cookie counts as
    absent. With ``httpCookie.ttl`` set and no cookie, Envoy generates one: pass it as
    ``new_cookie`` (see :func:`new_cookie_value`) and set it on the response.
    """
    if isinstance(headers, Request):
        if query is None:
            query = headers.query
        headers = headers.headers
    value: str | None = None
    if policy.header:
        value = _header(headers, policy.header)
    elif policy.cookie:
        value = _cookie(headers, policy.cookie) or None
        if value is None and policy.cookie_ttl_s is not None:
            value = new_cookie
    elif policy.source_ip:
        value = source_ip or None
    elif policy.query_parameter:
        if isinstance(query, str):
            params = parse_qsl(query.lstrip("?"), keep_blank_values=True)
            value = next((v for k, v in params if k == policy.query_parameter), None)
        elif query is not None:
            value = query.get(policy.query_parameter)
    return None if value is None else hash64(value)


class Balancer:
    """One cluster's load balancer; ``choose`` gets the hosts eligible right now."""

    def __init__(self, spec: LbSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        # EdfLoadBalancerBase::seed_ = random(): round robin starts at a random host.
        self._rr_index = rng.getrandbits(64) if spec.kind == "ROUND_ROBIN" else 0
        self._rings: OrderedDict[tuple[str, ...], tuple[list[int], list[int]]] = OrderedDict()

    @property
    def uses_hashing(self) -> bool:
        return self.spec.kind in ("RING_HASH", "MAGLEV")

    def choose(
        self,
        hosts: Sequence[H],
        key: int | None = None,
        *,
        exclude: Collection[str] = (),
        selection_retries: int = 0,
    ) -> H | None:
        """Pick a host; ``key`` is the request's :func:`hash_key` (hash balancers only).

        ``exclude`` holds the addresses already tried (Istio's previous_hosts predicate);
        ``selection_retries`` is Envoy's ``host_selection_retry_max_attempts`` (Istio: 5).
        """
        if not hosts:
            return None
        ring_hash: int | None = None
        if self.uses_hashing:
            # ThreadAwareLoadBalancerBase: no key → hash a random number, computed once.
            ring_hash = key if key is not None else self.rng.getrandbits(64)
        chosen: H | None = None
        for attempt in range(1 + max(0, selection_retries)):
            if ring_hash is not None:
                chosen = hosts[self._ring_pick(hosts, ring_hash, attempt)]
            else:
                chosen = self._pick(hosts)
            if chosen.address not in exclude:
                return chosen
        return chosen  # Envoy keeps the last pick when every attempt was rejected

    def _pick(self, hosts: Sequence[H]) -> H:
        kind = self.spec.kind
        if kind == "ROUND_ROBIN":
            host = hosts[self._rr_index % len(hosts)]
            self._rr_index += 1
            return host
        if kind == "LEAST_REQUEST":
            candidate = hosts[self.rng.randrange(len(hosts))]
            for _ in range(CHOICE_COUNT - 1):
                sampled = hosts[self.rng.randrange(len(hosts))]
                if sampled.active_requests < candidate.active_requests:
                    candidate = sampled
            return candidate
        return hosts[self.rng.randrange(len(hosts))]

    def ring_size(self, hosts: int) -> int:
        """Points on the ring for ``hosts`` equally weighted hosts."""
        return self._points_per_host(hosts) * hosts

    def _points_per_host(self, hosts: int) -> int:
        # Ring::Ring: scale = min(ceil(min_w × min_ring_size) / min_w, max_ring_size) with
        # every normalized weight 1/n, so each host gets ceil(min_ring_size / n) points.
        minimum = max(1, self.spec.ring_size)
        return max(1, min(math.ceil(minimum / hosts), MAX_RING_SIZE // hosts))

    def _ring_pick(self, hosts: Sequence[HostView], key: int, attempt: int) -> int:
        addresses = tuple(h.address for h in hosts)
        ring = self._rings.get(addresses)
        if ring is None:
            per_host = self._points_per_host(len(addresses))
            points = sorted(
                (hash64(f"{address}_{i}"), index)
                for index, address in enumerate(addresses)
                for i in range(per_host)
            )
            ring = ([p for p, _ in points], [i for _, i in points])
            self._rings[addresses] = ring
            if len(self._rings) > _RING_CACHE:
                self._rings.popitem(last=False)
        else:
            self._rings.move_to_end(addresses)
        hashes, owners = ring
        # Ring::chooseHost: first point ≥ key (wrapping), then step by the attempt number.
        index = bisect.bisect_left(hashes, key) % len(hashes)
        return owners[(index + attempt) % len(hashes)]


def make_balancer(spec: LbSpec, rng: random.Random) -> Balancer:
    return Balancer(spec, rng)
