"""A pod's ports on 127.0.0.1 in port mode, as its pod object carries them.

In port mode every pod of the embedded mesh has podIP 127.0.0.1 and its own ports, as
``hostNetwork: true`` pods share their node's IP and each listen on ports of their own. The
pod object says where each of its ports went in one annotation, so any reader of pod objects
(the CLI's ``proxy-config``, the experiment backend) finds a pod's admin or app port.
"""

from __future__ import annotations

import json
from typing import Any

HOST_PORTS_ANNOTATION = "chaoskit.dev/ports"  # {"15000": 16001, "9080": 16002}
ADMIN_PORT = 15000  # Envoy's admin port in Istio's proxies


def host_ports(pod: dict[str, Any]) -> dict[int, int]:
    """Pod port → port on 127.0.0.1 (empty in ip mode: every port is the pod's own)."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(HOST_PORTS_ANNOTATION)
    if not text:
        return {}
    return {int(k): int(v) for k, v in json.loads(text).items()}


def pod_address(pod: dict[str, Any], port: int) -> str:
    """``podIP:port`` where the pod's ``port`` is reached (its mapped port in port mode)."""
    ip = (pod.get("status") or {}).get("podIP", "")
    return f"{ip}:{host_ports(pod).get(port, port)}"


def admin_address(pod: dict[str, Any]) -> str:
    """``podIP:port`` of the pod's Envoy admin endpoint."""
    return pod_address(pod, ADMIN_PORT)
