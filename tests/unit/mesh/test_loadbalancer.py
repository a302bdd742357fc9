"""Load balancers with seeded RNGs; statistical margins are ±6 sd, so they cannot flake
(and the seeds make every run identical anyway)."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

import pytest

from chaoskit.mesh.config import HashPolicy, LbKind, LbSpec
from chaoskit.mesh.http.message import Headers, Request
from chaoskit.mesh.loadbalancer import (
    Balancer,
    hash64,
    hash_key,
    make_balancer,
    new_cookie_value,
)


@dataclass
class Host:
    address: str
    active_requests: int = 0


HOSTS = [Host(f"10.0.0.{i}:9080") for i in range(1, 5)]


def _within(count: int, n: int, p: float, sds: float = 6.0) -> bool:
    sd = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= sds * sd


def _picks(balancer: Balancer, hosts: list[Host], n: int, key: int | None = None) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _ in range(n):
        host = balancer.choose(hosts, key)
        assert host is not None
        counts[host.address] += 1
    return counts


# --- round robin --------------------------------------------------------------------------------


def test_round_robin_rotates_from_a_random_start() -> None:
    """RoundRobinLoadBalancer::unweightedHostPick: hosts[rr_index++ % n], the index seeded
    with random() (EdfLoadBalancerBase::seed_) so proxies do not all start on host 0."""
    starts = set()
    for seed in range(8):
        balancer = make_balancer(LbSpec(kind="ROUND_ROBIN"), random.Random(seed))
        picks = [balancer.choose(HOSTS) for _ in range(12)]
        assert all(p is not None for p in picks)
        addresses = [p.address for p in picks if p is not None]
        assert sorted(addresses[:4]) == sorted(h.address for h in HOSTS)
        assert addresses[4:8] == addresses[:4] == addresses[8:]
        starts.add(addresses[0])
    assert len(starts) > 1


def test_round_robin_index_survives_host_set_changes() -> None:
    """refreshHostSource: rr_indexes_.insert keeps the existing index when hosts change."""
    balancer = Balancer(LbSpec(kind="ROUND_ROBIN"), random.Random(2))
    seed = random.Random(2).getrandbits(64)  # the balancer's first draw is its seed
    assert balancer.choose(HOSTS) is HOSTS[seed % 4]
    fewer = HOSTS[:3]
    assert balancer.choose(fewer) is fewer[(seed + 1) % 3]


# --- least request --------------------------------------------------------------------------------


def test_least_request_is_power_of_two_choices_with_replacement() -> None:
    """unweightedHostPickNChoices: two draws of random() % n (with replacement), the one with
    fewer active requests wins, the first draw on ties. The idle host among 4 wins when it
    is drawn at least once: P = 1 − (3/4)² = 7/16, not the 1/2 of distinct pairs."""
    hosts = [Host("a", 0), Host("b", 10), Host("c", 10), Host("d", 10)]
    balancer = Balancer(LbSpec(kind="LEAST_REQUEST"), random.Random(3))
    counts = _picks(balancer, hosts, 16_000)
    assert _within(counts["a"], 16_000, 7 / 16)
    assert not _within(counts["a"], 16_000, 1 / 2)


def test_least_request_busiest_host_needs_both_draws() -> None:
    """The busiest of 4 is picked only if both draws hit it: P = 1/16."""
    hosts = [Host("a", 1), Host("b", 2), Host("c", 3), Host("d", 9)]
    balancer = Balancer(LbSpec(kind="LEAST_REQUEST"), random.Random(4))
    counts = _picks(balancer, hosts, 16_000)
    assert _within(counts["d"], 16_000, 1 / 16)
    assert _within(counts["a"], 16_000, 7 / 16)


def test_least_request_with_equal_load_is_uniform() -> None:
    """Ties keep the first draw, which is uniform (Istio's default LB when idle)."""
    balancer = Balancer(LbSpec(), random.Random(5))
    assert balancer.spec.kind == "LEAST_REQUEST"
    counts = _picks(balancer, HOSTS, 8_000)
    assert all(_within(counts[h.address], 8_000, 1 / 4) for h in HOSTS)


def test_random_is_uniform() -> None:
    """RandomLoadBalancer: hosts[random() % n]."""
    balancer = Balancer(LbSpec(kind="RANDOM"), random.Random(6))
    counts = _picks(balancer, HOSTS, 8_000)
    assert all(_within(counts[h.address], 8_000, 1 / 4) for h in HOSTS)


def test_no_hosts_means_no_pick() -> None:
    """No eligible host: the router answers 503 UH."""
    kinds: tuple[LbKind, ...] = ("ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "RING_HASH")
    for kind in kinds:
        balancer = Balancer(LbSpec(kind=kind), random.Random(1))
        empty: list[Host] = []
        assert balancer.choose(empty, 123) is None


# --- host selection retries (previous_hosts) -----------------------------------------------------


def test_round_robin_always_finds_an_untried_host() -> None:
    """LoadBalancerBase::chooseHost: re-pick while shouldSelectAnotherHost, up to
    hostSelectionRetryCount + 1 picks (Istio: host_selection_retry_max_attempts 5); round
    robin reaches an untried host within n picks."""
    balancer = Balancer(LbSpec(kind="ROUND_ROBIN"), random.Random(7))
    tried = {HOSTS[0].address, HOSTS[1].address}
    for _ in range(50):
        host = balancer.choose(HOSTS, exclude=tried, selection_retries=5)
        assert host is not None
        assert host.address not in tried


@pytest.mark.parametrize("kind", ["LEAST_REQUEST", "RANDOM", "RING_HASH"])
def test_previous_hosts_are_avoided_but_not_guaranteed(kind: LbKind) -> None:
    """With half the hosts tried, 6 independent picks all miss with P = (1/2)^6; the ring
    walks 6 neighbouring points, which Envoy notes "does not guarantee a different host"."""
    balancer = Balancer(
        LbSpec(kind=kind, hash_policy=HashPolicy(header="x")),
        random.Random(8),
    )
    tried = {HOSTS[0].address, HOSTS[1].address}
    misses = 0
    for i in range(2_000):
        host = balancer.choose(HOSTS, hash64(f"user-{i}"), exclude=tried, selection_retries=5)
        assert host is not None
        misses += host.address in tried
    assert misses <= 2_000 * 0.05
    # Without selection retries half the picks would land on a tried host.
    plain = sum(
        (h := balancer.choose(HOSTS, hash64(f"user-{i}"))) is not None and h.address in tried
        for i in range(2_000)
    )
    assert plain >= 600


def test_when_every_pick_is_excluded_the_last_pick_is_used() -> None:
    """chooseHost: "If we didn't find anything, return the last host"."""
    balancer = Balancer(LbSpec(kind="RANDOM"), random.Random(9))
    everyone = {h.address for h in HOSTS}
    assert balancer.choose(HOSTS, exclude=everyone, selection_retries=5) is not None


def test_without_selection_retries_the_first_pick_stands() -> None:
    """hostSelectionRetryCount is 1 only on retries; a first attempt never re-picks."""
    balancer = Balancer(LbSpec(kind="ROUND_ROBIN"), random.Random(10))
    first = balancer.choose(HOSTS)
    assert first is not None
    second = balancer.choose(HOSTS, exclude={h.address for h in HOSTS})
    assert second is HOSTS[(HOSTS.index(first) + 1) % 4]


# --- ring hash -------------------------------------------------------------------------------------


def _ring() -> Balancer:
    return Balancer(
        LbSpec(kind="RING_HASH", hash_policy=HashPolicy(header="x-user")), random.Random(1)
    )


def _user_key(i: int) -> int:
    key = hash_key(HashPolicy(header="x-user"), {"x-user": f"user-{i}"})
    assert key is not None
    return key


def test_ring_hash_is_sticky_per_key_and_across_instances() -> None:
    """Ring::chooseHost: the same hash always lands on the same point; the ring depends only
    on the host addresses, so every proxy with the same endpoints agrees."""
    a, b = _ring(), _ring()
    for i in range(300):
        key = _user_key(i)
        first = a.choose(HOSTS, key)
        assert first is not None
        assert a.choose(HOSTS, key) is first
        assert b.choose(list(reversed(HOSTS)), key) is first


def test_ring_hash_spreads_keys_over_hosts() -> None:
    """min_ring_size 1024 gives each of 4 hosts 256 points, so each owns roughly a quarter
    of the key space (ring arcs vary by ~1/sqrt(256); the hash is deterministic)."""
    balancer = _ring()
    counts = Counter(
        h.address for i in range(4_000) if (h := balancer.choose(HOSTS, _user_key(i))) is not None
    )
    assert set(counts) == {h.address for h in HOSTS}
    assert all(700 <= c <= 1_300 for c in counts.values()), counts


def test_ring_size_follows_min_ring_size() -> None:
    """Ring::Ring with equal weights: ceil(min_ring_size / n) points per host."""
    assert _ring().ring_size(4) == 1024
    assert _ring().ring_size(3) == 1026
    big = Balancer(LbSpec(kind="RING_HASH", ring_size=4096), random.Random(1))
    assert big.ring_size(3) == 4098


def test_removing_a_host_moves_only_its_keys_mostly() -> None:
    """Consistent hashing: the removed host's keys move; other keys mostly stay (each
    remaining host gains points when the ring is rebuilt at min size, so a few move)."""
    balancer = _ring()
    keys = [_user_key(i) for i in range(1_000)]
    before = {k: balancer.choose(HOSTS, k) for k in keys}
    after = {k: balancer.choose(HOSTS[1:], k) for k in keys}
    assert all(after[k] is not HOSTS[0] for k in keys)
    stayed = [k for k in keys if before[k] is not HOSTS[0]]
    kept = sum(after[k] is before[k] for k in stayed)
    assert kept / len(stayed) >= 0.7


def test_no_key_means_a_random_point_on_the_ring() -> None:
    """ThreadAwareLoadBalancerBase: without a hash Envoy hashes random() — a random pick."""
    balancer = _ring()
    counts = _picks(balancer, HOSTS, 4_000, key=None)
    assert len(counts) == 4
    assert all(700 <= c <= 1_300 for c in counts.values())


def test_ring_retry_walks_the_ring_by_attempt() -> None:
    """Ring::chooseHost(h, attempt): the entry after the key's point, by attempt number."""
    balancer = _ring()
    key = _user_key(1)
    home = balancer.choose(HOSTS, key)
    assert home is not None
    other = balancer.choose(HOSTS, key, exclude={home.address}, selection_retries=5)
    assert other is not None
    assert other is not home
    assert balancer.choose(HOSTS, key, exclude={home.address}, selection_retries=5) is other


def test_maglev_uses_the_ring() -> None:
    """docs/decisions.md: MAGLEV keeps keys on one host via the ring hash balancer."""
    balancer = Balancer(LbSpec(kind="MAGLEV"), random.Random(1))
    key = _user_key(3)
    assert balancer.uses_hashing
    assert balancer.choose(HOSTS, key) is _ring().choose(HOSTS, key)


# --- hash keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "headers", "source", "query", "expected"),
    [
        (HashPolicy(header="x-user"), {"x-user": "a"}, "", None, "a"),
        (HashPolicy(header="x-user"), {"X-User": "a"}, "", None, "a"),  # names ignore case
        (HashPolicy(header="x-user"), {"x-user": ""}, "", None, ""),  # present: hashed
        (HashPolicy(header="x-user"), {}, "", None, None),  # absent: random pick
        (HashPolicy(cookie="s"), {"cookie": "a=1; s=xyz"}, "", None, "xyz"),
        (HashPolicy(cookie="s"), {"cookie": 's="q"'}, "", None, "q"),  # quotes dropped
        (HashPolicy(cookie="s"), {"cookie": "s="}, "", None, None),  # empty cookie: absent
        (HashPolicy(cookie="s"), {}, "", None, None),
        (HashPolicy(source_ip=True), {}, "10.1.2.3", None, "10.1.2.3"),
        (HashPolicy(source_ip=True), {}, "", None, None),
        (HashPolicy(query_parameter="u"), {}, "", {"u": "7"}, "7"),
        (HashPolicy(query_parameter="u"), {}, "", "a=1&u=7&u=8", "7"),  # first value
        (HashPolicy(query_parameter="u"), {}, "", "u=", ""),
        (HashPolicy(query_parameter="u"), {}, "", "a=1", None),
    ],
)
def test_hash_key_sources(
    policy: HashPolicy,
    headers: dict[str, str],
    source: str,
    query: dict[str, str] | str | None,
    expected: str | None,
) -> None:
    """Envoy's hash policies (router/config_impl.cc HashMethods): HeaderHashMethod,
    CookieHashMethod (parseCookieValue), ConnectionStateHashMethod (source IP),
    QueryParameterHashMethod (first value)."""
    key = hash_key(policy, headers, source, query)
    assert key == (None if expected is None else hash64(expected))


def test_hash_key_reads_a_request() -> None:
    """The data plane passes its Request; multiple Cookie headers are all searched."""
    request = Request(
        "GET", "/p?u=9", Headers([("cookie", "a=1"), ("cookie", "s=2"), ("x-user", "k")])
    )
    assert hash_key(HashPolicy(cookie="s"), request) == hash64("2")
    assert hash_key(HashPolicy(query_parameter="u"), request) == hash64("9")
    assert hash_key(HashPolicy(header="x-user"), request) == hash64("k")


def test_a_ttl_cookie_is_generated_when_missing() -> None:
    """CookieHashMethod: no cookie and a TTL → the router sets one (hex of the connection's
    addresses' hash) and hashes its value; without a TTL there is no key."""
    value = new_cookie_value("10.0.0.9:51234", "10.0.0.5:9080")
    assert len(value) == 16
    with_ttl = HashPolicy(cookie="s", cookie_ttl_s=0.0)
    assert hash_key(with_ttl, {}, new_cookie=value) == hash64(value)
    assert hash_key(HashPolicy(cookie="s"), {}, new_cookie=value) is None
