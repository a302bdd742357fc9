"""Istio's webhook rules (istio/istio pkg/config/validation), with Istio's own wording.

Each case is a resource with one broken field and the finding Istio gives for it: an Error
(IST0106 in analysis) or a Warning (IST0133). Things Istio accepts must give nothing.
"""

from __future__ import annotations

import pytest

from chaoskit.istio.loading import load_text
from chaoskit.istio.validation import validate_resource, wildcard_domain_error
from chaoskit.istio.validation.findings import go_float


def vs(spec: str, name: str = "r", namespace: str = "bookinfo") -> str:
    return (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{spec}"
    )


def dr(spec: str) -> str:
    return (
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        f"metadata: {{name: r, namespace: bookinfo}}\nspec:\n  host: reviews\n{spec}"
    )


def gw(servers: str, name: str = "gw") -> str:
    return (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
        f"metadata: {{name: {name}, namespace: bookinfo}}\nspec:\n"
        f"  selector: {{istio: ingressgateway}}\n  servers:\n{servers}"
    )


def se(extra: str, resolution: str = "STATIC") -> str:
    return (
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
        "metadata: {name: r, namespace: bookinfo}\nspec:\n  hosts: [api.example.com]\n"
        f"  ports: [{{number: 443, name: https, protocol: TLS}}]\n  resolution: {resolution}\n"
        f"{extra}"
    )


def route(extra: str = "", dest: str = "{host: reviews}") -> str:
    return f"  hosts: [reviews]\n  http:\n  - route:\n    - destination: {dest}\n{extra}"


def findings(text: str) -> list[tuple[str, str, str]]:
    """(level, path, message) of every finding, from loading (pydantic shape errors too)."""
    result = load_text(text, "t.yaml")
    return [
        (
            p.level,
            p.path,
            p.message.removeprefix("Schema validation error: ").removeprefix(
                "Schema validation warning: "
            ),
        )
        for p in result.problems
    ]


ERROR, WARNING = "Error", "Warning"

CASES = {
    # --- durations (agent.ValidateDuration) ---
    "timeout below 1ms": (
        vs(route("    timeout: 999us\n")),
        [(ERROR, "spec.http[0].timeout", "duration must be greater than 1ms")],
    ),
    "timeout negative": (
        vs(route("    timeout: -5s\n")),
        [(ERROR, "spec.http[0].timeout", "duration must be greater than 1ms")],
    ),
    "timeout not whole ms": (
        vs(route("    timeout: 1.0005s\n")),
        [(ERROR, "spec.http[0].timeout", "only durations to ms precision are supported")],
    ),
    "backoff checked too": (
        vs(route("    retries: {attempts: 2, backoff: 0s}\n")),
        [(ERROR, "spec.http[0].retries.backoff", "duration must be greater than 1ms")],
    ),
    # --- percentages ---
    "fault percentage tiny": (
        vs(route("    fault: {abort: {httpStatus: 503, percentage: {value: 0.00001}}}\n")),
        [
            (
                ERROR,
                "spec.http[0].fault.abort.percentage.value",
                "percentage 1e-05 is neither 0.0, nor in range [0.0001, 100.0]",
            )
        ],
    ),
    "mirrors percentage negative": (
        vs(route("    mirrors:\n    - {destination: {host: ratings}, percentage: {value: -1}}\n")),
        [
            (
                ERROR,
                "spec.http[0].mirrors[0].percentage.value",
                "mirror percentage must have a min value of 0 (it has -1.000000)",
            )
        ],
    ),
    "mirrorPercent over 100 and deprecated": (
        vs(route("    mirror: {host: ratings}\n    mirrorPercent: 101\n")),
        [
            (
                ERROR,
                "spec.http[0].mirrorPercent",
                "mirror_percent must have a max value of 100 (it has 101)",
            ),
            (
                WARNING,
                "spec.http[0].mirrorPercent",
                'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead',
            ),
        ],
    ),
    # --- fault injection ---
    "abort 600 is accepted by Istio": (
        vs(route("    fault: {abort: {httpStatus: 600}}\n")),
        [],
    ),
    "abort 199": (
        vs(route("    fault: {abort: {httpStatus: 199}}\n")),
        [(ERROR, "spec.http[0].fault.abort.httpStatus", "HTTP status 199 is not in range 200-599")],
    ),
    "abort http2Error": (
        vs(route("    fault: {abort: {http2Error: REFUSED_STREAM}}\n")),
        [
            (
                ERROR,
                "spec.http[0].fault.abort.http2Error",
                "HTTP/2 abort fault injection not supported yet",
            )
        ],
    ),
    "empty fault": (
        vs(route("    fault: {}\n")),
        [(ERROR, "spec.http[0].fault", "HTTP fault injection must have an abort and/or a delay")],
    ),
    "delay without fixedDelay is accepted": (
        vs(route("    fault: {delay: {percentage: {value: 10}}}\n")),
        [],
    ),
    # --- retries (agent.ValidateHTTPRetry) ---
    "retryOn trailing comma": (
        vs(route("    retries: {attempts: 2, retryOn: '5xx,'}\n")),
        [(ERROR, "spec.http[0].retries.retryOn", '"" is not a valid retryOn policy')],
    ),
    "retryOn status 418 is a Go status": (
        vs(route("    retries: {attempts: 2, retryOn: '418,reset-before-request'}\n")),
        [],
    ),
    "attempts 0 with retryRemoteLocalities": (
        vs(route("    retries: {attempts: 0, retryRemoteLocalities: true}\n")),
        [
            (
                ERROR,
                "spec.http[0].retries.attempts",
                "http retry policy configured when attempts are set to 0 (disabled)",
            )
        ],
    ),
    # --- matches and headers ---
    "header match name with colon": (
        vs(
            "  hosts: [reviews]\n  http:\n  - match:\n    - headers: {'a:b': {exact: x}}\n    route:\n    - destination: {host: reviews}\n"
        ),
        [
            (
                ERROR,
                "spec.http[0].match[0].headers.a:b",
                "header name a:b is not a valid header name",
            )
        ],
    ),
    "pseudo header match is allowed": (
        vs(
            "  hosts: [reviews]\n  http:\n  - match:\n    - headers: {':method': {exact: GET}}\n    route:\n    - destination: {host: reviews}\n"
        ),
        [],
    ),
    "empty header prefix": (
        vs(
            "  hosts: [reviews]\n  http:\n  - match:\n    - headers: {x-a: {prefix: ''}}\n    route:\n    - destination: {host: reviews}\n"
        ),
        [
            (
                ERROR,
                "spec.http[0].match[0].headers.x-a.prefix",
                '"headers": prefix string match should not be empty',
            )
        ],
    ),
    "uri look-ahead is not RE2": (
        vs(
            "  hosts: [reviews]\n  http:\n  - match:\n    - uri: {regex: '/a(?=b)'}\n    route:\n    - destination: {host: reviews}\n"
        ),
        [(ERROR, "spec.http[0].match[0].uri.regex", '"uri": error parsing regexp: ')],
    ),
    "withoutHeaders regex star means present": (
        vs(
            "  hosts: [reviews]\n  http:\n  - match:\n    - withoutHeaders: {x-a: {regex: '*'}}\n    route:\n    - destination: {host: reviews}\n"
        ),
        [],
    ),
    "set Host on the response": (
        vs(route("    headers: {response: {set: {Host: x}}}\n")),
        [
            (
                ERROR,
                "spec.http[0].headers.response.set.Host",
                'invalid header "Host": cannot set Host header',
            )
        ],
    ),
    "set a pseudo header on the request": (
        vs(route("    headers: {request: {set: {':path': /x}}}\n")),
        [
            (
                ERROR,
                "spec.http[0].headers.request.set.:path",
                'invalid header ":path": header cannot have ":" prefix',
            )
        ],
    ),
    "header value with an unescaped percent": (
        vs(route("    headers: {request: {add: {x-a: '100%'}}}\n")),
        [
            (
                ERROR,
                "spec.http[0].headers.request.add.x-a",
                "header value configuration: invalid header configuration. Un-escaped %",
            )
        ],
    ),
    "authority set twice": (
        vs(
            route(
                "    rewrite: {authority: a.example.com}\n    headers: {request: {set: {':authority': b.example.com}}}\n"
            )
        ),
        [
            (
                ERROR,
                "spec.http[0].headers.request.set.:authority",
                'authority header cannot be set multiple times: have "a.example.com", attempting to set "b.example.com"',
            )
        ],
    ),
    # --- route actions ---
    "redirect and fault": (
        vs(
            "  hosts: [reviews]\n  http:\n  - redirect: {uri: /x}\n    fault: {abort: {httpStatus: 500}}\n"
        ),
        [(ERROR, "spec.http[0]", "HTTP route cannot contain both fault and redirect")],
    ),
    "redirect with nothing": (
        vs("  hosts: [reviews]\n  http:\n  - redirect: {redirectCode: 301}\n"),
        [(ERROR, "spec.http[0].redirect", "redirect must specify URI, authority, scheme, or port")],
    ),
    "redirect code 399 is 3xx": (
        vs("  hosts: [reviews]\n  http:\n  - redirect: {uri: /x, redirectCode: 399}\n"),
        [],
    ),
    "no action": (
        vs("  hosts: [reviews]\n  http:\n  - timeout: 1s\n"),
        [(ERROR, "spec.http[0]", "HTTP route, redirect or direct_response is required")],
    ),
    "direct response status 601": (
        vs("  hosts: [reviews]\n  http:\n  - directResponse: {status: 601}\n"),
        [(ERROR, "spec.http[0].directResponse.status", "HTTP status 601 is not in range 200-599")],
    ),
    "rewrite uri and regex": (
        vs(route("    rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}\n")),
        [(ERROR, "spec.http[0].rewrite", "rewrite may only contain one of URI or UriRegexRewrite")],
    ),
    "mirror and mirrors": (
        vs(route("    mirror: {host: ratings}\n    mirrors: [{destination: {host: ratings}}]\n")),
        [(ERROR, "spec.http[0]", "HTTP route cannot contain both mirror and mirrors")],
    ),
    "root route with a route": (
        vs(
            "  hosts: [reviews]\n  http:\n  - name: root\n    delegate: {name: d}\n    route:\n    - destination: {host: reviews}\n"
        ),
        [(ERROR, "spec.http[0].route", "root HTTP route root must not specify route")],
    ),
    "delegate route with a delegate": (
        vs("  http:\n  - delegate: {name: d}\n"),
        [(ERROR, "spec.http[0].delegate", "delegate HTTP route cannot contain delegate")],
    ),
    # --- hosts and destinations ---
    "destination host star": (
        vs(route(dest="{host: '*'}")),
        [(ERROR, "spec.http[0].route[0].destination.host", "invalid destination host *")],
    ),
    "destination host with underscore": (
        vs(route(dest="{host: my_service}")),
        [
            (
                ERROR,
                "spec.http[0].route[0].destination.host",
                'domain name "my_service" invalid (label "my_service" invalid)',
            )
        ],
    ),
    "upper case subset is a DNS label for Istio": (
        vs(route(dest="{host: reviews, subset: V1}")),
        [],
    ),
    "destination port 0": (
        vs(route(dest="{host: reviews, port: {number: 0}}")),
        [
            (
                ERROR,
                "spec.http[0].route[0].destination.port.number",
                "port number 0 must be in the range 1..65535",
            )
        ],
    ),
    "duplicate hosts": (
        vs(
            "  hosts: [a.example.com, '*.example.com']\n  gateways: [gw]\n  http:\n  - route:\n    - destination: {host: reviews}\n"
        ),
        [
            (
                ERROR,
                "spec.hosts[0]",
                "duplicate hosts in virtual service: a.example.com & *.example.com",
            )
        ],
    ),
    "all-numeric top-level domain": (
        vs("  hosts: [reviews.123]\n  http:\n  - route:\n    - destination: {host: reviews}\n"),
        [
            (
                ERROR,
                "spec.hosts[0]",
                'domain name "123" invalid (top level domain "123" cannot be all-numeric)',
            )
        ],
    ),
    "an IP host is accepted": (
        vs("  hosts: [10.0.0.1]\n  http:\n  - route:\n    - destination: {host: reviews}\n"),
        [],
    ),
    "legacy gateway name": (
        vs(
            "  hosts: [reviews]\n  gateways: [gw.bookinfo]\n  http:\n  - route:\n    - destination: {host: reviews}\n"
        ),
        [
            (
                WARNING,
                "spec.gateways[0]",
                'using legacy gatewayName format "gw.bookinfo"; prefer the <namespace>/<name> format: "bookinfo/gw"',
            )
        ],
    ),
    "bad gateway namespace": (
        vs(
            "  hosts: [reviews]\n  gateways: [Bad_NS/gw]\n  http:\n  - route:\n    - destination: {host: reviews}\n"
        ),
        [(ERROR, "spec.gateways[0]", 'invalid value for namespace: "Bad_NS"')],
    ),
    "exportTo twice": (
        vs(route() + "  exportTo: [bookinfo, '.']\n"),
        [
            (
                ERROR,
                "spec.exportTo[1]",
                "duplicate entries in exportTo: . and current namespace bookinfo",
            )
        ],
    ),
    "exportTo star with others": (
        vs(route() + "  exportTo: ['*', default]\n"),
        [
            (
                ERROR,
                "spec.exportTo",
                "cannot have both public (*) and non-public exportTo values for a resource",
            )
        ],
    ),
    "tcp route without route": (
        vs("  hosts: [reviews]\n  tcp:\n  - match: [{port: 9080}]\n"),
        [(ERROR, "spec.tcp[0].route", "TCP route is required")],
    ),
    "tls route sni outside the hosts": (
        vs(
            "  hosts: ['*.example.com']\n  tls:\n  - match: [{sniHosts: [a.example.org]}]\n    route:\n    - destination: {host: reviews}\n"
        ),
        [
            (
                ERROR,
                "spec.tls[0].match[0].sniHosts[0]",
                'SNI host "a.example.org" is not a compatible subset of any of the virtual service hosts: [*.example.com]',
            )
        ],
    ),
    "no routes at all": (
        vs("  hosts: [reviews]\n"),
        [(ERROR, "spec", "http, tcp or tls must be provided in virtual service")],
    ),
    # --- DestinationRule ---
    "empty traffic policy": (
        dr("  trafficPolicy: {}\n"),
        [(ERROR, "spec.trafficPolicy", "traffic policy must have at least one field")],
    ),
    "empty connection pool": (
        dr("  trafficPolicy: {connectionPool: {}}\n"),
        [
            (
                ERROR,
                "spec.trafficPolicy.connectionPool",
                "connection pool must have at least one field",
            )
        ],
    ),
    "minHealthPercent negative": (
        dr("  trafficPolicy: {outlierDetection: {minHealthPercent: -1}}\n"),
        [
            (
                ERROR,
                "spec.trafficPolicy.outlierDetection.minHealthPercent",
                "percentage -1 is not in range 0..100",
            )
        ],
    ),
    "port level settings without port": (
        dr("  trafficPolicy:\n    portLevelSettings:\n    - loadBalancer: {simple: RANDOM}\n"),
        [
            (
                ERROR,
                "spec.trafficPolicy.portLevelSettings[0]",
                "portTrafficPolicy must have valid port",
            )
        ],
    ),
    "duplicate ports in port level settings are accepted": (
        dr(
            "  trafficPolicy:\n    portLevelSettings:\n    - {port: {number: 80}, loadBalancer: {simple: RANDOM}}\n    - {port: {number: 80}, loadBalancer: {simple: RANDOM}}\n"
        ),
        [],
    ),
    "consistent hash without a key is accepted": (
        dr("  trafficPolicy: {loadBalancer: {consistentHash: {}}}\n"),
        [],
    ),
    "cookie without a name": (
        dr("  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {ttl: 0s}}}}\n"),
        [
            (
                ERROR,
                "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name",
                "name required for HttpCookie",
            )
        ],
    ),
    "minimumRingSize is deprecated": (
        dr(
            "  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x, minimumRingSize: 1024}}}\n"
        ),
        [
            (
                WARNING,
                "spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize",
                "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
            )
        ],
    ),
    "maglev without a table size": (
        dr("  trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {}}}}\n"),
        [
            (
                ERROR,
                "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize",
                "tableSize must be set for maglev",
            ),
            (
                ERROR,
                "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize",
                "tableSize must be a prime number for maglev",
            ),
        ],
    ),
    "warmup without duration": (
        dr("  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmup: {aggression: 0}}}\n"),
        [
            (ERROR, "spec.trafficPolicy.loadBalancer.warmup", "duration is required"),
            (
                ERROR,
                "spec.trafficPolicy.loadBalancer.warmup.aggression",
                "aggression should be greater than 0",
            ),
        ],
    ),
    "client MUTUAL without files": (
        dr("  trafficPolicy: {tls: {mode: MUTUAL, caCertificates: /ca.pem}}\n"),
        [
            (ERROR, "spec.trafficPolicy.tls", "client certificate required for mutual tls"),
            (ERROR, "spec.trafficPolicy.tls", "private key required for mutual tls"),
        ],
    ),
    "client credentialName with files": (
        dr("  trafficPolicy: {tls: {mode: SIMPLE, credentialName: c, caCertificates: /ca.pem}}\n"),
        [
            (
                ERROR,
                "spec.trafficPolicy.tls",
                "cannot specify client certificates or CA certificate or CA CRL If credentialName is set",
            )
        ],
    ),
    "subset label key invalid": (
        dr("  subsets:\n  - name: v1\n    labels: {'-version': v1}\n"),
        [(ERROR, "spec.subsets[0].labels.-version", 'invalid tag key: "-version"')],
    ),
    "empty host": (
        dr("").replace("  host: reviews\n", "  host: ''\n"),
        [(ERROR, "spec.host", "empty domain name not allowed")],
    ),
    # --- Gateway ---
    "ISTIO_MUTUAL with a credential": (
        gw(
            "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: ISTIO_MUTUAL, credentialName: c}\n"
        ),
        [(ERROR, "spec.servers[0].tls", "ISTIO_MUTUAL TLS cannot have associated credentialName")],
    ),
    "MUTUAL with files needs a CA": (
        gw(
            "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k}\n"
        ),
        [(ERROR, "spec.servers[0].tls", "MUTUAL TLS requires a client CA bundle")],
    ),
    "MUTUAL with a credential is complete": (
        gw(
            "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: MUTUAL, credentialName: c}\n"
        ),
        [],
    ),
    "mode unset is PASSTHROUGH and ignores certificates": (
        gw(
            "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {credentialName: c}\n"
        ),
        [
            (
                WARNING,
                "spec.servers[0].tls",
                "PASSTHROUGH mode does not use certificates, they will be ignored",
            )
        ],
    ),
    "two certificate sources": (
        gw(
            "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: c, serverCertificate: /c, privateKey: /k}\n"
        ),
        [
            (
                ERROR,
                "spec.servers[0].tls",
                "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified",
            )
        ],
    ),
    "TLS on a TCP port": (
        gw(
            "  - port: {number: 31400, name: tcp, protocol: TCP}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: c}\n"
        ),
        [(ERROR, "spec.servers[0].tls", "server cannot have TLS settings for non HTTPS/TLS ports")],
    ),
    "httpsRedirect on an HTTPS server": (
        gw(
            "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: c, httpsRedirect: true}\n"
        ),
        [
            (
                WARNING,
                "spec.servers[0].tls.httpsRedirect",
                "tls.httpsRedirect should only be used with http servers",
            )
        ],
    ),
    "targetPort on a gateway": (
        gw(
            "  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n    hosts: ['*']\n"
        ),
        [(ERROR, "spec.servers[0].port.targetPort", "targetPort has no impact on Gateways")],
    ),
    "duplicate port names": (
        gw(
            "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n  - port: {number: 81, name: http, protocol: HTTP}\n    hosts: ['*']\n"
        ),
        [
            (
                ERROR,
                "spec.servers[1].port.name",
                "port names in servers must be unique: duplicate name http",
            )
        ],
    ),
    "partial wildcard host": (
        gw("  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['foo*.example.com']\n"),
        [
            (
                ERROR,
                "spec.servers[0].hosts[0]",
                'domain name "foo*.example.com" invalid (label "foo*" invalid)',
            ),
            (ERROR, "spec.servers[0].hosts[0]", 'partial wildcard "foo*.example.com" not allowed'),
        ],
    ),
    "namespaced gateway host": (
        gw(
            "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['bookinfo/*.example.com', './a.example.com', '*/*']\n"
        ),
        [],
    ),
    "no servers": (
        gw("").replace("  servers:\n", "  servers: []\n"),
        [(ERROR, "spec.servers", "gateway must have at least one server")],
    ),
    "protocol names are case-insensitive": (
        gw("  - port: {number: 80, name: http, protocol: http}\n    hosts: ['*']\n"),
        [],
    ),
    # --- workload selectors. A ServiceEntry's is networking.v1alpha3.WorkloadSelector
    # (`labels`, istio/api networking/v1alpha3/sidecar.proto:587), a DestinationRule's is
    # istio.type.v1beta1.WorkloadSelector (`matchLabels`). istio/istio 1.28.10
    # pkg/config/validation/validation.go: ValidateAlphaWorkloadSelector (:752) and its use
    # in ValidateServiceEntry (:2899-2912, the NONE warning :2979); validateWorkloadSelector
    # (:1359, the warning :1373). ---
    "service entry selects workloads by labels": (
        se("  workloadSelector: {labels: {app: vm-api}}\n"),
        [],
    ),
    "service entry selector without labels": (
        se("  workloadSelector: {}\n"),
        [
            (
                WARNING,
                "spec.workloadSelector",
                "service entry: workload selector specified without labels, will be applied to "
                "all services in namespace",
            )
        ],
    ),
    "service entry selector with a wildcard stops validation": (
        se("  workloadSelector: {labels: {app: 'vm-*'}}\n", resolution="NONE"),
        [(ERROR, "spec.workloadSelector", 'wildcard is not supported in selector: "app=vm-*"')],
    ),
    "service entry selector with resolution NONE": (
        se("  workloadSelector: {labels: {app: vm-api}}\n", resolution="NONE"),
        [
            (
                WARNING,
                "spec.workloadSelector",
                "workloadSelector should not be set when resolution mode is NONE",
            )
        ],
    ),
    "destination rule selector without labels": (
        dr("  workloadSelector: {}\n"),
        [(WARNING, "spec.workloadSelector", "workload selector specified without labels")],
    ),
    "destination rule selector with empty matchLabels": (
        dr("  workloadSelector: {matchLabels: {}}\n"),
        [(WARNING, "spec.workloadSelector", "workload selector specified without labels")],
    ),
    "destination rule selector with labels": (
        dr("  workloadSelector: {matchLabels: {app: productpage}}\n"),
        [],
    ),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_istio_rule(text: str, expected: list[tuple[str, str, str]]) -> None:
    got = findings(text)
    assert len(got) == len(expected), got
    for (level, path, message), (got_level, got_path, got_message) in zip(
        expected, got, strict=True
    ):
        assert (got_level, got_path) == (level, path), got
        assert got_message.startswith(message), got


def test_every_finding_has_a_fix() -> None:
    for text, expected in CASES.values():
        result = load_text(text, "t.yaml")
        assert all(p.fix for p in result.problems), [p.describe() for p in result.problems]
        if expected and all(level == WARNING for level, _, _ in expected):
            assert len(result.resources) == 1  # warnings do not stop the resource


def test_warnings_are_ist0133_and_errors_ist0106() -> None:
    text = CASES["mirrorPercent over 100 and deprecated"][0]
    assert [(p.code, p.level) for p in load_text(text).problems] == [
        ("IST0106", "Error"),
        ("IST0133", "Warning"),
    ]


def test_validate_resource_is_usable_on_models() -> None:
    [loaded] = load_text(vs(route())).resources
    assert validate_resource(loaded.resource) == []


@pytest.mark.parametrize(
    ("value", "text"),
    [(150.0, "150"), (-5.0, "-5"), (0.5, "0.5"), (1e-05, "1e-05"), (1234567.0, "1.234567e+06")],
)
def test_floats_print_as_go_prints_them(value: float, text: str) -> None:
    assert go_float(value) == text


@pytest.mark.parametrize(
    ("domain", "error"),
    [
        ("reviews", None),
        ("*.example.com", None),
        ("*", None),
        ("*-foo.example.com", None),
        ("istio.io.", None),
        ("Reviews.Bookinfo", None),  # Istio's DNS-1123 regex allows upper case
        ("", "empty domain name not allowed"),
        # Like Istio, the text names what follows the first label.
        ("a.*.com", 'domain name "*.com" invalid (label "*" invalid)'),
        ("a" * 64, f'domain name "{"a" * 64}" invalid (label "{"a" * 64}" invalid)'),
    ],
)
def test_wildcard_domains(domain: str, error: str | None) -> None:
    assert wildcard_domain_error(domain) == error
