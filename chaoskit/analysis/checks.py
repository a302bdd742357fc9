"""The checks, each as istioctl's analyzer of the same code does it (see messages.py).

With no mesh (``--offline``, istioctl's ``--use-kube=false``) istioctl skips every analyzer
that needs Services, Pods or Secrets (its file source drops those kinds, and
``RemoveSkipped`` drops analyzers whose inputs are missing). So offline, only the checks
that read Istio resources alone run: subsets, gateway references, conflicting hosts,
unreachable rules, client TLS. See docs/istio-validation-notes.md.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence

from chaoskit.analysis.context import Context
from chaoskit.analysis.envoy_filters import unemulated_envoy_filter_patches
from chaoskit.analysis.messages import go_list, go_quote
from chaoskit.analysis.registry import host_matches, to_fqdn
from chaoskit.analysis.unreachable import unreachable_rules
from chaoskit.istio.common import Destination
from chaoskit.istio.destination_rule import ClientTLSSettings
from chaoskit.istio.gateway import Server
from chaoskit.istio.loading import LoadedResource
from chaoskit.istio.resources import DestinationRule, Gateway, VirtualService
from chaoskit.istio.virtual_service import HTTPMatchRequest, L4Route
from chaoskit.topology.spec import Workload

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


def _selector_text(selector: dict[str, str]) -> str:
    """A label selector as Kubernetes prints it: ``istio=ingressgateway`` (sorted, comma)."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


# --- IST0101 / IST0112: what a VirtualService points at ------------------------------------


def destination_hosts(ctx: Context) -> None:
    """istioctl's DestinationHostAnalyzer (hosts, ports) and DestinationRuleAnalyzer (subsets)."""
    for loaded, vs in ctx.virtual_services():
        for path, dest, is_mirror in _destinations(vs):
            if ctx.registry.mesh is not None:  # needs Services: skipped offline, as istioctl does
                _check_host(ctx, loaded, path, dest, is_mirror)
            _check_subset(ctx, loaded, path, dest, is_mirror)
        if ctx.registry.mesh is not None:
            for path in _routes_without_destination(vs):
                # DestinationHostAnalyzer looks up the empty host of a route entry with no
                # destination, and reports it (virtualservice/destinationhosts.go, 1.28.10).
                ctx.report(
                    "IST0101",
                    loaded,
                    path,
                    "host",
                    go_quote(""),
                    fix="add 'destination: {host: <service>}' to this route entry",
                )


def _routes_without_destination(vs: VirtualService) -> Iterator[str]:
    for kind, routes in (("tcp", vs.spec.tcp or []), ("tls", vs.spec.tls or [])):
        for i, l4 in enumerate(routes):
            for j, l4_dest in enumerate(l4.route or []):
                if l4_dest.destination is None:
                    yield f"spec.{kind}[{i}].route[{j}]"
    for i, http in enumerate(vs.spec.http or []):
        for j, http_dest in enumerate(http.route or []):
            if http_dest.destination is None:
                yield f"spec.http[{i}].route[{j}]"


def _check_host(
    ctx: Context, loaded: LoadedResource, path: str, dest: Destination, is_mirror: bool
) -> None:
    fqdn = to_fqdn(dest.host, loaded.namespace)
    if not ctx.registry.host_exists(fqdn, loaded.namespace):
        ctx.report(
            "IST0101",
            loaded,
            f"{path}.host",
            "mirror host" if is_mirror else "host",
            go_quote(dest.host),
            fix=_missing_host_fix(ctx, dest.host, fqdn, loaded.namespace),
        )
        return
    service = ctx.registry.service(fqdn)
    if service is None:
        return
    ports = [p.port for p in service.ports]
    if dest.port is None and len(ports) > 1:
        ctx.report(
            "IST0112",
            loaded,
            path,
            go_quote(dest.host),
            go_list(ports),
            fix=f"add 'port: {{number: {ports[0]}}}' (one of {ports}) to the destination",
        )
    elif dest.port is not None and dest.port.number not in ports:
        ctx.report(
            "IST0101",
            loaded,
            f"{path}.port.number",
            "host:port",
            go_quote(f"{dest.host}:{dest.port.number}"),
            fix=f"{dest.host} serves port(s) {ports}; use one of them",
        )


def _check_subset(
    ctx: Context, loaded: LoadedResource, path: str, dest: Destination, is_mirror: bool
) -> None:
    # Independent of the host check, as in istioctl (two analyzers).
    if not dest.subset:
        return
    fqdn = to_fqdn(dest.host, loaded.namespace)
    subsets = ctx.subsets_for(fqdn)
    if dest.subset in subsets:
        return
    fix = (
        f"DestinationRules for {dest.host} define subsets {subsets}{_close(dest.subset, subsets)}"
        if subsets
        else f"no DestinationRule for {dest.host} defines subsets; add one with a subset named "
        f"{dest.subset!r}"
    )
    ctx.report(
        "IST0101",
        loaded,
        f"{path}.subset",
        f"{'mirror' if is_mirror else 'host'}+subset in destinationrule",
        go_quote(f"{dest.host}+{dest.subset}"),
        fix=fix,
    )


def _missing_host_fix(ctx: Context, host: str, fqdn: str, namespace: str) -> str:
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


# --- IST0101 / IST0132: the Gateways a VirtualService binds to -----------------------------


def virtual_service_gateways(ctx: Context) -> None:
    """istioctl's virtualservice.GatewayAnalyzer."""
    for loaded, vs in ctx.virtual_services():
        for i, ref in enumerate(vs.spec.gateways or []):
            if ref == "mesh":
                continue
            namespace, name = _gateway_ref(ref, loaded.namespace)
            found = ctx.gateway(namespace, name)
            path = f"spec.gateways[{i}]"
            if found is None:
                ctx.report(
                    "IST0101", loaded, path, "gateway", go_quote(ref), fix=_no_gateway(ctx, ref)
                )
            served = (
                _gateway_hosts(found[1].spec.servers, namespace, loaded.namespace) if found else []
            )
            if not any(
                host_matches(g, h) or host_matches(h, g) for g in served for h in vs.spec.hosts
            ):
                # Istio reports this too when the Gateway is missing (it then serves nothing).
                ctx.report(
                    "IST0132",
                    loaded,
                    path,
                    go_list(vs.spec.hosts),
                    f"{loaded.namespace}/{loaded.name}",
                    f"{namespace}/{name}",
                    fix=f"gateway {namespace}/{name} serves {served or 'no hosts'}; add one of "
                    f"{vs.spec.hosts} to a server's hosts, or fix the VirtualService's hosts",
                )
        # Beyond istioctl: a gateway named in a match must exist too.
        for i, route in enumerate(vs.spec.http or []):
            for j, match in enumerate(route.match or []):
                _match_gateways(ctx, loaded, f"spec.http[{i}].match[{j}]", match)


def _match_gateways(
    ctx: Context, loaded: LoadedResource, path: str, match: HTTPMatchRequest
) -> None:
    for k, ref in enumerate(match.gateways or []):
        if ref != "mesh" and ctx.gateway(*_gateway_ref(ref, loaded.namespace)) is None:
            ctx.report(
                "IST0101",
                loaded,
                f"{path}.gateways[{k}]",
                "gateway",
                go_quote(ref),
                fix=_no_gateway(ctx, ref),
            )


def _no_gateway(ctx: Context, ref: str) -> str:
    known = sorted(f"{g[0].namespace}/{g[0].name}" for g in ctx.of_kind(Gateway))
    return (
        f"no Gateway {ref} in the input (known: {', '.join(known) or 'none'}); add it or fix "
        "the name"
    )


def _gateway_hosts(servers: Sequence[Server], gw_namespace: str, vs_namespace: str) -> list[str]:
    """The hosts a Gateway offers to VirtualServices of ``vs_namespace`` (``ns/host`` aware)."""
    hosts: list[str] = []
    for server in servers:
        for host in server.hosts:
            ns, slash, name = host.partition("/")
            if not slash:
                hosts.append(host)
            elif ns == "*" or (ns == "." and gw_namespace == vs_namespace) or ns == vs_namespace:
                hosts.append(name)
    return hosts


# --- IST0109: two mesh VirtualServices for one host --------------------------------------


def conflicting_mesh_hosts(ctx: Context) -> None:
    """istioctl's ConflictingMeshGatewayHostsAnalyzer: keyed by exportTo scope and FQDN."""
    by_host: dict[tuple[str, str], list[LoadedResource]] = defaultdict(list)
    for loaded, vs in ctx.virtual_services():
        if vs.spec.gateways and "mesh" not in vs.spec.gateways:
            continue
        export = vs.spec.export_to or []
        scopes = (
            ["*"]
            if not export or "*" in export
            else sorted({loaded.namespace if e == "." else e for e in export})
        )
        for scope in scopes:
            for host in vs.spec.hosts:
                by_host[(scope, to_fqdn(host, loaded.namespace))].append(loaded)
    reported: set[tuple[str, str]] = set()
    for (scope, fqdn), owners in by_host.items():
        if scope != "*":  # VirtualServices exported everywhere reach this scope as well
            owners = owners + [
                o
                for (s, h), vss in by_host.items()
                if s == "*" and host_matches(h, fqdn)
                for o in vss
            ]
        if len(owners) < 2:
            continue
        names = ",".join(sorted({f"{o.namespace}/{o.name}" for o in owners}))
        for owner in owners:
            key = (owner.namespace, owner.name)
            if key in reported:
                continue
            reported.add(key)
            ctx.report(
                "IST0109",
                owner,
                "metadata.name",
                names,
                f"{scope}/{fqdn}",
                fix="merge their http rules into one VirtualService (rules are evaluated in order)",
            )


# --- Gateways against the mesh: selector, credentials, ports ------------------------------


def gateway_workloads(ctx: Context) -> None:
    """istioctl's gateway.SecretAnalyzer and IngressGatewayPortAnalyzer (need Pods: not offline)."""
    if ctx.registry.mesh is None:
        return
    for loaded, gateway in ctx.of_kind(Gateway):
        selector = gateway.spec.selector or {}
        if not selector:
            continue
        workloads = ctx.registry.workloads_matching(selector)
        text = _selector_text(selector)
        if not workloads:
            labels = ctx.registry.label_values(list(selector))
            ctx.report(
                "IST0101",
                loaded,
                "spec.selector",
                "selector",
                go_quote(text),
                fix="no pod carries these labels"
                + (f"; pods have {', '.join(labels)}" if labels else "")
                + "; use the ingress gateway's labels, e.g. 'istio: ingressgateway'",
            )
            continue
        _gateway_secrets(ctx, loaded, gateway, workloads[0].namespace)
        _gateway_ports(ctx, loaded, gateway, workloads, text)


def _gateway_secrets(
    ctx: Context, loaded: LoadedResource, gateway: Gateway, namespace: str
) -> None:
    for i, server in enumerate(gateway.spec.servers):
        name = server.tls.credential_name if server.tls else None
        if name and not ctx.registry.has_secret(namespace, name):
            ctx.report(
                "IST0101",
                loaded,
                f"spec.servers[{i}].tls.credentialName",
                "credentialName",
                go_quote(name),
                fix=f"create a TLS Secret {name!r} in namespace {namespace!r} (the gateway "
                f"workload's), e.g. `chaoskit secret create {name} --host <host>`",
            )


def _gateway_ports(
    ctx: Context, loaded: LoadedResource, gateway: Gateway, workloads: list[Workload], selector: str
) -> None:
    # IST0162: a server port must be a target port (or port) of a Service of the gateway pods.
    target_ports: set[int] = set()
    service_ports: set[int] = set()
    for service in ctx.registry.services_selecting(workloads):
        for port in service.ports:
            target_ports.add(port.target_port or port.port)
            service_ports.add(port.port)
    for i, server in enumerate(gateway.spec.servers):
        if server.port is None:
            continue
        number = server.port.number
        if number not in target_ports and number not in service_ports:
            ctx.report(
                "IST0162",
                loaded,
                f"spec.servers[{i}].port.number",
                number,
                selector,
                fix=f"listen on a target port of the gateway's Service {sorted(target_ports)} "
                f"(its ports {sorted(service_ports)} are mapped to them)",
            )


# --- DestinationRules against the workloads ----------------------------------------------


def destination_rule_targets(ctx: Context) -> None:
    """istioctl's destinationrule.SubsetSelectPodAnalyzer (needs Pods: skipped offline)."""
    if ctx.registry.mesh is None:
        return
    for loaded, dr in ctx.of_kind(DestinationRule):
        fqdn = to_fqdn(dr.spec.host, loaded.namespace)
        service = ctx.registry.service(fqdn)
        if service is None:
            if not ctx.registry.host_exists(fqdn, loaded.namespace):
                ctx.report(
                    "IST0174",
                    loaded,
                    "spec.host",
                    dr.spec.host,
                    fix=_missing_host_fix(ctx, dr.spec.host, fqdn, loaded.namespace),
                )
            continue
        workloads = ctx.registry.workloads(service)
        for i, subset in enumerate(dr.spec.subsets or []):
            labels = subset.labels or {}
            if not any(w.selected_by(labels) for w in workloads):
                versions = sorted({_selector_text(w.labels) for w in workloads})
                ctx.report(
                    "IST0173",
                    loaded,
                    f"spec.subsets[{i}]",
                    subset.name,
                    fix=f"no pod of {dr.spec.host} has labels {_selector_text(labels)}; its pods "
                    f"have {'; '.join(versions) or 'no labels'}",
                )


# --- IST0128 / IST0129: client TLS that does not verify the server -----------------------


def destination_rule_tls(ctx: Context) -> None:
    """istioctl's destinationrule.CaCertificateAnalyzer (reads DestinationRules only)."""
    for loaded, dr in ctx.of_kind(DestinationRule):
        policy = dr.spec.traffic_policy
        if policy is None:
            continue
        selector = dr.spec.workload_selector is not None
        name = f"{loaded.namespace}/{loaded.name}"
        if _unverified(policy.tls, selector) and policy.tls is not None:
            ctx.report(
                "IST0128",
                loaded,
                "spec.trafficPolicy.tls",
                name,
                loaded.namespace,
                policy.tls.mode,
                dr.spec.host,
                fix=_TLS_FIX,
            )
        for i, port_policy in enumerate(policy.port_level_settings or []):
            if _unverified(port_policy.tls, selector) and port_policy.tls is not None:
                port = port_policy.port.number if port_policy.port else 0
                ctx.report(
                    "IST0129",
                    loaded,
                    f"spec.trafficPolicy.portLevelSettings[{i}].tls",
                    name,
                    loaded.namespace,
                    port_policy.tls.mode,
                    dr.spec.host,
                    f"number:{port}",
                    fix=_TLS_FIX,
                )


_TLS_FIX = (
    "add 'caCertificates: <CA bundle path>' so the sidecar verifies the server's certificate "
    "(or credentialName together with a workloadSelector)"
)


def _unverified(tls: ClientTLSSettings | None, has_selector: bool) -> bool:
    if tls is None or tls.mode not in ("SIMPLE", "MUTUAL"):
        return False
    return not tls.ca_certificates and not (tls.credential_name and has_selector)


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
    unemulated_envoy_filter_patches,
    destination_hosts,
    virtual_service_gateways,
    conflicting_mesh_hosts,
    unreachable_rules,
    gateway_workloads,
    destination_rule_targets,
    destination_rule_tls,
    route_weights,
)
