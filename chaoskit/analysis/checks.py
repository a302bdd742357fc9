"""The checks, each as istioctl's analyzer of the same code does it (see messages.py)."""

from __future__ import annotations

import difflib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence

from chaoskit.analysis.context import Context
from chaoskit.analysis.registry import host_matches, to_fqdn
from chaoskit.istio.common import Destination
from chaoskit.istio.loading import LoadedResource
from chaoskit.istio.resources import DestinationRule, Gateway, VirtualService
from chaoskit.istio.virtual_service import HTTPRoute, L4Route

Check = Callable[[Context], None]


def _gateway_ref(name: str, namespace: str) -> tuple[str, str]:
    ns, _, short = name.rpartition("/")
    return (ns or namespace), short


def _destinations(vs: VirtualService) -> Iterator[tuple[str, Destination, bool]]:
    """Every (path, destination, is_mirror) a VirtualService names."""
    for i, route in enumerate(vs.spec.http or []):
        for j, dest in enumerate(route.route or []):
            if dest.destination is not None:
                yield f"spec.http[{i}].route[{j}].destination", dest.destination, False
        if route.mirror is not None:
            yield f"spec.http[{i}].mirror", route.mirror, True
        for j, mirror in enumerate(route.mirrors or []):
            if mirror.destination is not None:
                yield f"spec.http[{i}].mirrors[{j}].destination", mirror.destination, True
    l4_routes: tuple[tuple[str, Sequence[L4Route]], ...] = (
        ("tls", vs.spec.tls or []),
        ("tcp", vs.spec.tcp or []),
    )
    for kind, routes in l4_routes:
        for i, l4 in enumerate(routes):
            for j, l4_dest in enumerate(l4.route or []):
                if l4_dest.destination is not None:
                    yield f"spec.{kind}[{i}].route[{j}].destination", l4_dest.destination, False


def _close(word: str, choices: list[str]) -> str:
    hits = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {hits[0]!r}?)" if hits else ""


# --- IST0101 / IST0112: what a VirtualService points at ------------------------------------


def destination_hosts(ctx: Context) -> None:
    for loaded, vs in ctx.virtual_services():
        for path, dest, is_mirror in _destinations(vs):
            _check_destination(ctx, loaded, path, dest, is_mirror)


def _check_destination(
    ctx: Context, loaded: LoadedResource, path: str, dest: Destination, is_mirror: bool
) -> None:
    fqdn = to_fqdn(dest.host, loaded.namespace)
    if not ctx.registry.host_exists(fqdn):
        ctx.report(
            "IST0101",
            loaded,
            f"{path}.host",
            "mirror host" if is_mirror else "host",
            dest.host,
            fix=_missing_host_fix(ctx, dest.host, fqdn, loaded.namespace),
        )
        return
    service = ctx.registry.service(fqdn)
    if service is not None:
        ports = [p.port for p in service.ports]
        if dest.port is None and len(ports) > 1:
            ctx.report(
                "IST0112",
                loaded,
                path,
                dest.host,
                ports,
                fix=f"add 'port: {{number: {ports[0]}}}' (one of {ports}) to the destination",
            )
        elif dest.port is not None and dest.port.number not in ports:
            ctx.report(
                "IST0101",
                loaded,
                f"{path}.port.number",
                "host:port",
                f"{dest.host}:{dest.port.number}",
                fix=f"{dest.host} serves port(s) {ports}; use one of them",
            )
    if dest.subset is not None:
        subsets = ctx.subsets_for(fqdn)
        if dest.subset not in subsets:
            fix = (
                f"DestinationRules for {dest.host} define subsets {subsets}"
                f"{_close(dest.subset, subsets)}"
                if subsets
                else f"no DestinationRule for {dest.host} defines subsets; add one with a "
                f"subset named {dest.subset!r}"
            )
            ctx.report(
                "IST0101",
                loaded,
                f"{path}.subset",
                "host+subset in destinationrule",
                f"{dest.host}+{dest.subset}",
                fix=fix,
            )


def _missing_host_fix(ctx: Context, host: str, fqdn: str, namespace: str) -> str:
    if ctx.registry.mesh is None:
        return (
            f"no mesh is known, so only ServiceEntries define hosts; drop --offline, or add a "
            f"ServiceEntry for {fqdn}"
        )
    known = ctx.registry.known_hosts()
    elsewhere = [h for h in known if "." not in host and h.split(".")[0] == host]
    if elsewhere:
        return (
            f"short names resolve in the resource's own namespace ({namespace}), but {host!r} "
            f"exists as {', '.join(elsewhere)}; set metadata.namespace or use the full name"
        )
    return (
        f"the mesh has no service {fqdn}{_close(host, [h.split('.')[0] for h in known])}; name "
        "an existing service or add a ServiceEntry"
    )


def virtual_service_gateways(ctx: Context) -> None:
    for loaded, vs in ctx.virtual_services():
        refs = [(f"spec.gateways[{i}]", g) for i, g in enumerate(vs.spec.gateways or [])]
        for i, route in enumerate(vs.spec.http or []):
            for j, match in enumerate(route.match or []):
                refs += [
                    (f"spec.http[{i}].match[{j}].gateways[{k}]", g)
                    for k, g in enumerate(match.gateways or [])
                ]
        for path, ref in refs:
            if ref == "mesh":
                continue
            namespace, name = _gateway_ref(ref, loaded.namespace)
            if ctx.gateway(namespace, name) is None:
                known = sorted(f"{g[0].namespace}/{g[0].name}" for g in ctx.of_kind(Gateway))
                ctx.report(
                    "IST0101",
                    loaded,
                    path,
                    "gateway",
                    ref,
                    fix=f"no Gateway {namespace}/{name} in the input (known: "
                    f"{', '.join(known) or 'none'}); add it or fix the name",
                )


# --- IST0109: two mesh VirtualServices for one host --------------------------------------


def conflicting_mesh_hosts(ctx: Context) -> None:
    by_host: dict[tuple[str, str], list[LoadedResource]] = defaultdict(list)
    for loaded, vs in ctx.virtual_services():
        if vs.spec.gateways and "mesh" not in vs.spec.gateways:
            continue
        export = vs.spec.export_to or ["*"]
        scopes = (
            ["*"] if "*" in export else sorted(loaded.namespace if e == "." else e for e in export)
        )
        for scope in scopes:
            for host in vs.spec.hosts:
                by_host[(scope, to_fqdn(host, loaded.namespace))].append(loaded)
    for (_, fqdn), owners in by_host.items():
        if len(owners) < 2:
            continue
        names = ",".join(f"{o.namespace}/{o.name}" for o in owners)
        for owner in owners:
            ctx.report(
                "IST0109",
                owner,
                "metadata.name",
                names,
                fqdn,
                fix="merge their http rules into one VirtualService (rules are evaluated in order)",
            )


# --- IST0130 / IST0131: rules that can never match ---------------------------------------


def _rule_name(route: HTTPRoute, index: int) -> str:
    return route.name or f"#{index}"


def unreachable_rules(ctx: Context) -> None:
    for loaded, vs in ctx.virtual_services():
        seen: dict[str, int] = {}
        catch_all: int | None = None
        for i, route in enumerate(vs.spec.http or []):
            path, name = f"spec.http[{i}]", _rule_name(route, i)
            if not route.match:
                if catch_all is not None:
                    ctx.report(
                        "IST0130",
                        loaded,
                        path,
                        name,
                        "only the last rule can have no matches",
                        fix=f"rule #{catch_all} already matches every request; remove this rule "
                        "or give it a match and move it above",
                    )
                catch_all = i if catch_all is None else catch_all
                continue
            if catch_all is not None:
                # Beyond istioctl: a matched rule after a catch-all is just as unreachable.
                ctx.report(
                    "IST0130",
                    loaded,
                    path,
                    name,
                    f"rule #{catch_all} above has no match and takes every request first",
                    fix=f"move this rule above rule #{catch_all}",
                )
                continue
            duplicates = 0
            for j, match in enumerate(route.match):
                key = json.dumps(match.to_yaml_dict(), sort_keys=True)
                if key in seen:
                    duplicates += 1
                    ctx.report(
                        "IST0131",
                        loaded,
                        f"{path}.match[{j}]",
                        name,
                        match.name or f"#{j}",
                        f"#{seen[key]}",
                        fix="delete the duplicate match",
                    )
                else:
                    seen[key] = i
            if duplicates == len(route.match):
                ctx.report(
                    "IST0130",
                    loaded,
                    path,
                    name,
                    "all matches used by prior rules",
                    fix="remove the rule or change its matches",
                )


# --- IST0132: a VirtualService host its Gateway does not serve ------------------------------


def hosts_in_gateways(ctx: Context) -> None:
    for loaded, vs in ctx.virtual_services():
        for ref in vs.spec.gateways or []:
            if ref == "mesh":
                continue
            found = ctx.gateway(*_gateway_ref(ref, loaded.namespace))
            if found is None:
                continue  # reported as IST0101
            gw_hosts = [h.rpartition("/")[2] for s in found[1].spec.servers for h in s.hosts]
            for i, host in enumerate(vs.spec.hosts):
                if not any(host_matches(pattern, host) for pattern in gw_hosts):
                    ctx.report(
                        "IST0132",
                        loaded,
                        f"spec.hosts[{i}]",
                        host,
                        loaded.name,
                        ref,
                        fix=f"gateway {ref} serves {gw_hosts}; add {host!r} to a server's hosts",
                    )


# --- Gateways: selector and credentials --------------------------------------------------


def gateway_workloads(ctx: Context) -> None:
    for loaded, gateway in ctx.of_kind(Gateway):
        selector = gateway.spec.selector or {}
        if not selector:
            continue
        workloads = ctx.registry.workloads_matching(selector)
        if not workloads:
            text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            ctx.report(
                "IST0101",
                loaded,
                "spec.selector",
                "selector",
                text,
                fix="no workload carries these labels"
                + ("" if ctx.registry.mesh else " (no mesh is known; drop --offline)"),
            )
            continue
        namespace = workloads[0].namespace
        for i, server in enumerate(gateway.spec.servers):
            name = server.tls.credential_name if server.tls else None
            if name and not ctx.registry.has_secret(namespace, name):
                ctx.report(
                    "IST0101",
                    loaded,
                    f"spec.servers[{i}].tls.credentialName",
                    "credentialName",
                    name,
                    fix=f"create a TLS Secret {name!r} in namespace {namespace!r} (the gateway "
                    "workload's), e.g. `chaoskit secret create-tls`",
                )


# --- DestinationRules against the workloads ----------------------------------------------


def destination_rule_targets(ctx: Context) -> None:
    if not ctx.registry.knows_workloads:
        return  # istioctl checks these only when it can see the pods
    for loaded, dr in ctx.of_kind(DestinationRule):
        fqdn = to_fqdn(dr.spec.host, loaded.namespace)
        service = ctx.registry.service(fqdn)
        if service is None:
            if not ctx.registry.host_exists(fqdn):
                ctx.report(
                    "IST0174",
                    loaded,
                    "spec.host",
                    dr.spec.host,
                    fix="name an existing service or add a ServiceEntry for it",
                )
            continue
        workloads = ctx.registry.workloads(service)
        for i, subset in enumerate(dr.spec.subsets or []):
            labels = subset.labels or {}
            if not any(w.selected_by(labels) for w in workloads):
                versions = sorted({str(w.labels) for w in workloads})
                ctx.report(
                    "IST0173",
                    loaded,
                    f"spec.subsets[{i}]",
                    subset.name,
                    fix=f"no pod of {dr.spec.host} has labels {labels}; its pods have "
                    f"{', '.join(versions)}",
                )


# --- CK0101: weights that do not add up to 100 -------------------------------------------


def route_weights(ctx: Context) -> None:
    for loaded, vs in ctx.virtual_services():
        for i, route in enumerate(vs.spec.http or []):
            dests = route.route or []
            if len(dests) < 2:
                continue
            weights = [max(d.weight or 0, 0) for d in dests]
            total = sum(weights)
            if total in (0, 100):
                continue  # 0 is a schema error reported elsewhere
            shares = ", ".join(
                f"{_label(d.destination)} {100 * w / total:.1f}%"
                for d, w in zip(dests, weights, strict=True)
            )
            ctx.report(
                "CK0101",
                loaded,
                f"spec.http[{i}].route",
                total,
                shares,
                fix="make the weights sum to 100 so the split reads as written",
            )


def _label(dest: Destination | None) -> str:
    if dest is None:
        return "?"
    return f"{dest.host}/{dest.subset}" if dest.subset else dest.host


ALL_CHECKS: tuple[Check, ...] = (
    destination_hosts,
    virtual_service_gateways,
    conflicting_mesh_hosts,
    unreachable_rules,
    hosts_in_gateways,
    gateway_workloads,
    destination_rule_targets,
    route_weights,
)
