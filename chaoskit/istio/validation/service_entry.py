"""ServiceEntry rules: ValidateServiceEntry (validation.go), the parts chaoskit models."""

from __future__ import annotations

from chaoskit.istio.service_entry import ServiceEntrySpec
from chaoskit.istio.validation.fields import (
    DNS1123_LABEL,
    HOST_FIX,
    PROTOCOLS,
    check_port,
    check_workload_selector,
    wildcard_domain_error,
)
from chaoskit.istio.validation.findings import Finding, Findings, go_quote


def validate_service_entry(spec: ServiceEntrySpec) -> list[Finding]:
    out = Findings()
    if spec.workload_selector is not None:
        check_workload_selector(
            out,
            "spec.workloadSelector",
            spec.workload_selector.labels,
            without_labels="service entry: workload selector specified without labels, will be "
            "applied to all services in namespace",
        )
        if any(f.level == "Error" for f in out.items):
            return out.items  # ValidateServiceEntry stops at a bad selector
    if spec.workload_selector is not None and spec.endpoints is not None:
        out.error(
            "spec.endpoints",
            "only one of WorkloadSelector or Endpoints is allowed in Service Entry",
            "keep endpoints or workloadSelector",
        )
    if not spec.hosts:
        out.error(
            "spec.hosts", "service entry must have at least one host", "add the external host"
        )
    for i, host in enumerate(spec.hosts):
        if host == "*":
            out.error(f"spec.hosts[{i}]", f"invalid host {host}", "name the host")
        elif (err := wildcard_domain_error(host)) is not None:
            out.error(f"spec.hosts[{i}]", err, HOST_FIX)
    names: set[str] = set()
    numbers: set[int] = set()
    for i, port in enumerate(spec.ports or []):
        where = f"spec.ports[{i}]"
        if port.name in names:
            out.error(
                f"{where}.name",
                f"service entry port name {go_quote(port.name)} already defined",
                "give each port its own name",
            )
        if port.number in numbers:
            out.error(
                f"{where}.number",
                f"service entry port {port.number} already defined",
                "list each port once",
            )
        names.add(port.name)
        numbers.add(port.number)
        if port.target_port:
            check_port(out, f"{where}.targetPort", port.target_port)
        if not DNS1123_LABEL.match(port.name):
            out.error(f"{where}.name", f"invalid port name: {port.name}", "e.g. 'http' or 'https'")
        if port.protocol and port.protocol.lower() not in PROTOCOLS:
            out.error(
                f"{where}.protocol", f"unsupported protocol: {port.protocol}", "e.g. HTTP or TLS"
            )
        check_port(out, f"{where}.number", port.number)
    # An unset resolution is NONE, the enum's zero value.
    resolution = spec.resolution or "NONE"
    if resolution == "NONE" and spec.endpoints:
        out.error(
            "spec.endpoints",
            "no endpoints should be provided for resolution type none",
            "remove endpoints or choose resolution STATIC or DNS",
        )
    if resolution == "NONE" and spec.workload_selector is not None:
        out.warn(
            "spec.workloadSelector",
            "workloadSelector should not be set when resolution mode is NONE",
            "use resolution STATIC to send traffic to the selected workloads",
        )
    return out.items
