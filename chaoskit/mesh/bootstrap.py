"""What a pod process is told at start: who it is, what it runs, where the control plane is.

The control plane writes one JSON file per pod (like Envoy's bootstrap plus the pod spec);
the pod reads it and then takes all further configuration from the push channel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoskit.mesh.codec import from_jsonable, to_jsonable

ADMIN_PORT = 15000  # Envoy's admin port in Istio sidecars


@dataclass(frozen=True, slots=True)
class HostPort:
    """A port on 127.0.0.1 that forwards to a listener of this pod (kind's port mapping)."""

    host_port: int
    listener_port: int


@dataclass(frozen=True, slots=True)
class Bootstrap:
    pod: str
    namespace: str
    ip: str
    kind: str  # sidecar | gateway | ambient | waypoint | ztunnel
    labels: tuple[tuple[str, str], ...]
    app: str
    app_settings: dict[str, Any]
    container_ports: tuple[int, ...]
    xds_address: tuple[str, int]
    token: str
    log_dir: str
    env: dict[str, str] = field(default_factory=dict)
    host_ports: tuple[HostPort, ...] = ()
    seed: int = 0
    admin_port: int = ADMIN_PORT
    tick_interval_s: float = 0.05  # how often outlier detectors check their interval
    # An ambient pod's outbound connections go to the node's ztunnel (its redirect target).
    ztunnel: tuple[str, int] | None = None
    # Envoy's bootstrap stats_config.stats_matcher, as pilot-agent writes it from the mesh
    # config: /stats leaves out what it rejects; the admin config_dump serves it.
    stats_matcher: dict[str, Any] = field(default_factory=dict)
    # Port mode (every pod on 127.0.0.1): the pod's ports → the ports it binds instead.
    port_map: tuple[tuple[int, int], ...] = ()
    # The address consistent hashing on the source IP hashes for this pod's own calls: its
    # IP, or in port mode (every pod 127.0.0.1) a per-pod stand-in (docs/decisions.md).
    source_key: str = ""

    def listen_port(self, port: int) -> int:
        """Where the pod binds its ``port``: the port itself, or in port mode its mapped
        port (0, any free one, for a port no Service targets: nothing routes to it)."""
        if not self.port_map:
            return port
        return dict(self.port_map).get(port, 0)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(to_jsonable(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Bootstrap:
        return from_jsonable(cls, json.loads(path.read_text(encoding="utf-8")))
