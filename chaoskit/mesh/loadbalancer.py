"""Envoy's load balancers over a cluster's eligible hosts, and consistent-hash keys.

Sources: Envoy's load_balancer_impl.cc and ring_hash_lb.cc (round robin, P2C least
request, random, ring hash with ``address_i`` points and ``min_ring_size`` 1024), and
istio-semantics §2.2.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Sequence
from typing import Protocol, TypeVar
from urllib.parse import parse_qsl

from chaoskit.mesh.config import HashPolicy, LbSpec
from chaoskit.mesh.http.message import Request


class HostView(Protocol):
    @property
    def address(self) -> str: ...

    @property
    def active_requests(self) -> int: ...


H = TypeVar("H", bound=HostView)


def _hash64(text: str) -> int:
    # Envoy uses xxHash64; any well-mixed 64-bit hash gives the same ring behaviour.
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def hash_key(policy: HashPolicy, request: Request, source_ip: str) -> int | None:
    """The request's hash from Istio's consistentHash source; None → Envoy picks at random."""
    value: str | None = None
    if policy.header:
        value = request.headers.get(policy.header.lower())
    elif policy.cookie:
        for cookie in request.headers.get_all("cookie"):
            for part in cookie.split(";"):
                name, _, content = part.strip().partition("=")
                if name == policy.cookie:
                    value = content
    elif policy.source_ip:
        value = source_ip or None
    elif policy.query_parameter:
        value = dict(parse_qsl(request.query)).get(policy.query_parameter)
    return None if value is None else _hash64(value)


class Balancer:
    """One cluster's balancer; ``choose`` gets the hosts eligible right now."""

    def __init__(self, spec: LbSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self._next = 0
        self._rings: dict[tuple[str, ...], tuple[list[int], list[int]]] = {}

    def choose(self, hosts: Sequence[H], key: int | None) -> H | None:
        if not hosts:
            return None
        kind = self.spec.kind
        if kind in ("RING_HASH", "MAGLEV") and key is not None:
            return hosts[self._ring_pick(hosts, key)]
        if kind == "ROUND_ROBIN":
            self._next += 1
            return hosts[self._next % len(hosts)]
        if kind == "LEAST_REQUEST" and len(hosts) > 1:
            # Power of two choices (choice_count 2) with equal weights.
            first, second = self.rng.sample(range(len(hosts)), 2)
            a, b = hosts[first], hosts[second]
            return a if a.active_requests <= b.active_requests else b
        return hosts[self.rng.randrange(len(hosts))]

    def _ring_pick(self, hosts: Sequence[HostView], key: int) -> int:
        addresses = tuple(h.address for h in hosts)
        ring = self._rings.get(addresses)
        if ring is None:
            # min_ring_size points spread evenly: each host hashes "address_i" for its share.
            per_host = -(-max(self.spec.ring_size, 1) // len(addresses))
            points = sorted(
                (_hash64(f"{address}_{i}"), index)
                for index, address in enumerate(addresses)
                for i in range(per_host)
            )
            ring = ([p for p, _ in points], [i for _, i in points])
            if len(self._rings) > 64:
                self._rings.clear()
            self._rings[addresses] = ring
        hashes, owners = ring
        return owners[bisect.bisect_left(hashes, key) % len(hashes)]


def make_balancer(spec: LbSpec, rng: random.Random) -> Balancer:
    return Balancer(spec, rng)
