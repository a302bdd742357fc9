"""DestinationRule rules: ValidateDestinationRule and its traffic-policy helpers (validation.go)."""

from __future__ import annotations

import math

from chaoskit.istio.destination_rule import (
    ClientTLSSettings,
    ConnectionPoolSettings,
    CookieAttribute,
    DestinationRuleSpec,
    LoadBalancerSettings,
    OutlierDetection,
    TrafficPolicy,
)
from chaoskit.istio.validation.fields import (
    MS,
    check_duration,
    check_export_to,
    check_labels,
    check_percent,
    check_subset_name,
    check_workload_selector,
    wildcard_domain_error,
)
from chaoskit.istio.validation.findings import Finding, Findings


def validate_destination_rule(
    spec: DestinationRuleSpec, namespace: str | None = None
) -> list[Finding]:
    out = Findings()
    if (err := wildcard_domain_error(spec.host)) is not None:
        out.error("spec.host", err, "name the service the rule applies to, e.g. 'host: reviews'")
    _traffic_policy(out, "spec.trafficPolicy", spec.traffic_policy)
    seen: set[str] = set()
    for i, subset in enumerate(spec.subsets or []):
        where = f"spec.subsets[{i}]"
        if subset.name in seen:
            out.error(
                f"{where}.name",
                f"duplicate subset names: {subset.name}",
                "give each subset its own name",
            )
        seen.add(subset.name)
        check_subset_name(out, f"{where}.name", subset.name)
        check_labels(out, f"{where}.labels", subset.labels)
        _traffic_policy(out, f"{where}.trafficPolicy", subset.traffic_policy)
    check_export_to(out, namespace, spec.export_to)
    if spec.workload_selector is not None:
        labels = spec.workload_selector.match_labels
        check_labels(out, "spec.workloadSelector.matchLabels", labels)
        check_workload_selector(
            out,
            "spec.workloadSelector",
            labels,
            without_labels="workload selector specified without labels",
        )
    return out.items


def _traffic_policy(out: Findings, path: str, policy: TrafficPolicy | None) -> None:
    # validateTrafficPolicy: returns early on an empty policy, as Istio does.
    if policy is None:
        return
    if not any(
        getattr(policy, f) is not None
        for f in (
            "outlier_detection",
            "connection_pool",
            "load_balancer",
            "tls",
            "port_level_settings",
            "retry_budget",
        )
    ):
        out.error(
            path,
            "traffic policy must have at least one field",
            "add loadBalancer, connectionPool, outlierDetection or tls, or remove trafficPolicy",
        )
        return
    _outlier_detection(out, f"{path}.outlierDetection", policy.outlier_detection)
    _connection_pool(out, f"{path}.connectionPool", policy.connection_pool)
    _load_balancer(out, f"{path}.loadBalancer", policy.load_balancer)
    _client_tls(out, f"{path}.tls", policy.tls)
    for i, port_policy in enumerate(policy.port_level_settings or []):
        where = f"{path}.portLevelSettings[{i}]"
        if port_policy.port is None:
            out.error(where, "portTrafficPolicy must have valid port", "add 'port: {number: 9080}'")
        if not any(
            getattr(port_policy, f) is not None
            for f in ("outlier_detection", "connection_pool", "load_balancer", "tls")
        ):
            out.error(
                where,
                "port traffic policy must have at least one field",
                "add loadBalancer, connectionPool, outlierDetection or tls",
            )
            continue
        _outlier_detection(out, f"{where}.outlierDetection", port_policy.outlier_detection)
        _connection_pool(out, f"{where}.connectionPool", port_policy.connection_pool)
        _load_balancer(out, f"{where}.loadBalancer", port_policy.load_balancer)
        _client_tls(out, f"{where}.tls", port_policy.tls)


def _outlier_detection(out: Findings, path: str, od: OutlierDetection | None) -> None:
    # validateOutlierDetection
    if od is None:
        return
    check_duration(out, f"{path}.baseEjectionTime", od.base_ejection_time)
    if od.consecutive_errors:
        out.warn(
            f"{path}.consecutiveErrors",
            "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or "
            "consecutive5xxErrors instead",
            f"write 'consecutive5xxErrors: {od.consecutive_errors}'",
        )
    if not od.split_external_local_origin_errors and (od.consecutive_local_origin_failures or 0):
        out.error(
            f"{path}.consecutiveLocalOriginFailures",
            "outlier detection consecutive local origin failures is specified, but split external "
            "local origin errors is set to false",
            "add 'splitExternalLocalOriginErrors: true'",
        )
    check_duration(out, f"{path}.interval", od.interval)
    check_percent(out, f"{path}.maxEjectionPercent", od.max_ejection_percent)
    check_percent(out, f"{path}.minHealthPercent", od.min_health_percent)


def _non_negative(out: Findings, path: str, value: int | None, what: str) -> None:
    if value is not None and value < 0:
        out.error(path, f"{what} must be non-negative", f"use 0 or more (got {value})")


def _connection_pool(out: Findings, path: str, pool: ConnectionPoolSettings | None) -> None:
    # validateConnectionPool: returns early when neither tcp nor http is given.
    if pool is None:
        return
    if pool.tcp is None and pool.http is None:
        out.error(
            path,
            "connection pool must have at least one field",
            "add 'tcp' or 'http' settings, or remove connectionPool",
        )
        return
    http = pool.http
    if http is not None:
        for field, value, what in (
            (
                "http1MaxPendingRequests",
                http.http1_max_pending_requests,
                "http1 max pending requests",
            ),
            ("http2MaxRequests", http.http2_max_requests, "http2 max requests"),
            (
                "maxRequestsPerConnection",
                http.max_requests_per_connection,
                "max requests per connection",
            ),
            ("maxRetries", http.max_retries, "max retries"),
        ):
            _non_negative(out, f"{path}.http.{field}", value, what)
        check_duration(out, f"{path}.http.idleTimeout", http.idle_timeout)
        if http.h2_upgrade_policy == "UPGRADE" and http.use_client_protocol:
            out.error(
                f"{path}.http.useClientProtocol",
                "use client protocol must not be true when H2UpgradePolicy is UPGRADE",
                "drop useClientProtocol or h2UpgradePolicy",
            )
        _non_negative(
            out,
            f"{path}.http.maxConcurrentStreams",
            http.max_concurrent_streams,
            "max concurrent streams",
        )
    tcp = pool.tcp
    if tcp is not None:
        _non_negative(out, f"{path}.tcp.maxConnections", tcp.max_connections, "max connections")
        check_duration(out, f"{path}.tcp.connectTimeout", tcp.connect_timeout)
        check_duration(out, f"{path}.tcp.maxConnectionDuration", tcp.max_connection_duration)
        if tcp.idle_timeout is not None and tcp.idle_timeout.nanos // MS != 0:
            check_duration(out, f"{path}.tcp.idleTimeout", tcp.idle_timeout)  # "0s" disables it
        if tcp.tcp_keepalive is not None:
            check_duration(out, f"{path}.tcp.tcpKeepalive.time", tcp.tcp_keepalive.time)
            check_duration(out, f"{path}.tcp.tcpKeepalive.interval", tcp.tcp_keepalive.interval)


def _is_prime(x: int) -> bool:
    # Envoy's Primes::isPrime, which Istio copies.
    if x != 0 and x < 4:
        return True
    if x % 2 == 0:
        return False
    return all(x % f for f in range(3, math.isqrt(x) + 1, 2))


def _cookie_attributes(out: Findings, path: str, attributes: list[CookieAttribute]) -> None:
    # validateLoadBalancer (validation.go, 1.28.10): names present and unique.
    seen: set[str] = set()
    for i, attribute in enumerate(attributes):
        where = f"{path}.attributes[{i}].name"
        if not attribute.name:
            out.error(where, "cookie attribute name cannot be empty", "name the attribute")
        elif attribute.name in seen:
            out.error(
                where,
                f"duplicate cookie attribute name: {attribute.name}",
                "give each attribute once",
            )
        else:
            seen.add(attribute.name)


def _load_balancer(out: Findings, path: str, lb: LoadBalancerSettings | None) -> None:
    # validateLoadBalancer. A consistentHash without a key is accepted by Istio.
    if lb is None:
        return
    ch = lb.consistent_hash
    if ch is not None:
        where = f"{path}.consistentHash"
        if ch.http_cookie is not None and not ch.http_cookie.name:
            out.error(f"{where}.httpCookie.name", "name required for HttpCookie", "name the cookie")
        if ch.http_cookie is not None:
            _cookie_attributes(out, f"{where}.httpCookie", ch.http_cookie.attributes or [])
        if ch.minimum_ring_size:
            out.warn(
                f"{where}.minimumRingSize",
                "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash "
                "configuration instead",
                f"write 'ringHash: {{minimumRingSize: {ch.minimum_ring_size}}}'",
            )
            if ch.ring_hash is not None or ch.maglev is not None:
                out.error(
                    f"{where}.minimumRingSize",
                    "only one of MinimumRingSize or Maglev/Ringhash can be specified",
                    "remove minimumRingSize",
                )
        if ch.maglev is not None:
            size = ch.maglev.table_size or 0
            if size == 0:
                out.error(
                    f"{where}.maglev.tableSize",
                    "tableSize must be set for maglev",
                    "use a prime such as 65537",
                )
            if size >= 5000011:
                out.error(
                    f"{where}.maglev.tableSize",
                    "tableSize must be less than 5000011 for maglev",
                    "use e.g. 65537",
                )
            if not _is_prime(size):
                out.error(
                    f"{where}.maglev.tableSize",
                    "tableSize must be a prime number for maglev",
                    "use a prime, e.g. 65537",
                )
    warmup = lb.warmup
    if warmup is not None:
        if warmup.duration is None:
            out.error(f"{path}.warmup", "duration is required", "add 'duration: 60s'")
        else:
            check_duration(out, f"{path}.warmup.duration", warmup.duration)
        if (warmup.minimum_percent or 0) > 100:
            out.error(
                f"{path}.warmup.minimumPercent",
                "minimumPercent value should be less than or equal to 100",
                "use 0 to 100",
            )
        if warmup.aggression is not None and warmup.aggression <= 0:
            out.error(
                f"{path}.warmup.aggression", "aggression should be greater than 0", "use e.g. 1.0"
            )


def _client_tls(out: Findings, path: str, tls: ClientTLSSettings | None) -> None:
    # agent.ValidateTLS (the client side, in DestinationRules)
    if tls is None:
        return
    if tls.insecure_skip_verify:
        if tls.mode == "SIMPLE" and (
            tls.ca_certificates or tls.credential_name or tls.subject_alt_names is not None
        ):
            out.error(
                path,
                "cannot specify CaCertificates or CredentialName or SubjectAltNames when "
                "InsecureSkipVerify is set true",
                "drop insecureSkipVerify, or the verification settings",
            )
        if tls.mode == "MUTUAL" and (tls.ca_certificates or tls.subject_alt_names is not None):
            out.error(
                path,
                "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set "
                "true",
                "drop insecureSkipVerify, or the verification settings",
            )
    if tls.mode in ("SIMPLE", "MUTUAL") and tls.credential_name:
        if tls.client_certificate or tls.ca_certificates or tls.private_key or tls.ca_crl:
            out.error(
                path,
                "cannot specify client certificates or CA certificate or CA CRL If credentialName "
                "is set",
                "the Secret named by credentialName holds them; remove the file paths",
            )
        return
    if tls.mode == "MUTUAL":
        if not tls.client_certificate:
            out.error(
                path,
                "client certificate required for mutual tls",
                "add clientCertificate, or use credentialName",
            )
        if not tls.private_key:
            out.error(
                path, "private key required for mutual tls", "add privateKey, or use credentialName"
            )
