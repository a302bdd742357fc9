"""Gateway rules: ValidateGateway, validateServer and validateTLSOptions (validation.go)."""

from __future__ import annotations

from chaoskit.istio.gateway import GatewaySpec, Server, ServerTLSSettings
from chaoskit.istio.validation.fields import (
    DNS1123_LABEL,
    PROTOCOLS,
    check_port,
    is_ip,
    wildcard_domain_error,
)
from chaoskit.istio.validation.findings import Finding, Findings, go_quote

_HTTP_PROTOCOLS = frozenset({"http", "http2", "http_proxy", "grpc", "grpc-web"})
_TLS_PROTOCOLS = frozenset({"https", "tls"})


def validate_gateway(spec: GatewaySpec, name: str = "") -> list[Finding]:
    out = Findings()
    if name and (len(name) > 63 or not DNS1123_LABEL.match(name)):
        out.error(
            "metadata.name",
            f"invalid gateway name: {go_quote(name)}",
            "Gateway names are DNS labels (no dots), e.g. 'bookinfo-gateway'",
        )
    if not spec.servers:
        out.error("spec.servers", "gateway must have at least one server", "add a server")
    for i, server in enumerate(spec.servers):
        _server(out, f"spec.servers[{i}]", server)
    names: set[str] = set()
    for i, server in enumerate(spec.servers):
        if server.port is None:
            continue
        if server.port.name in names:
            out.error(
                f"spec.servers[{i}].port.name",
                f"port names in servers must be unique: duplicate name {server.port.name}",
                "give each server port its own name",
            )
        names.add(server.port.name)
        if server.port.protocol.lower() not in _HTTP_PROTOCOLS and (
            server.tls is not None and server.tls.https_redirect
        ):
            out.warn(
                f"spec.servers[{i}].tls.httpsRedirect",
                "tls.httpsRedirect should only be used with http servers",
                "move httpsRedirect to the HTTP server",
            )
    return out.items


def _gateway_host(out: Findings, path: str, host: str) -> None:
    # agent.ValidateNamespaceSlashWildcardHostname(host, isGateway=true)
    namespace, slash, name = host.partition("/")
    if not slash:
        namespace, name = "", host
    else:
        if not namespace or not name:
            out.error(
                path,
                "config namespace and dnsName in host entry cannot be empty",
                "write 'namespace/host' or just 'host'",
            )
        if namespace not in ("*", ".") and not DNS1123_LABEL.match(namespace):
            out.error(
                path,
                f"invalid namespace value {go_quote(namespace)} in gateway",
                "use a namespace name",
            )
    if name != "*" and "." not in name:
        out.error(
            path,
            "short names (non FQDN) are not allowed",
            f"Gateway hosts are FQDNs or wildcards, e.g. '{name}.example.com' or '*'",
        )
    err = wildcard_domain_error(name)
    if err is not None and not is_ip(name):
        out.error(path, err, "use an FQDN such as 'shop.example.com', '*.example.com' or '*'")
    if "*" in name and len(name) != 1 and not name.startswith("*."):
        out.error(
            path, f"partial wildcard {go_quote(name)} not allowed", "use '*.example.com' or '*'"
        )


def _server(out: Findings, path: str, server: Server) -> None:
    # validateServer, validateServerPort, validateServerBind, validateTLSOptions
    if not server.hosts:
        out.error(
            f"{path}.hosts",
            "server config must contain at least one host",
            "add 'hosts: [\"*\"]' or the names this server serves",
        )
    for i, host in enumerate(server.hosts):
        _gateway_host(out, f"{path}.hosts[{i}]", host)
    port_ok = server.port is not None
    if server.port is None:
        out.error(
            f"{path}.port",
            "port is required",
            "add 'port: {number: 80, name: http, protocol: HTTP}'",
        )
    else:
        port = server.port
        protocol = port.protocol.lower()
        if protocol not in PROTOCOLS:
            port_ok = False
            out.error(
                f"{path}.port.protocol",
                f"invalid protocol {go_quote(port.protocol)}, supported protocols are HTTP, HTTP2, "
                "GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP",
                "use HTTP, HTTPS, HTTP2, GRPC, TCP or TLS",
            )
        if port.number > 0 or not (server.bind or "").startswith("unix://"):
            if not 1 <= port.number <= 65535:
                port_ok = False
            check_port(out, f"{path}.port.number", port.number)
        if port.target_port:
            port_ok = False
            out.error(
                f"{path}.port.targetPort",
                "targetPort has no impact on Gateways",
                "remove targetPort; the gateway listens on 'number' (its pod port)",
            )
        if not port.name:
            port_ok = False
            out.error(
                f"{path}.port.name",
                f"port name must be set: number:{port.number} protocol:{go_quote(port.protocol)}",
                "name the port, e.g. 'name: http'",
            )
    if server.bind:
        if server.bind.startswith("unix://"):
            if server.port is not None and server.port.number != 0:
                out.error(
                    f"{path}.port.number",
                    "port number must be 0 for unix domain socket",
                    "use port number 0 with a unix:// bind",
                )
        elif not is_ip(server.bind):
            out.error(f"{path}.bind", f"{server.bind} is not a valid IP", "use an IP address")
    _server_tls(out, f"{path}.tls", server.tls)
    if port_ok and server.port is not None:
        protocol = server.port.protocol.lower()
        if protocol in _TLS_PROTOCOLS and server.tls is None:
            out.error(
                f"{path}.tls",
                "server must have TLS settings for HTTPS/TLS protocols",
                "add 'tls: {mode: SIMPLE, credentialName: <secret>}'",
            )
        elif protocol not in _TLS_PROTOCOLS and server.tls is not None:
            tls = server.tls
            if protocol in _HTTP_PROTOCOLS:
                passthrough = (tls.mode or "PASSTHROUGH") in ("PASSTHROUGH", "AUTO_PASSTHROUGH")
                if (
                    not passthrough
                    or tls.ca_certificates
                    or tls.private_key
                    or tls.server_certificate
                ):
                    out.error(
                        f"{path}.tls",
                        "server cannot have TLS settings for plain text HTTP ports",
                        "use protocol HTTPS for TLS, or keep only 'httpsRedirect: true'",
                    )
            else:
                out.error(
                    f"{path}.tls",
                    "server cannot have TLS settings for non HTTPS/TLS ports",
                    "use protocol HTTPS or TLS, or remove tls",
                )


def _server_tls(out: Findings, path: str, tls: ServerTLSSettings | None) -> None:
    # validateTLSOptions. An unset mode is PASSTHROUGH (the enum's zero value).
    if tls is None:
        return
    mode = tls.mode or "PASSTHROUGH"
    if tls.min_protocol_version in ("TLSV1_0", "TLSV1_1") and not tls.cipher_suites:
        out.warn(
            f"{path}.minProtocolVersion",
            "TLS version below TLSV1_2 require setting compatible ciphers as by default they no "
            "longer include compatible ciphers.",
            "add cipherSuites, or use TLSV1_2",
        )
    suites = tls.cipher_suites or []
    duplicates = sorted({s for s in suites if suites.count(s) > 1})
    if duplicates:
        out.warn(
            f"{path}.cipherSuites",
            f"ignoring duplicate cipher suites: [{' '.join(duplicates)}]",
            "list each suite once",
        )
    certs = tls.server_certificate or tls.private_key or tls.ca_certificates
    if mode == "ISTIO_MUTUAL":
        for present, what in (
            (tls.server_certificate, "server certificate"),
            (tls.private_key, "private key"),
            (tls.ca_certificates, "CA bundle"),
            (tls.credential_name, "credentialName"),
            (tls.credential_names, "credentialNames"),
        ):
            if present:
                out.error(
                    path,
                    f"ISTIO_MUTUAL TLS cannot have associated {what}",
                    "ISTIO_MUTUAL uses the mesh's certificates; remove it",
                )
        return
    if mode in ("PASSTHROUGH", "AUTO_PASSTHROUGH") and (
        certs or tls.ca_crl or tls.credential_name or tls.credential_names
    ):
        out.warn(
            path,
            f"{mode} mode does not use certificates, they will be ignored",
            "set 'mode: SIMPLE' to terminate TLS with them, or remove them",
        )
    sources = sum(
        bool(x)
        for x in (
            tls.server_certificate and tls.private_key,
            tls.credential_name,
            tls.credential_names,
        )
    )
    if sources > 1:
        out.error(
            path,
            "only one of credential_name, credential_names, server_certificate/private_key, "
            "tls_certificates should be specified",
            "keep one certificate source",
        )
    terminating = mode in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL")
    if terminating and (tls.credential_name or tls.credential_names):
        return  # the certificates come from the Secret
    if terminating:
        prefix = "SIMPLE TLS" if mode == "SIMPLE" else "MUTUAL TLS"
        if mode != "SIMPLE" and not tls.ca_certificates:
            out.error(path, f"{prefix} requires a client CA bundle", "add caCertificates")
        if not tls.server_certificate:
            out.error(
                path,
                f"{prefix} requires a server certificate",
                "name a TLS Secret with 'credentialName: <secret>' (or give serverCertificate "
                "and privateKey file paths)",
            )
        if not tls.private_key:
            out.error(
                path,
                f"{prefix} requires a private key",
                "name a TLS Secret with 'credentialName: <secret>' (or give privateKey)",
            )
    if tls.ca_crl:
        if tls.credential_name:
            out.error(
                path,
                "CRL is not supported with credentialName. CRL has to be specified in the "
                "credential",
                "put the CRL in the Secret",
            )
        if mode == "SIMPLE":
            out.error(path, "CRL is not supported with SIMPLE TLS", "remove caCrl")
