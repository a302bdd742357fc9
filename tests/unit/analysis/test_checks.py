"""Each analyzer check, on small inputs, with istioctl's codes and texts.

Codes, levels and message texts: istio/istio pkg/config/analysis/msg/messages.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.analysis import analyze_paths, analyze_resources
from chaoskit.analysis.messages import Level, Message
from chaoskit.istio.loading import load_text
from chaoskit.topology.spec import MeshSpec

DR_REVIEWS = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""


def vs(name: str, body: str, namespace: str = "bookinfo") -> str:
    return (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}"
    )


def analyze(*docs: str, mesh: MeshSpec | None = None) -> list[Message]:
    result = load_text("---\n".join(docs), "in.yaml")
    assert not result.problems, [p.describe() for p in result.problems]
    return analyze_resources(result.resources, mesh=mesh)


def codes(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.type.code, m.path) for m in messages]


@pytest.fixture
def mesh() -> MeshSpec:
    return MeshSpec.default()


def test_missing_subset_is_ist0101_with_host_plus_subset(mesh: MeshSpec) -> None:
    body = (
        "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v4}\n"
    )
    [message] = analyze(vs("r", body), DR_REVIEWS, mesh=mesh)
    assert message.type.code == "IST0101"
    assert message.level is Level.ERROR
    assert message.text == 'Referenced host+subset in destinationrule not found: "reviews+v4"'
    assert message.path == "spec.http[0].route[0].destination.subset"
    assert "['v1', 'v2']" in message.fix
    assert message.format().startswith(
        "Error [IST0101] (VirtualService bookinfo/r in.yaml:8) Referenced host+subset"
    )


def test_offline_skips_what_needs_services_pods_or_secrets() -> None:
    """istioctl --use-kube=false skips analyzers whose inputs include Service, Pod or Secret."""
    body = (
        "  hosts: [reviewz]\n  http:\n  - route:\n    - destination: {host: reviewz, subset: v1}\n"
    )
    dr_v9 = DR_REVIEWS + "  - {name: v9, labels: {version: v9}}\n"
    gw = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
        "spec:\n  selector: {istio: nothing}\n  servers:\n"
        "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*.example.com']\n"
        "    tls: {mode: SIMPLE, credentialName: missing-cert}\n"
    )
    messages = analyze(vs("r", body), dr_v9, gw)
    # No IST0101 host, IST0173, IST0174, selector or credentialName findings: only the
    # subset reference, which the DestinationRule analyzer checks from the files alone.
    assert codes(messages) == [("IST0101", "spec.http[0].route[0].destination.subset")]
    assert messages[0].text == ('Referenced host+subset in destinationrule not found: "reviewz+v1"')


def test_an_unknown_host_and_its_subset_are_two_findings(mesh: MeshSpec) -> None:
    body = (
        "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviewz, subset: v1}\n"
        "    mirror: {host: reviews, subset: v7}\n"
    )
    messages = analyze(vs("r", body), DR_REVIEWS, mesh=mesh)
    assert [(m.path, m.text) for m in messages] == [
        ("spec.http[0].route[0].destination.host", 'Referenced host not found: "reviewz"'),
        (
            "spec.http[0].route[0].destination.subset",
            'Referenced host+subset in destinationrule not found: "reviewz+v1"',
        ),
        (
            "spec.http[0].mirror.subset",
            'Referenced mirror+subset in destinationrule not found: "reviews+v7"',
        ),
    ]
    assert "did you mean 'reviews'" in messages[0].fix


def test_service_entry_makes_a_host_known() -> None:
    se = (
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext}\n"
        "spec:\n  hosts: [api.example.org]\n  ports: [{number: 443, name: https, protocol: HTTPS}]\n"
        "  resolution: DNS\n"
    )
    body = "  hosts: [api.example.org]\n  http:\n  - route:\n    - destination: {host: api.example.org}\n"
    assert analyze(vs("r", body, "default"), se) == []


def test_unknown_gateway_is_ist0101_and_ist0132(mesh: MeshSpec) -> None:
    body = (
        "  hosts: [reviews]\n  gateways: [nope]\n  http:\n"
        "  - route:\n    - destination: {host: reviews}\n"
    )
    first, second = analyze(vs("r", body), mesh=mesh)
    assert (first.text, first.path) == ('Referenced gateway not found: "nope"', "spec.gateways[0]")
    # istioctl's GatewayAnalyzer also finds no host of the (missing) gateway matching.
    assert second.text == (
        "one or more host [reviews] defined in VirtualService bookinfo/r not found in Gateway "
        "bookinfo/nope."
    )


def test_two_mesh_virtual_services_for_one_host_conflict(mesh: MeshSpec) -> None:
    body = "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n"
    fqdn_body = body.replace("hosts: [reviews]", "hosts: [reviews.bookinfo.svc.cluster.local]")
    messages = analyze(vs("a", body), vs("b", fqdn_body), mesh=mesh)
    assert [m.type.code for m in messages] == ["IST0109", "IST0109"]
    assert messages[0].text.startswith(
        "The VirtualServices bookinfo/a,bookinfo/b associated with mesh gateway define the same "
        "host */reviews.bookinfo.svc.cluster.local which"
    )


def test_a_conflicting_virtual_service_is_reported_once(mesh: MeshSpec) -> None:
    body = "  hosts: [reviews, ratings]\n  http:\n  - route:\n    - destination: {host: reviews}\n"
    messages = analyze(vs("a", body), vs("b", body), mesh=mesh)
    assert [(m.type.code, m.resource) for m in messages] == [
        ("IST0109", "bookinfo/a"),
        ("IST0109", "bookinfo/b"),
    ]


def test_gateway_bound_virtual_services_may_share_hosts(mesh: MeshSpec) -> None:
    gw = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: bookinfo}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: ['*']\n"
    )
    body = "  hosts: ['*']\n  gateways: [gw]\n  http:\n  - route:\n    - destination: {host: productpage}\n"
    assert analyze(gw, vs("a", body), vs("b", body), mesh=mesh) == []


def test_rule_after_catch_all_is_unreachable(mesh: MeshSpec) -> None:
    # analyzeUnreachableHTTPRules (istio/istio 1.28.10 pkg/config/validation/validation.go:2046)
    # reports "route without matches defined before" once per match of the rule.
    body = (
        "  hosts: [reviews]\n  http:\n"
        "  - route:\n    - destination: {host: reviews}\n"
        "  - match:\n    - headers: {end-user: {exact: jason}}\n    - uri: {prefix: /a}\n"
        "    route:\n    - destination: {host: reviews}\n"
    )
    first, second = analyze(vs("r", body), mesh=mesh)
    assert (first.type.code, first.level, first.path) == (
        "IST0130",
        Level.WARNING,
        "spec.http[1].match[0]",
    )
    assert first.text == ("VirtualService rule #1 not used (route without matches defined before).")
    assert (second.type.code, second.path) == ("IST0130", "spec.http[1].match[1]")


def test_rule_names_are_quoted_as_istio_prints_them(mesh: MeshSpec) -> None:
    match = "    - uri: {prefix: /a}\n"
    body = (
        "  hosts: [reviews]\n  http:\n"
        f"  - name: first\n    match:\n{match}    route:\n    - destination: {{host: reviews}}\n"
        f"  - name: second\n    match:\n{match}    route:\n    - destination: {{host: reviews}}\n"
    )
    ineffective, unreachable = analyze(vs("r", body), mesh=mesh)
    assert ineffective.text == (
        'VirtualService rule "second" match #0 is not used (duplicate/overlapping match in '
        'rule "first").'
    )
    assert (ineffective.type.code, ineffective.level) == ("IST0131", Level.INFO)
    assert unreachable.text == (
        'VirtualService rule "second" not used (all matches used by prior rules).'
    )


def test_duplicate_matches(mesh: MeshSpec) -> None:
    match = "  - match:\n    - uri: {prefix: /a}\n    route:\n    - destination: {host: reviews}\n"
    messages = analyze(vs("r", "  hosts: [reviews]\n  http:\n" + match + match), mesh=mesh)
    assert codes(messages) == [("IST0131", "spec.http[1].match[0]"), ("IST0130", "spec.http[1]")]
    assert messages[1].text == "VirtualService rule #1 not used (all matches used by prior rules)."


def test_subset_selecting_no_pods_and_unknown_dr_host(mesh: MeshSpec) -> None:
    dr = DR_REVIEWS + "  - {name: v9, labels: {version: v9}}\n"
    ghost = DR_REVIEWS.replace("name: reviews,", "name: ghost,").replace(
        "host: reviews", "host: ghost"
    )
    messages = analyze(dr, ghost, mesh=mesh)
    assert codes(messages) == [("IST0173", "spec.subsets[2]"), ("IST0174", "spec.host")]
    assert messages[0].text == (
        "The Subset v9 defined in the DestinationRule does not select any pods. Which may lead "
        "to 503 UH (NoHealthyUpstream)."
    )
    assert "version=v1" in messages[0].fix


def test_host_not_served_by_the_bound_gateway(mesh: MeshSpec) -> None:
    gw = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*.example.com']\n"
        "    tls: {mode: SIMPLE, credentialName: my-tls-secret}\n"
    )
    body = (
        "  hosts: [api.example.com, api.example.org]\n  gateways: [gw]\n  http:\n"
        "  - route:\n    - destination: {host: api-service, port: {number: 8080}}\n"
    )
    # Istio warns only when no host of the VirtualService is served by the gateway.
    assert analyze(gw, vs("v", body, "default"), mesh=mesh) == []
    other = body.replace("api.example.com, ", "")
    [message] = analyze(gw, vs("v", other, "default"), mesh=mesh)
    assert (message.type.code, message.path) == ("IST0132", "spec.gateways[0]")
    assert message.text == (
        "one or more host [api.example.org] defined in VirtualService default/v not found in "
        "Gateway default/gw."
    )


def test_gateway_credential_must_exist_beside_the_gateway_workload(mesh: MeshSpec) -> None:
    gw = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*.example.com']\n"
        "    tls: {mode: SIMPLE, credentialName: missing-cert}\n"
    )
    [message] = analyze(gw, mesh=mesh)
    assert message.text == 'Referenced credentialName not found: "missing-cert"'
    assert "istio-system" in message.fix


def test_weights_not_summing_to_100_warn_with_the_effective_split(mesh: MeshSpec) -> None:
    body = (
        "  hosts: [reviews]\n  http:\n  - route:\n"
        "    - {destination: {host: reviews, subset: v1}, weight: 2}\n"
        "    - {destination: {host: reviews, subset: v2}, weight: 1}\n"
    )
    [message] = analyze(vs("r", body), DR_REVIEWS, mesh=mesh)
    assert (message.type.code, message.level) == ("CK0101", Level.WARNING)
    assert "reviews/v1 66.7%, reviews/v2 33.3%" in message.text


def test_multi_port_service_needs_a_port() -> None:
    mesh = MeshSpec.model_validate(
        {
            "apiVersion": "chaoskit.dev/v1alpha1",
            "kind": "MeshSpec",
            "spec": {
                "namespaces": [{"name": "default"}],
                "services": [
                    {"name": "web", "ports": [{"port": 80}, {"name": "admin", "port": 81}]}
                ],
            },
        }
    )
    body = "  hosts: [web]\n  http:\n  - route:\n    - destination: {host: web}\n"
    assert codes(analyze(vs("w", body, "default"), mesh=mesh)) == [
        ("IST0112", "spec.http[0].route[0].destination")
    ]


def test_gateway_port_must_be_a_target_port_of_its_service(mesh: MeshSpec) -> None:
    gw = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
        "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
        "  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: ['*']\n"
        "  - port: {number: 80, name: http-80, protocol: HTTP}\n    hosts: ['*']\n"
        "  - port: {number: 9090, name: http-9090, protocol: HTTP}\n    hosts: ['*']\n"
    )
    # 8080 is a target port and 80 a Service port of istio-ingressgateway; 9090 is neither.
    [message] = analyze(gw, mesh=mesh)
    assert (message.type.code, message.level, message.path) == (
        "IST0162",
        Level.WARNING,
        "spec.servers[2].port.number",
    )
    assert message.text.startswith(
        "The gateway is listening on a target port (port 9090) that is not defined in the "
        "Service associated with its workload instances (Pod selector istio=ingressgateway)."
    )


def test_client_tls_without_ca_certificates(mesh: MeshSpec) -> None:
    dr = (
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: ext, namespace: bookinfo}\nspec:\n  host: ratings\n"
        "  trafficPolicy:\n    tls: {mode: SIMPLE}\n"
        "    portLevelSettings:\n    - port: {number: 9080}\n      tls: {mode: MUTUAL, "
        "clientCertificate: /c.pem, privateKey: /k.pem}\n"
    )
    for messages in (analyze(dr, mesh=mesh), analyze(dr)):  # offline too: it reads DRs only
        assert [(m.type.code, m.level) for m in messages] == [
            ("IST0128", Level.WARNING),
            ("IST0129", Level.WARNING),
        ]
    first, second = analyze(dr)
    assert first.text == (
        "DestinationRule bookinfo/ext in namespace bookinfo has TLS mode set to SIMPLE but no "
        "caCertificates are set to validate server identity for host: ratings"
    )
    assert second.text.endswith("for host: ratings at port number:9080")
    verified = dr.replace("tls: {mode: SIMPLE}", "tls: {mode: SIMPLE, caCertificates: /ca.pem}")
    assert [m.type.code for m in analyze(verified)] == ["IST0129"]


def test_resources_with_schema_errors_are_still_analyzed(tmp_path: Path) -> None:
    # istioctl's file source stores without validating (istio/istio 1.28.10
    # pilot/pkg/config/file/store.go:159 NewKubeSource: memory.MakeSkipValidation) and decodes
    # leniently (:525 TranslateObject: DefaultUnstructuredConverter drops unknown fields), so the
    # schema analyzer reports IST0106 and the other analyzers still see the resource.
    gateway = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: bookinfo}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, protocol: HTTP}
    hosts: [shop.example.com]
"""
    bound = vs(
        "front",
        "  hosts: [shop.example.com]\n  gateways: [shop]\n  http:\n"
        "  - route:\n    - destination: {host: productpage}\n",
    )
    typo = vs(
        "typo",
        "  hosts: [reviews]\n  http:\n  - timeouts: 5s\n"
        "    route:\n    - destination: {host: reviews, subset: v9}\n",
    )
    file = tmp_path / "in.yaml"
    file.write_text("---\n".join([gateway, bound, typo, DR_REVIEWS]))
    result = analyze_paths([file], mesh=MeshSpec.default())
    found = sorted((m.type.code, m.resource, m.path) for m in result.messages)
    assert found == [
        ("IST0101", "bookinfo/typo", "spec.http[0].route[0].destination.subset"),
        ("IST0106", "bookinfo/shop", "spec.servers[0].port.name"),
        ("IST0106", "bookinfo/typo", "spec.http[0].timeouts"),
    ]


# analyzeUnreachableTCPRules / analyzeUnreachableTLSRules (istio/istio 1.28.10
# pkg/config/validation/validation.go:2089 and :2127, called at :1835-1836): the HTTP walk,
# for tcp and tls rules, named #n (routeName, :2183).
TCP_GATEWAY = "  hosts: ['*']\n  gateways: [tcp-gw]\n"


def unreachable_only(*docs: str, mesh: MeshSpec) -> list[Message]:
    """The IST0130/IST0131 messages only (the gateway these rules bind to is left out)."""
    return [m for m in analyze(*docs, mesh=mesh) if m.type.code in ("IST0130", "IST0131")]


def _tcp_rule(*ports: int) -> str:
    matches = "".join(f"    - port: {p}\n" for p in ports)
    return (
        f"  - match:\n{matches}" if ports else "  -"
    ) + "    route:\n    - destination: {host: ratings, port: {number: 9080}}\n"


def test_duplicate_tcp_matches_are_ist0131_and_the_rule_ist0130(mesh: MeshSpec) -> None:
    body = TCP_GATEWAY + "  tcp:\n" + _tcp_rule(31400) + _tcp_rule(31400)
    ineffective, unreachable = unreachable_only(vs("r", body), mesh=mesh)
    assert (ineffective.type.code, ineffective.path) == ("IST0131", "spec.tcp[1].match[0]")
    assert ineffective.text == (
        "VirtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0)."
    )
    assert (unreachable.type.code, unreachable.path) == ("IST0130", "spec.tcp[1]")
    assert unreachable.text == "VirtualService rule #1 not used (all matches used by prior rules)."


def test_partly_duplicate_tcp_rule_is_only_ineffective(mesh: MeshSpec) -> None:
    body = TCP_GATEWAY + "  tcp:\n" + _tcp_rule(31400) + _tcp_rule(31400, 31401)
    assert codes(unreachable_only(vs("r", body), mesh=mesh)) == [
        ("IST0131", "spec.tcp[1].match[0]")
    ]


def test_two_tcp_catch_alls(mesh: MeshSpec) -> None:
    body = TCP_GATEWAY + "  tcp:\n" + _tcp_rule().replace("  -    ", "  - ") * 2
    [message] = unreachable_only(vs("r", body), mesh=mesh)
    assert (message.type.code, message.path) == ("IST0130", "spec.tcp[1]")
    assert message.text == (
        "VirtualService rule #1 not used (only the last rule can have no matches)."
    )


def test_duplicate_tls_matches(mesh: MeshSpec) -> None:
    rule = (
        "  - match:\n    - sniHosts: [a.example.com]\n"
        "    route:\n    - destination: {host: ratings}\n"
    )
    body = "  hosts: ['*.example.com']\n  gateways: [tls-gw]\n  tls:\n" + rule + rule
    assert codes(unreachable_only(vs("r", body), mesh=mesh)) == [
        ("IST0131", "spec.tls[1].match[0]"),
        ("IST0130", "spec.tls[1]"),
    ]


# coveredValidation (same file, :1946; called from analyzeUnreachableHTTPRules' last loop,
# :2067-2084): an earlier, shorter URI prefix with the same other conditions shadows a
# later one.
def _http_rule(match: str) -> str:
    return f"  - match:\n    - {match}\n    route:\n    - destination: {{host: reviews}}\n"


def test_overlapping_uri_prefix_is_ist0131(mesh: MeshSpec) -> None:
    body = (
        "  hosts: [reviews]\n  http:\n"
        + _http_rule("uri: {prefix: /debug}")
        + _http_rule("uri: {prefix: /debugs}")
    )
    [message] = analyze(vs("r", body), mesh=mesh)
    assert (message.type.code, message.path) == ("IST0131", "spec.http[1].match[0]")
    assert message.text == (
        "VirtualService rule #1 match #0 of prefix /debugs is not used (duplicate/overlapping "
        "match in rule #0 of prefix /debug on #0)."
    )


def test_overlap_within_one_rule_and_unset_method_counts_as_get(mesh: MeshSpec) -> None:
    body = (
        "  hosts: [reviews]\n  http:\n  - name: api\n    match:\n"
        "    - uri: {prefix: /api}\n    - {uri: {prefix: /api/v1}, method: {exact: GET}}\n"
        "    route:\n    - destination: {host: reviews}\n"
    )
    assert codes(analyze(vs("r", body), mesh=mesh)) == [("IST0131", "spec.http[0].match[1]")]


@pytest.mark.parametrize(
    "later",
    [
        "uri: {prefix: /deb}",  # the shorter prefix comes later: it is reachable
        "{uri: {prefix: /debugs}, method: {exact: POST}}",
        "{uri: {prefix: /debugs}, port: 8080}",
        "{uri: {prefix: /debugs}, headers: {x-canary: {exact: 'true'}}}",
        "{uri: {exact: /debugs}}",  # only prefix matches take part
    ],
)
def test_prefixes_that_do_not_overlap(mesh: MeshSpec, later: str) -> None:
    body = "  hosts: [reviews]\n  http:\n" + _http_rule("uri: {prefix: /debug}") + _http_rule(later)
    assert analyze(vs("r", body), mesh=mesh) == []


def test_service_entry_hosts_are_visible_where_exported(mesh: MeshSpec) -> None:
    # InitServiceEntryHostMap scopes ServiceEntry hosts by exportTo (istio/istio 1.28.10
    # pkg/config/analysis/analyzers/util/service_lookup.go:29-62): "." keeps it at home.
    entry = (
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
        "metadata: {name: ext, namespace: other}\n"
        "spec:\n  hosts: [api.example.com]\n  exportTo: ['.']\n  resolution: DNS\n"
        "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
    )
    body = "  hosts: [api.example.com]\n  http:\n  - route:\n    - destination: {host: api.example.com}\n"
    [message] = analyze(entry, vs("r", body), mesh=mesh)
    assert (message.type.code, message.resource) == ("IST0101", "bookinfo/r")
    assert analyze(entry, vs("r", body, namespace="other"), mesh=mesh) == []
    exported = entry.replace("exportTo: ['.']", "exportTo: [bookinfo]")
    assert analyze(exported, vs("r", body), mesh=mesh) == []


def test_route_entry_without_destination_is_an_unknown_empty_host(mesh: MeshSpec) -> None:
    # DestinationHostAnalyzer looks up d.Destination.GetHost(), "" for a nil destination
    # (istio/istio 1.28.10 pkg/config/analysis/analyzers/virtualservice/destinationhosts.go:129).
    body = "  hosts: [reviews]\n  http:\n  - route:\n    - {}\n    - destination: {host: reviews}\n"
    result = load_text(vs("r", body), "in.yaml")
    messages = analyze_resources(result.analyzable, mesh=mesh)
    assert [(m.type.code, m.path, m.text) for m in messages] == [
        ("IST0101", "spec.http[0].route[0]", 'Referenced host not found: ""')
    ]


def test_the_emulated_envoy_filter_shape_gets_no_ck0301() -> None:
    import yaml

    from chaoskit.analysis.analyzer import analyze_resources
    from chaoskit.experiment.cluster_mesh import replica_fault_filter
    from chaoskit.istio.loading import load_text

    body = replica_fault_filter("f", "bookinfo", "sel", {"errorRate": 0.5, "latency": "1s"})
    loaded = load_text(yaml.safe_dump(body), "<test>").resources
    assert [m.type.code for m in analyze_resources(loaded)] == []
