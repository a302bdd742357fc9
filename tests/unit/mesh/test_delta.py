"""Delta pushes: both ends of the wire format, and what a proxy keeps between pushes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chaoskit.mesh.config import (
    Cluster,
    Listener,
    ProxySnapshot,
    Route,
    RouteConfig,
    RouteMatch,
    VirtualHost,
    WeightedCluster,
)
from chaoskit.mesh.delta import (
    ConfigState,
    delta_message,
    meta_text,
    resource_texts,
    upsert_body,
)
from chaoskit.mesh.routing import RouteTable


def vhost(service: str, cluster: str) -> VirtualHost:
    route = Route("default", RouteMatch(), (WeightedCluster(cluster, 100),))
    return VirtualHost(f"{service}:8080", (service, f"{service}:8080"), (route,))


def snapshot(services: list[str], routed: dict[str, str] | None = None) -> ProxySnapshot:
    routed = routed or {}
    vhosts = tuple(vhost(s, routed.get(s, f"outbound|8080||{s}")) for s in services)
    listener = Listener("0.0.0.0_8080", 8080, RouteConfig("8080", vhosts))
    clusters = tuple(Cluster(name=f"outbound|8080||{s}", service=s, port=8080) for s in services)
    return ProxySnapshot("a.default", "sidecar", 1, (listener,), clusters)


def wire(version: int, full: bool, upsert: dict[str, str], remove: list[str]) -> dict[str, object]:
    message = json.loads(delta_message(version, version, full, upsert_body(upsert), remove))
    assert isinstance(message, dict)
    return message


def diff(old: dict[str, str], new: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    return {n: t for n, t in new.items() if old.get(n) != t}, [n for n in old if n not in new]


def test_a_full_push_then_deltas_rebuild_the_compiled_snapshot() -> None:
    first = snapshot(["svc-0", "svc-1", "svc-2"])
    state = ConfigState()
    texts = resource_texts(first)
    got = state.apply(wire(1, True, {"meta": meta_text(first), **texts}, []))
    assert got == first

    # one route changes, one service goes away: only those travel
    second = snapshot(["svc-0", "svc-1"], routed={"svc-1": "outbound|8080|v2|svc-1"})
    upsert, remove = diff(texts, resource_texts(second))
    assert sorted(upsert) == ["listener/0.0.0.0_8080", "vhost/0.0.0.0_8080/svc-1:8080"]
    assert sorted(remove) == ["cluster/outbound|8080||svc-2", "vhost/0.0.0.0_8080/svc-2:8080"]
    got = state.apply(wire(2, False, upsert, remove))
    assert got == replace(second, version=2)


def test_resources_a_push_leaves_alone_stay_the_same_objects() -> None:
    """So the proxy keeps cluster runtime state and compiled route tables for them."""
    first = snapshot(["svc-0", "svc-1"])
    state = ConfigState()
    texts = resource_texts(first)
    before = state.apply(wire(1, True, {"meta": meta_text(first), **texts}, []))
    changed = replace(first.clusters[1], connect_timeout_s=first.clusters[1].connect_timeout_s + 1)
    second = replace(first, clusters=(first.clusters[0], changed))
    upsert, remove = diff(texts, resource_texts(second))
    assert list(upsert) == ["cluster/outbound|8080||svc-1"]
    assert remove == []
    after = state.apply(wire(2, False, upsert, remove))
    assert after.listeners[0] is before.listeners[0]
    assert after.clusters[0] is before.clusters[0]
    assert after.clusters[1] is not before.clusters[1]


def test_a_push_that_does_not_decode_changes_nothing() -> None:
    first = snapshot(["svc-0"])
    state = ConfigState()
    state.apply(wire(1, True, {"meta": meta_text(first), **resource_texts(first)}, []))
    held = (dict(state.listeners), dict(state.clusters), dict(state.vhosts))
    broken = wire(2, False, {"listener/0.0.0.0_8080": '{"listener": {"name": 1}}'}, [])
    with pytest.raises((ValueError, KeyError, TypeError)):
        state.apply(broken)
    assert (state.listeners, state.clusters, state.vhosts) == held


def test_a_listener_naming_a_virtual_host_it_was_never_sent_is_rejected() -> None:
    first = snapshot(["svc-0"])
    texts = resource_texts(first)
    texts.pop("vhost/0.0.0.0_8080/svc-0:8080")
    with pytest.raises(ValueError, match=r"names unknown virtual hosts \['svc-0:8080'\]"):
        ConfigState().apply(wire(1, True, {"meta": meta_text(first), **texts}, []))


@pytest.mark.parametrize(
    "change",
    ["routes", "domains", "added", "wildcard"],
)
def test_a_patched_route_table_answers_as_a_fresh_one(change: str) -> None:
    services = ["svc-0", "svc-1", "svc-2"]
    old = snapshot(services).listeners[0].route_config
    hosts = list(old.virtual_hosts)
    if change == "routes":
        hosts[1] = vhost("svc-1", "outbound|8080|v2|svc-1")
    elif change == "domains":
        hosts[1] = replace(hosts[1], domains=("other", "other:8080"))
    elif change == "added":
        hosts.append(vhost("svc-3", "outbound|8080||svc-3"))
    else:
        hosts[2] = replace(vhost("svc-2", "outbound|8080|v9|svc-2"), domains=("*.svc-2", "*"))
        old = RouteConfig(
            "8080",
            (*old.virtual_hosts[:2], replace(old.virtual_hosts[2], domains=("*.svc-2", "*"))),
        )
    new = RouteConfig("8080", tuple(hosts))
    patched = RouteTable(old).updated(new)
    fresh = RouteTable(new)
    for authority in ["svc-0", "svc-1:8080", "SVC-1", "svc-2", "a.svc-2", "other", "svc-3", "none"]:
        assert patched.virtual_host(authority) == fresh.virtual_host(authority), authority


def test_inbound_filters_travel_as_one_resource_and_go_when_removed() -> None:
    from chaoskit.mesh.config import FaultSpec, HttpFilter

    plain = snapshot(["svc-0"])
    faulty = replace(
        plain,
        inbound_filters=(HttpFilter("f", FaultSpec(abort_status=503, abort_per_million=1), (80,)),),
    )
    state = ConfigState()
    texts = resource_texts(plain)
    state.apply(wire(1, True, {"meta": meta_text(plain), **texts}, []))
    upsert, remove = diff(texts, resource_texts(faulty))
    assert (list(upsert), remove) == (["inbound_filters"], [])
    assert state.apply(wire(2, False, upsert, remove)) == replace(faulty, version=2)
    upsert, remove = diff(resource_texts(faulty), resource_texts(plain))
    assert (upsert, remove) == ({}, ["inbound_filters"])
    assert state.apply(wire(3, False, upsert, remove)) == replace(plain, version=3)
