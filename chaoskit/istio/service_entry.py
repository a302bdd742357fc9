"""ServiceEntry (networking.istio.io): hosts added to the mesh's service registry."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chaoskit.istio._base import IstioModel
from chaoskit.istio.gateway import Port


class ServiceEntryWorkloadSelector(IstioModel):
    """networking.v1alpha3.WorkloadSelector (istio/api ``sidecar.proto``): a ``labels`` map.

    Not the ``matchLabels`` of ``istio.type.v1beta1.WorkloadSelector`` that a
    DestinationRule's ``workloadSelector`` uses (``destination_rule.proto``).
    """

    labels: dict[str, str] = Field(default_factory=dict)


class WorkloadEntrySpec(IstioModel):
    address: str | None = None
    ports: dict[str, int] | None = None
    labels: dict[str, str] | None = None
    network: str | None = None
    locality: str | None = None
    weight: int | None = None
    service_account: str | None = None


class ServiceEntrySpec(IstioModel):
    hosts: list[str] = Field(default_factory=list)
    addresses: list[str] | None = None
    ports: list[Port] | None = None
    location: Literal["MESH_EXTERNAL", "MESH_INTERNAL"] | None = None
    resolution: Literal["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"] | None = None
    endpoints: list[WorkloadEntrySpec] | None = None
    workload_selector: ServiceEntryWorkloadSelector | None = None
    export_to: list[str] | None = None
    subject_alt_names: list[str] | None = None


__all__ = ["ServiceEntrySpec", "ServiceEntryWorkloadSelector", "WorkloadEntrySpec"]
