"""DestinationRule (networking.istio.io): policies applied after routing, per host and subset."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from chaoskit.istio._base import IstioModel
from chaoskit.istio.common import PortSelector, WorkloadSelector
from chaoskit.istio.duration import Duration

SimpleLB = Literal[
    "UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"
]


class CookieAttribute(IstioModel):
    name: str = ""
    value: str = ""


class HTTPCookie(IstioModel):
    name: str = ""
    path: str | None = None
    ttl: Duration | None = None
    # Extra Set-Cookie attributes (SameSite, Secure...); the embedded data plane does not
    # write them (chaoskit emulates the hash, not the cookie's attributes).
    attributes: list[CookieAttribute] | None = None


class RingHash(IstioModel):
    minimum_ring_size: int | None = None


class MagLev(IstioModel):
    table_size: int | None = None


class ConsistentHashLB(IstioModel):
    http_header_name: str | None = None
    http_cookie: HTTPCookie | None = None
    use_source_ip: bool | None = None
    http_query_parameter_name: str | None = None
    ring_hash: RingHash | None = None
    maglev: MagLev | None = None
    minimum_ring_size: int | None = None

    @property
    def hash_keys(self) -> list[str]:
        """The hash-key fields that are set (Istio's oneof ``hash_key``)."""
        pairs = (
            ("httpHeaderName", self.http_header_name),
            ("httpCookie", self.http_cookie),
            ("useSourceIp", self.use_source_ip),
            ("httpQueryParameterName", self.http_query_parameter_name),
        )
        return [alias for alias, value in pairs if value is not None]

    @model_validator(mode="after")
    def _one_hash_key(self) -> Self:
        if len(self.hash_keys) > 1:
            raise ValueError(
                f"consistentHash takes one hash key, got {' and '.join(self.hash_keys)}; keep one"
            )
        if self.ring_hash is not None and self.maglev is not None:
            raise ValueError("consistentHash takes ringHash or maglev, not both; keep one")
        return self


class LocalityDistribute(IstioModel):
    from_: str | None = Field(default=None, alias="from")
    to: dict[str, int] | None = None


class LocalityFailover(IstioModel):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class LocalityLoadBalancerSetting(IstioModel):
    distribute: list[LocalityDistribute] | None = None
    failover: list[LocalityFailover] | None = None
    failover_priority: list[str] | None = None
    enabled: bool | None = None


class WarmupConfiguration(IstioModel):
    duration: Duration | None = None
    minimum_percent: float | None = None
    aggression: float | None = None


class LoadBalancerSettings(IstioModel):
    simple: SimpleLB | None = None
    consistent_hash: ConsistentHashLB | None = None
    locality_lb_setting: LocalityLoadBalancerSetting | None = None
    warmup_duration_secs: Duration | None = None
    warmup: WarmupConfiguration | None = None

    @model_validator(mode="after")
    def _simple_or_hash(self) -> Self:
        if self.simple is not None and self.consistent_hash is not None:
            raise ValueError("loadBalancer takes simple or consistentHash, not both; keep one")
        return self


class TcpKeepalive(IstioModel):
    probes: int | None = None
    time: Duration | None = None
    interval: Duration | None = None


class TCPSettings(IstioModel):
    max_connections: int | None = None
    connect_timeout: Duration | None = None
    tcp_keepalive: TcpKeepalive | None = None
    max_connection_duration: Duration | None = None
    idle_timeout: Duration | None = None


class HTTPSettings(IstioModel):
    http1_max_pending_requests: int | None = None
    http2_max_requests: int | None = None
    max_requests_per_connection: int | None = None
    max_retries: int | None = None
    idle_timeout: Duration | None = None
    h2_upgrade_policy: Literal["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"] | None = None
    use_client_protocol: bool | None = None
    max_concurrent_streams: int | None = None


class ConnectionPoolSettings(IstioModel):
    tcp: TCPSettings | None = None
    http: HTTPSettings | None = None


class OutlierDetection(IstioModel):
    split_external_local_origin_errors: bool | None = None
    consecutive_local_origin_failures: int | None = Field(default=None, ge=0)
    # UInt32Value on the wire: a negative number does not unmarshal.
    consecutive_gateway_errors: int | None = Field(default=None, ge=0)
    consecutive_5xx_errors: int | None = Field(default=None, ge=0, alias="consecutive5xxErrors")
    consecutive_errors: int | None = None
    interval: Duration | None = None
    base_ejection_time: Duration | None = None
    max_ejection_percent: int | None = None
    min_health_percent: int | None = None


class ClientTLSSettings(IstioModel):
    mode: Literal["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"] | None = None
    client_certificate: str | None = None
    private_key: str | None = None
    ca_certificates: str | None = None
    credential_name: str | None = None
    subject_alt_names: list[str] | None = None
    sni: str | None = None
    insecure_skip_verify: bool | None = None
    ca_crl: str | None = None


class RetryBudget(IstioModel):
    percent: float | None = None
    min_retry_concurrency: int | None = None


class PortTrafficPolicy(IstioModel):
    port: PortSelector | None = None
    load_balancer: LoadBalancerSettings | None = None
    connection_pool: ConnectionPoolSettings | None = None
    outlier_detection: OutlierDetection | None = None
    tls: ClientTLSSettings | None = None


class TrafficPolicy(IstioModel):
    load_balancer: LoadBalancerSettings | None = None
    connection_pool: ConnectionPoolSettings | None = None
    outlier_detection: OutlierDetection | None = None
    tls: ClientTLSSettings | None = None
    port_level_settings: list[PortTrafficPolicy] | None = None
    retry_budget: RetryBudget | None = None


class Subset(IstioModel):
    name: str = ""
    labels: dict[str, str] | None = None
    traffic_policy: TrafficPolicy | None = None


class DestinationRuleSpec(IstioModel):
    host: str = ""
    traffic_policy: TrafficPolicy | None = None
    subsets: list[Subset] | None = None
    export_to: list[str] | None = None
    workload_selector: WorkloadSelector | None = None


__all__ = [
    "ClientTLSSettings",
    "ConnectionPoolSettings",
    "ConsistentHashLB",
    "DestinationRuleSpec",
    "HTTPCookie",
    "HTTPSettings",
    "LoadBalancerSettings",
    "OutlierDetection",
    "PortTrafficPolicy",
    "Subset",
    "TCPSettings",
    "TrafficPolicy",
]
