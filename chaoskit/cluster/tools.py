"""Find the command-line tools a kind cluster needs; say how to install a missing one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass

from chaoskit.cluster import pins
from chaoskit.errors import BackendError


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    purpose: str
    install: str


TOOLS: dict[str, Tool] = {
    "docker": Tool(
        "docker",
        "kind runs the cluster's node as a container",
        "install Docker Engine (https://docs.docker.com/engine/install/) and start it",
    ),
    "kind": Tool(
        "kind",
        "creates and deletes the cluster",
        f"go install sigs.k8s.io/kind@{pins.KIND_VERSION}  "
        f"(or: curl -Lo kind https://kind.sigs.k8s.io/dl/{pins.KIND_VERSION}/kind-linux-amd64 "
        "&& chmod +x kind && sudo mv kind /usr/local/bin/)",
    ),
    "kubectl": Tool(
        "kubectl",
        "applies the manifests and waits for rollouts",
        f"curl -LO https://dl.k8s.io/release/{pins.KUBECTL_VERSION}/bin/linux/amd64/kubectl "
        "&& chmod +x kubectl && sudo mv kubectl /usr/local/bin/",
    ),
}


def istioctl() -> Tool:
    """istioctl at the selected release (pins.istio_version(), read when asked)."""
    version = pins.istio_version()
    return Tool(
        "istioctl",
        "installs Istio",
        f"curl -sL https://istio.io/downloadIstio | ISTIO_VERSION={version} sh - "
        f'&& export PATH="$PWD/istio-{version}/bin:$PATH"',
    )


def known(name: str) -> Tool:
    if name == "istioctl":
        return istioctl()
    return TOOLS.get(name, Tool(name, "needed", f"install {name}"))


class MissingTool(BackendError):
    """A command-line tool is not on PATH; the message says how to install it."""

    def __init__(self, missing: list[Tool]) -> None:
        self.missing = missing
        lines = [f"{'a required tool is' if len(missing) == 1 else 'required tools are'} missing:"]
        for tool in missing:
            lines.append(f"  {tool.name} ({tool.purpose}) is not on PATH; install it with:")
            lines.append(f"    {tool.install}")
        super().__init__("\n".join(lines))


def find(names: Iterable[str], path: str | None = None) -> dict[str, str]:
    """The full path of each tool; every missing one is named in one :class:`MissingTool`."""
    search = path if path is not None else os.environ.get("PATH", "")
    found: dict[str, str] = {}
    missing: list[Tool] = []
    for name in names:
        location = shutil.which(name, path=search)
        if location is None:
            missing.append(known(name))
        else:
            found[name] = location
    if missing:
        raise MissingTool(missing)
    return found
