"""Gateway (networking.istio.io): the edge proxy's listeners, hosts and TLS."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chaoskit.istio._base import IstioModel

Protocol = Literal["HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "MONGO", "TCP", "TLS"]
TLSMode = Literal[
    "PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"
]


class Port(IstioModel):
    number: int = 0
    protocol: str = ""
    name: str = ""
    target_port: int | None = None


class ServerTLSSettings(IstioModel):
    https_redirect: bool | None = None
    mode: TLSMode | None = None
    server_certificate: str | None = None
    private_key: str | None = None
    ca_certificates: str | None = None
    ca_crl: str | None = None
    credential_name: str | None = None
    credential_names: list[str] | None = None
    subject_alt_names: list[str] | None = None
    verify_certificate_spki: list[str] | None = None
    verify_certificate_hash: list[str] | None = None
    min_protocol_version: str | None = None
    max_protocol_version: str | None = None
    cipher_suites: list[str] | None = None


class Server(IstioModel):
    port: Port | None = None
    bind: str | None = None
    hosts: list[str] = Field(default_factory=list)
    tls: ServerTLSSettings | None = None
    default_endpoint: str | None = None
    name: str | None = None


class GatewaySpec(IstioModel):
    servers: list[Server] = Field(default_factory=list)
    selector: dict[str, str] | None = None


__all__ = ["GatewaySpec", "Port", "Protocol", "Server", "ServerTLSSettings", "TLSMode"]
