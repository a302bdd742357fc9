"""Incremental config on the push channel, as in Envoy's delta xDS.

Each listener, virtual host and cluster is a named resource (``listener/NAME``,
``vhost/LISTENER/NAME``, ``cluster/NAME``) plus one ``meta`` resource (proxy, kind,
compat); a listener names its virtual hosts in order, as Envoy's VHDS splits a route
configuration into virtual hosts. A push carries only the resources that changed
for that proxy (``upsert``) and the names that went away (``remove``), like a
DeltaDiscoveryResponse's ``resources`` and ``removed_resources``; ``full`` replaces the
whole set (the first push on a connection, and the one after a NACK, when the control
plane no longer knows what the proxy holds). So a change to one VirtualService sends each
proxy one virtual host, not its whole configuration: the bytes pushed grow with the number
of proxies, not with proxies × services.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chaoskit.mesh.codec import from_jsonable, to_jsonable
from chaoskit.mesh.config import (
    Cluster,
    Compat,
    HttpFilter,
    Listener,
    ProxyKind,
    ProxySnapshot,
    RouteConfig,
    VirtualHost,
)

META = "meta"
INBOUND = "inbound_filters"  # the EnvoyFilter HTTP filters of the inbound side, as one resource
LISTENER = "listener/"
VHOST = "vhost/"
CLUSTER = "cluster/"

Encode = Callable[[Any, Callable[[Any], Any]], str]


def _plain(obj: Any, build: Callable[[Any], Any]) -> str:
    return json.dumps(build(obj), separators=(",", ":"))


def meta_text(snapshot: ProxySnapshot) -> str:
    """The proxy's own resource; it never changes on a connection, so only full pushes send it."""
    meta = {"proxy": snapshot.proxy, "kind": snapshot.kind, "compat": to_jsonable(snapshot.compat)}
    return json.dumps(meta, separators=(",", ":"))


def resource_texts(snapshot: ProxySnapshot, encode: Encode = _plain) -> dict[str, str]:
    """The snapshot's listeners, virtual hosts and clusters as named JSON texts.

    ``encode(obj, build)`` returns the JSON text of ``build(obj)``; a caller that keys it by
    ``obj`` encodes an object shared between proxies once.
    """
    out: dict[str, str] = {}
    for listener in snapshot.listeners:
        out[LISTENER + listener.name] = encode(listener, _skeleton)
        for vhost in listener.route_config.virtual_hosts:
            out[f"{VHOST}{listener.name}/{vhost.name}"] = encode(vhost, to_jsonable)
    for cluster in snapshot.clusters:
        out[CLUSTER + cluster.name] = encode(cluster, to_jsonable)
    if snapshot.inbound_filters:
        out[INBOUND] = encode(snapshot.inbound_filters, to_jsonable)
    return out


def upsert_body(upsert: dict[str, str]) -> str:
    """The ``upsert`` object's members, joined from already-encoded texts."""
    return ",".join(f"{json.dumps(name)}:{text}" for name, text in upsert.items())


def _skeleton(listener: Listener) -> dict[str, Any]:
    """A listener without its virtual hosts, which travel as their own resources."""
    bare = replace(listener, route_config=RouteConfig(listener.route_config.name, ()))
    names = [v.name for v in listener.route_config.virtual_hosts]
    return {"listener": to_jsonable(bare), "vhosts": names}


def delta_message(version: int, nonce: int, full: bool, body: str, remove: list[str]) -> bytes:
    """One push; ``body`` is :func:`upsert_body` output (each resource is encoded once)."""
    return delta_frame(version, nonce, full, (body.encode(),), remove)


def delta_frame(
    version: int, nonce: int, full: bool, body: tuple[bytes, ...], remove: list[str]
) -> bytes:
    """One push from already-encoded pieces of the upsert body, joined by commas (so the
    bulk of a full push, shared by the proxies of one view, is encoded once per push)."""
    head = json.dumps(
        {"type": "snapshot", "version": version, "nonce": nonce, "full": full, "remove": remove},
        separators=(",", ":"),
    )
    return b"".join((head[:-1].encode(), b',"upsert":{', b",".join(p for p in body if p), b"}}\n"))


@dataclass(slots=True)
class ConfigState:
    """What a proxy holds; applies pushes without touching the resources they leave alone.

    A listener is reassembled only when it or one of its virtual hosts changed, so the
    proxy keeps the very same Listener object (and its compiled route table) otherwise. A
    push that fails to decode changes nothing: the proxy keeps its last good config and
    NACKs, as Envoy does.
    """

    meta: dict[str, Any] = field(default_factory=dict)
    skeletons: dict[str, tuple[Listener, tuple[str, ...]]] = field(default_factory=dict)
    vhosts: dict[str, VirtualHost] = field(default_factory=dict)
    listeners: dict[str, Listener] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    inbound_filters: tuple[HttpFilter, ...] = ()

    def apply(self, message: dict[str, Any]) -> ProxySnapshot:
        full = bool(message.get("full"))
        meta = {} if full else dict(self.meta)
        skeletons = {} if full else dict(self.skeletons)
        vhosts: dict[str, VirtualHost] = {} if full else dict(self.vhosts)
        clusters: dict[str, Cluster] = {} if full else dict(self.clusters)
        inbound = () if full else self.inbound_filters
        dirty: set[str] = set()  # listeners to reassemble
        for name in message.get("remove") or ():
            if name == INBOUND:
                inbound = ()
            elif name.startswith(LISTENER):
                skeletons.pop(name.removeprefix(LISTENER), None)
            elif name.startswith(VHOST):
                vhosts.pop(name, None)
                dirty.add(name.removeprefix(VHOST).split("/", 1)[0])
            elif name.startswith(CLUSTER):
                clusters.pop(name.removeprefix(CLUSTER), None)
        for name, data in (message.get("upsert") or {}).items():
            if name == META:
                meta = data
            elif name == INBOUND:
                inbound = tuple(from_jsonable(HttpFilter, f) for f in data)
            elif name.startswith(LISTENER):
                listener = from_jsonable(Listener, data["listener"])
                skeletons[listener.name] = (listener, tuple(data["vhosts"]))
                dirty.add(listener.name)
            elif name.startswith(VHOST):
                vhosts[name] = from_jsonable(VirtualHost, data)
                dirty.add(name.removeprefix(VHOST).split("/", 1)[0])
            elif name.startswith(CLUSTER):
                clusters[name.removeprefix(CLUSTER)] = from_jsonable(Cluster, data)
            else:
                raise ValueError(f"unknown resource {name!r} in a push")
        if not meta:
            raise ValueError("push without the proxy's meta resource")
        listeners: dict[str, Listener] = {}
        for name, (bare, order) in skeletons.items():
            current = self.listeners.get(name)
            if current is None or full or name in dirty:
                missing = [v for v in order if f"{VHOST}{name}/{v}" not in vhosts]
                if missing:
                    raise ValueError(f"listener {name} names unknown virtual hosts {missing}")
                route = RouteConfig(
                    bare.route_config.name, tuple(vhosts[f"{VHOST}{name}/{v}"] for v in order)
                )
                current = replace(bare, route_config=route)
            listeners[name] = current
        kind: ProxyKind = meta["kind"]
        snapshot = ProxySnapshot(
            proxy=str(meta["proxy"]),
            kind=kind,
            version=int(message["version"]),
            listeners=tuple(listeners.values()),
            clusters=tuple(clusters.values()),
            compat=from_jsonable(Compat, meta["compat"]),
            inbound_filters=inbound,
        )
        self.meta, self.skeletons, self.vhosts = meta, skeletons, vhosts
        self.listeners, self.clusters = listeners, clusters
        self.inbound_filters = inbound
        return snapshot
