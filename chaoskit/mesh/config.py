"""Proxy configuration as the control plane pushes it: Envoy's nouns, as frozen dataclasses.

One ``ProxySnapshot`` per proxy (sidecar or gateway) is the whole state of that proxy,
pushed "state of the world" like Envoy's xDS. Durations are float seconds (``*_s``), and
fractions are per million, as Envoy's ``FractionalPercent`` with denominator MILLION is
what Istio generates for fault and mirror percentages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chaoskit.mesh.releases import DEFAULT_ISTIO

MatchKind = Literal["exact", "prefix", "regex", "present"]
ProxyKind = Literal["sidecar", "gateway", "ambient", "waypoint", "ztunnel"]
LbKind = Literal["ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "PASSTHROUGH", "RING_HASH", "MAGLEV"]
MILLION = 1_000_000
UNLIMITED = 2**32 - 1  # Istio's circuit-breaker default for every threshold


@dataclass(frozen=True, slots=True)
class StringMatcher:
    kind: MatchKind
    value: str = ""
    ignore_case: bool = False


@dataclass(frozen=True, slots=True)
class HeaderMatcher:
    name: str
    matcher: StringMatcher
    invert: bool = False  # Istio withoutHeaders


@dataclass(frozen=True, slots=True)
class QueryMatcher:
    name: str
    matcher: StringMatcher


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """Every condition must hold (AND). A route's matches are ORed by repeating the route."""

    path: StringMatcher | None = None
    method: StringMatcher | None = None
    scheme: StringMatcher | None = None
    authority: StringMatcher | None = None
    headers: tuple[HeaderMatcher, ...] = ()
    query_params: tuple[QueryMatcher, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class HeaderMutation:
    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WeightedCluster:
    cluster: str
    weight: int = 100
    request_headers: HeaderMutation | None = None
    response_headers: HeaderMutation | None = None


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Envoy's HTTP fault filter config for one route: delay, then abort, independent draws."""

    delay_s: float | None = None
    delay_per_million: int = 0
    abort_status: int | None = None
    abort_grpc_status: str | None = None
    abort_per_million: int = 0


@dataclass(frozen=True, slots=True)
class HttpFilter:
    """An HTTP filter an EnvoyFilter inserted before the router of the inbound listener.

    The fault filter is the one chaoskit runs (``fault``); ``ports`` are the inbound ports
    whose filter chain got it (empty: every port), ``source`` the EnvoyFilter's
    ``namespace/name`` and patch index, for config dumps.
    """

    name: str
    fault: FaultSpec
    ports: tuple[int, ...] = ()
    source: str = ""

    def applies_to(self, port: int) -> bool:
        return not self.ports or port in self.ports


@dataclass(frozen=True, slots=True)
class RetrySpec:
    num_retries: int
    retry_on: tuple[str, ...]
    retriable_status_codes: tuple[int, ...] = ()
    per_try_timeout_s: float | None = None
    backoff_base_s: float = 0.025
    retry_previous_hosts: bool = True
    host_selection_max_attempts: int = 5
    retry_remote_localities: bool = False
    backoff_max_s: float | None = None  # None: Envoy's 10 x backoff_base_s
    # Envoy's retriable_headers (presence match); Istio sets none, so `retriable-headers` is inert.
    retriable_header_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MirrorSpec:
    cluster: str
    per_million: int = MILLION
    shadow_host_suffix: bool = False  # Istio <= 1.27 appends "-shadow" to the authority


@dataclass(frozen=True, slots=True)
class Redirect:
    uri: str | None = None
    authority: str | None = None
    port: int | None = None
    scheme: str | None = None
    code: int = 301


@dataclass(frozen=True, slots=True)
class DirectResponse:
    status: int
    body: str = ""


@dataclass(frozen=True, slots=True)
class Rewrite:
    prefix: str | None = None  # replaces the matched prefix (or the whole path for exact)
    regex: str | None = None
    substitution: str | None = None
    authority: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    match: RouteMatch
    clusters: tuple[WeightedCluster, ...] = ()
    redirect: Redirect | None = None
    direct_response: DirectResponse | None = None
    rewrite: Rewrite | None = None
    timeout_s: float | None = None  # None: disabled (Istio sets 0s, overriding Envoy's 15 s)
    retry: RetrySpec | None = None
    fault: FaultSpec | None = None
    mirrors: tuple[MirrorSpec, ...] = ()
    request_headers: HeaderMutation | None = None
    response_headers: HeaderMutation | None = None
    virtual_service: str = ""  # "name.namespace", empty for the default route
    # Envoy's cluster_not_found_response_code: 503 unless Istio sets 500, which it does on
    # routes derived from Gateway API (route.go applyHTTPRouteDestination, tag 1.30.3).
    cluster_not_found_status: int = 503


@dataclass(frozen=True, slots=True)
class VirtualHost:
    name: str
    domains: tuple[str, ...]
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class RouteConfig:
    name: str
    virtual_hosts: tuple[VirtualHost, ...]


@dataclass(frozen=True, slots=True)
class ServerTls:
    """A gateway listener's TLS (``SIMPLE``): PEM text taken from the referenced Secret."""

    cert_pem: str
    key_pem: str
    sni_hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Listener:
    name: str  # Envoy's naming: 0.0.0.0_9080 (outbound), 0.0.0.0_8080 (gateway)
    port: int
    route_config: RouteConfig
    tls: ServerTls | None = None
    https_redirect: bool = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    address: str
    port: int
    pod: str
    labels: tuple[tuple[str, str], ...] = ()
    healthy: bool = True  # EDS health; outlier ejection is separate (and per client proxy)


@dataclass(frozen=True, slots=True)
class HashPolicy:
    """Consistent-hash key source (Istio's consistentHash.*)."""

    header: str | None = None
    cookie: str | None = None
    cookie_path: str | None = None
    cookie_ttl_s: float | None = None
    source_ip: bool = False
    query_parameter: str | None = None


@dataclass(frozen=True, slots=True)
class LbSpec:
    kind: LbKind = "LEAST_REQUEST"  # Istio's default when no DestinationRule sets one
    hash_policy: HashPolicy | None = None
    ring_size: int = 1024
    maglev_table_size: int = 65537


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_connections: int = UNLIMITED
    max_pending_requests: int = UNLIMITED
    max_requests: int = UNLIMITED
    max_retries: int = UNLIMITED
    max_requests_per_connection: int = 0  # 0 = unlimited
    # h2UpgradePolicy UPGRADE: Envoy speaks HTTP/2 upstream and multiplexes the requests.
    http2: bool = False
    # Istio's trafficPolicy.retryBudget; when set, Envoy ignores max_retries for the retry limit.
    retry_budget_percent: float | None = None
    retry_budget_min_concurrency: int = 3
    # Envoy's thresholds.track_remaining (proto default false): the remaining_* gauges exist
    # only when set. Istio set it on every cluster until 1.28; from 1.29
    # DISABLE_TRACK_REMAINING_CB_METRICS (default true) leaves it unset (compat.py).
    track_remaining: bool = False


@dataclass(frozen=True, slots=True)
class OutlierSpec:
    consecutive_5xx: int = 5
    consecutive_gateway_errors: int = 0
    interval_s: float = 10.0
    base_ejection_time_s: float = 30.0
    max_ejection_percent: int = 10
    min_health_percent: int = 0
    # Envoy's enforcing_* percentages: Istio sets 100 for a threshold it sets (> 0). Istio leaving
    # consecutiveGatewayErrors unset is Envoy's default: threshold 5 with enforcing 0.
    enforcing_consecutive_5xx: int = 100
    enforcing_consecutive_gateway_failure: int = 100
    split_external_local_origin_errors: bool = False
    consecutive_local_origin_failure: int = 5  # only counted with the split
    enforcing_consecutive_local_origin_failure: int = 100
    max_ejection_time_s: float | None = None  # None: Envoy's max(300 s, base_ejection_time_s)


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str  # outbound|9080|v1|reviews.bookinfo.svc.cluster.local
    service: str
    port: int
    subset: str = ""
    direction: Literal["outbound", "inbound"] = "outbound"
    endpoints: tuple[Endpoint, ...] = ()
    lb: LbSpec = field(default_factory=LbSpec)
    thresholds: Thresholds = field(default_factory=Thresholds)
    outlier: OutlierSpec | None = None
    connect_timeout_s: float = 10.0
    destination_rule: str = ""  # "name.namespace" for proxy-config output


@dataclass(frozen=True, slots=True)
class Compat:
    """Behaviour that changed between Istio/Envoy versions; set per mesh from istioVersion."""

    istio_version: str = DEFAULT_ISTIO
    default_retry_on_503: bool = False  # Istio <= 1.23 retried 503 by default
    mirror_shadow_suffix: bool = False  # Istio <= 1.27 appended -shadow to mirrored hosts
    always_eject_one_host: bool = False  # Envoy < 1.28 could always eject one host
    retry_backoff_and_previous_hosts: bool = True  # Istio <= 1.25 ignored both retry fields
    retry_budget: bool = True  # Istio <= 1.26 had no trafficPolicy.retryBudget
    retry_budget_default_percent: float = 20.0  # 0.2 before the fix (1.28.6, 1.29.2, 1.30)
    # Before 1.29.2/1.30, a subset with its own trafficPolicy had no retry budget at all.
    retry_budget_kept_with_subset_policy: bool = True
    track_remaining_cb_metrics: bool = False  # Istio <= 1.28 set track_remaining


@dataclass(frozen=True, slots=True)
class ProxySnapshot:
    proxy: str  # pod name.namespace, as istioctl names proxies
    kind: ProxyKind
    version: int
    listeners: tuple[Listener, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    compat: Compat = field(default_factory=Compat)
    # EnvoyFilter HTTP filters on the inbound side, in chain order (before the router).
    inbound_filters: tuple[HttpFilter, ...] = ()
